//! `atwb check`, `atwb list` and `atwb show`: the catalog from the command line, readable or as
//! JSON for scripts and CI.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::load::{Diagnostic, Loaded, load};
use super::model::{Package, Service, Tier};
use super::validate::rules::did_you_mean;

/// The loaded catalog for one command. It is leaked on purpose: the process exits right after the
/// command, and freeing 10k packages one allocation at a time cost 7% of `atwb list` (measured).
fn load_catalog(root: &Path) -> Result<&'static Loaded> {
    let loaded =
        load(root).with_context(|| format!("loading the catalog at {}", root.display()))?;
    Ok(Box::leak(Box::new(loaded)))
}

/// `path` relative to the current directory when it is below it, so editors and terminals can
/// jump to `file:line:col`.
fn shown_path(path: &Path) -> String {
    static CWD: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let rel = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok());
    rel.unwrap_or(path).display().to_string()
}

/// Run `body` on a buffered stdout; a closed pipe (`atwb list | head`) is not an error.
fn with_stdout(body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match body(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: String,
    line: usize,
    column: usize,
    field: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            file: shown_path(&d.file),
            line: d.line,
            column: d.column,
            field: &d.field,
            message: &d.message,
            hint: d.hint.as_deref(),
        }
    }
}

fn write_diagnostic(out: &mut dyn Write, d: &Diagnostic) -> io::Result<()> {
    writeln!(out, "{}", d.display_with_file(&shown_path(&d.file)))
}

/// `atwb check [--json]`: every diagnostic; exit 1 when there is any.
pub fn check(root: &Path, json: bool) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    let ok = loaded.diagnostics.is_empty();
    let bad_files: BTreeSet<&Path> = loaded
        .diagnostics
        .iter()
        .map(|d| d.file.as_path())
        .collect();
    with_stdout(|out| {
        if json {
            #[derive(Serialize)]
            struct Report<'a> {
                ok: bool,
                packages: usize,
                invalid_files: usize,
                diagnostics: Vec<JsonDiagnostic<'a>>,
            }
            let report = Report {
                ok,
                packages: loaded.catalog.packages.len(),
                invalid_files: bad_files.len(),
                diagnostics: loaded
                    .diagnostics
                    .iter()
                    .map(JsonDiagnostic::from)
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            return writeln!(out);
        }
        for d in &loaded.diagnostics {
            write_diagnostic(out, d)?;
        }
        let n = loaded.catalog.packages.len();
        if ok {
            writeln!(out, "ok: {n} packages, no problems")
        } else {
            let problems = loaded.diagnostics.len();
            let files = bad_files.len();
            writeln!(
                out,
                "{problems} problem(s) in {files} file(s); {n} valid package(s) loaded"
            )
        }
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One row of `atwb list --json`.
#[derive(Serialize)]
struct ListItem<'a> {
    name: &'a str,
    org: &'a str,
    tier: Tier,
    category: &'a str,
    version: &'a str,
    description: &'a str,
    homepage: &'a str,
    license: &'a [String],
    language: &'a str,
    builder: &'a str,
    workspace: Option<&'a str>,
    source: String,
    verified: bool,
    deps_hash_known: bool,
    /// Service names (`services.atproto.<name>`).
    services: Vec<&'a str>,
    /// The design's `meta.atproto.services` roles (pds, relay, ...).
    roles: &'a [String],
    dir: String,
}

impl<'a> From<&'a Package> for ListItem<'a> {
    fn from(p: &'a Package) -> Self {
        ListItem {
            name: &p.name,
            org: &p.org,
            tier: p.tier,
            category: p.category.as_str(),
            version: &p.version,
            description: &p.description,
            homepage: &p.homepage,
            license: &p.license,
            language: &p.build.language,
            builder: p.build.builder.as_str(),
            workspace: p.build.workspace.as_deref(),
            source: p.source.short(),
            verified: p.source.verified,
            deps_hash_known: matches!(p.build.deps_hash, super::model::DepsHash::Known(_)),
            services: p.services.keys().map(String::as_str).collect(),
            roles: &p.atproto.services,
            dir: shown_path(&p.dir),
        }
    }
}

/// What `atwb list` selects.
pub struct ListQuery<'a> {
    pub tier: Option<u8>,
    pub org: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub json: bool,
}

/// `atwb list`: packages in catalog order, or best match first with `--filter`.
pub fn list(root: &Path, q: &ListQuery<'_>) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    let catalog = &loaded.catalog;
    let tier = q
        .tier
        .map(Tier::try_from)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let Some(org) = q.org
        && !catalog.orgs().contains(&org)
    {
        let hint = did_you_mean(org, catalog.orgs())
            .map(|m| format!("; did you mean `{m}`?"))
            .unwrap_or_default();
        bail!(
            "no org `{org}` in the catalog{hint} (orgs: {})",
            catalog.orgs().join(", ")
        );
    }
    // Rank the whole catalog, then keep the tier/org selection: no package is copied.
    let selected =
        |p: &&Package| tier.is_none_or(|t| p.tier == t) && q.org.is_none_or(|o| p.org == o);
    let shown: Vec<&Package> = match q.filter {
        Some(query) => crate::search::rank(&catalog.packages, query)
            .into_iter()
            .map(|(i, _)| &catalog.packages[i])
            .filter(selected)
            .collect(),
        None => catalog.packages.iter().filter(selected).collect(),
    };
    if !loaded.diagnostics.is_empty() {
        let files: BTreeSet<&Path> = loaded
            .diagnostics
            .iter()
            .map(|d| d.file.as_path())
            .collect();
        eprintln!(
            "atwb: {} package file(s) have errors and are not listed; run `atwb check`",
            files.len()
        );
    }
    with_stdout(|out| {
        if q.json {
            let items: Vec<ListItem<'_>> = shown.iter().map(|p| ListItem::from(*p)).collect();
            serde_json::to_writer_pretty(&mut *out, &items)?;
            return writeln!(out);
        }
        write_table(out, &shown)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn terminal_width() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size().ok().map(|(w, _)| w as usize)
}

fn write_table(out: &mut dyn Write, packages: &[&Package]) -> io::Result<()> {
    let header = ["TIER", "ORG", "NAME", "VERSION", "DESCRIPTION"];
    let rows: Vec<[String; 5]> = packages
        .iter()
        .map(|p| {
            let mark = if p.source.verified {
                ""
            } else {
                " (unverified pin)"
            };
            [
                p.tier.to_string(),
                p.org.clone(),
                p.name.clone(),
                p.version.clone(),
                format!("{}{mark}", p.description),
            ]
        })
        .collect();
    // The first four columns are sized to their content (capped so one long name cannot push the
    // description off screen); the description takes what is left of the terminal.
    let caps = [4, 24, 32, 32];
    let mut widths = [0usize; 4];
    for (i, w) in widths.iter_mut().enumerate() {
        let longest = rows
            .iter()
            .map(|r| r[i].width())
            .chain([header[i].width()])
            .max()
            .unwrap_or(0);
        *w = longest.min(caps[i]);
    }
    let limit = terminal_width();
    let mut line = |cells: [&str; 5]| -> io::Result<()> {
        let mut s = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            let cell = truncate(cell, w);
            s.push_str(&cell);
            s.push_str(&" ".repeat(w - cell.width() + 2));
        }
        s.push_str(cells[4]);
        let s = match limit {
            Some(l) => truncate(&s, l),
            None => s,
        };
        writeln!(out, "{}", s.trim_end())
    };
    line(header)?;
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]])?;
    }
    Ok(())
}

/// Cut `s` to at most `width` display columns, marking the cut with `…`.
fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `atwb show NAME`: everything about one package.
pub fn show(root: &Path, name: &str, json: bool) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    let Some(p) = loaded.catalog.get(name) else {
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
            return Ok(ExitCode::from(1));
        }
        let names = loaded.catalog.packages.iter().map(|p| p.name.as_str());
        match did_you_mean(name, names) {
            Some(m) => bail!("no package named `{name}`; did you mean `{m}`?"),
            None => bail!("no package named `{name}` (run `atwb list` to see them all)"),
        }
    };
    with_stdout(|out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, p)?;
            return writeln!(out);
        }
        write_package(out, p)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn write_package(out: &mut dyn Write, p: &Package) -> io::Result<()> {
    let tier = p.tier;
    writeln!(out, "{} {}", p.name, p.version)?;
    writeln!(out, "{}", p.description)?;
    writeln!(
        out,
        "org {} · tier {} ({}) · {}",
        p.org,
        tier,
        tier.label(),
        p.category.as_str()
    )?;
    if !p.long_description.trim().is_empty() {
        writeln!(out)?;
        for l in p.long_description.trim().lines() {
            writeln!(out, "  {l}")?;
        }
    }
    writeln!(out)?;
    let field = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<14}{v}");
    field(out, "homepage", &p.homepage)?;
    field(out, "license", &p.license.join(", "))?;
    if !p.maintainers.is_empty() {
        field(out, "maintainers", &p.maintainers.join(", "))?;
    }
    if !p.platforms.is_empty() {
        field(out, "platforms", &p.platforms.join(", "))?;
    }
    if let Some(m) = &p.main_program {
        field(out, "main program", m)?;
    }
    let x = &p.extra_files;
    let files: Vec<&str> = [
        ("package.toml", true),
        ("package.nix", x.package_nix),
        ("module.nix", x.module_nix),
        ("test.nix", x.test_nix),
    ]
    .into_iter()
    .filter_map(|(f, present)| present.then_some(f))
    .collect();
    field(
        out,
        "files",
        &format!("{}/ ({})", shown_path(&p.dir), files.join(", ")),
    )?;

    let s = &p.source;
    writeln!(out, "\nsource")?;
    field(out, "from", &s.short())?;
    if let Some(url) = s.git_url() {
        field(out, "git url", &url)?;
    }
    field(out, "rev", &s.rev)?;
    field(out, "hash", &s.hash)?;
    field(out, "submodules", yes_no(s.submodules))?;
    let verified = if s.verified {
        "yes (computed here from upstream content)"
    } else {
        "no (copied; see provenance)"
    };
    field(out, "verified", verified)?;
    field(out, "provenance", &s.provenance)?;

    let b = &p.build;
    writeln!(out, "\nbuild")?;
    field(
        out,
        "builder",
        &format!("{} ({})", b.builder.as_str(), b.language),
    )?;
    if let Some(w) = &b.workspace {
        field(out, "workspace", w)?;
    }
    for (k, v) in [
        ("members", &b.members),
        ("sub packages", &b.sub_packages),
        ("workspaces", &b.workspaces),
    ] {
        if !v.is_empty() {
            field(out, k, &v.join(", "))?;
        }
    }
    if let Some(r) = &b.source_root {
        field(out, "source root", r)?;
    }
    let deps = match &b.deps_hash {
        super::model::DepsHash::Known(h) => format!("{h} ({})", b.builder.deps_hash_nix_name()),
        super::model::DepsHash::Unknown => {
            format!(
                "unknown ({} is lib.fakeHash until a build reports it)",
                b.builder.deps_hash_nix_name()
            )
        }
    };
    field(out, "deps hash", &deps)?;
    for (k, v) in [
        ("build inputs", &b.build_inputs),
        ("native inputs", &b.native_build_inputs),
    ] {
        if !v.is_empty() {
            field(out, k, &v.join(", "))?;
        }
    }
    for (k, v) in &b.env {
        field(out, "env", &format!("{k}={v}"))?;
    }

    let a = &p.atproto;
    if !(a.services.is_empty() && a.protocols.is_empty() && a.dependencies.is_empty()) {
        writeln!(out, "\natproto")?;
        for (k, v) in [
            ("roles", &a.services),
            ("protocols", &a.protocols),
            ("dependencies", &a.dependencies),
        ] {
            if !v.is_empty() {
                field(out, k, &v.join(", "))?;
            }
        }
    }
    for svc in p.services.values() {
        write_service(out, svc)?;
    }
    Ok(())
}

fn write_service(out: &mut dyn Write, svc: &Service) -> io::Result<()> {
    writeln!(
        out,
        "\nservice {} (services.atproto.{})",
        svc.name, svc.name
    )?;
    let field = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "  {k:<14}{v}");
    field(out, "exec", &svc.exec.join(" "))?;
    if !svc.ports.is_empty() {
        let ports: Vec<String> = svc.ports.iter().map(|(n, p)| format!("{n} {p}")).collect();
        field(out, "ports", &ports.join(", "))?;
    }
    field(out, "database", svc.database.as_str())?;
    if let Some(h) = &svc.health_path {
        field(out, "health path", h)?;
    }
    field(out, "jit runtime", yes_no(svc.jit))?;
    for (directive, e) in &svc.hardening_exceptions {
        field(
            out,
            "hardening",
            &format!("{directive} = {} ({})", e.value, e.reason),
        )?;
    }
    if svc.options.is_empty() {
        return Ok(());
    }
    writeln!(out, "  options")?;
    for o in &svc.options {
        let default = match &o.default {
            Some(v) => format!("default {v}"),
            None if o.ty == super::model::OptionType::SecretFile => "secret, no default".into(),
            None => "required".into(),
        };
        let env = o
            .env
            .as_deref()
            .map(|e| format!(", env {e}"))
            .unwrap_or_default();
        let values = if o.values.is_empty() {
            String::new()
        } else {
            format!(" [{}]", o.values.join(" | "))
        };
        writeln!(
            out,
            "    {} ({}{values}) {default}{env}",
            o.name,
            o.ty.as_str()
        )?;
        writeln!(out, "      {}", o.description)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_respects_display_width() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
    }
}
