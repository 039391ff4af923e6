//! What the catalog subcommands (`check`, `list`, `show`, `options`) share: loading the catalog once, paths
//! shown relative to the current directory, and a buffered stdout that tolerates a closed pipe.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::catalog::{Diagnostic, Loaded, Package, load};
use crate::search::did_you_mean;

/// The loaded catalog for one command. It is leaked on purpose: the process exits right after the
/// command, and freeing 10k packages one allocation at a time cost 7% of `atwb list` (measured).
pub fn load_catalog(root: &Path) -> Result<&'static Loaded> {
    let loaded =
        load(root).with_context(|| format!("loading the catalog at {}", root.display()))?;
    Ok(Box::leak(Box::new(loaded)))
}

/// `path` relative to the current directory when it is below it, so editors and terminals can
/// jump to `file:line:col`.
pub fn shown_path(path: &Path) -> String {
    static CWD: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let rel = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok());
    rel.unwrap_or(path).display().to_string()
}

/// Run `body` on a buffered stdout; a closed pipe (`atwb list | head`) is not an error.
pub fn with_stdout(body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match body(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

pub fn write_diagnostic(out: &mut dyn Write, d: &Diagnostic) -> io::Result<()> {
    writeln!(out, "{}", d.display_with_file(&shown_path(&d.file)))
}

/// The valid package `name`. A package with errors is reported on stderr with its diagnostics
/// (Ok(None): the caller exits 1); an unknown name is an error with a did-you-mean.
pub fn find_package<'a>(loaded: &'a Loaded, name: &str) -> Result<Option<&'a Package>> {
    if let Some(p) = loaded.catalog.get(name) {
        return Ok(Some(p));
    }
    // A package with errors is not in the catalog: say so instead of "not found".
    let own: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| {
            d.file
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|f| f == name)
        })
        .collect();
    if !own.is_empty() {
        let mut err = io::stderr().lock();
        writeln!(err, "atwb: package `{name}` has errors and was not loaded:")?;
        for d in own {
            write_diagnostic(&mut err, d)?;
        }
        return Ok(None);
    }
    let names = loaded.catalog.packages.iter().map(|p| p.name.as_str());
    match did_you_mean(name, names) {
        Some(m) => bail!("no package named `{name}`; did you mean `{m}`?"),
        None => bail!("no package named `{name}` (run `atwb list` to see them all)"),
    }
}
