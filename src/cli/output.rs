//! What the catalog subcommands (`check`, `list`, `show`) share: loading the catalog once, paths
//! shown relative to the current directory, and a buffered stdout that tolerates a closed pipe.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::catalog::{Diagnostic, Loaded, load};

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
