//! `atwb list`: the packages as a table sized to the terminal, or as JSON for scripts and CI.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::output::{Mode, load_catalog, shown_path, with_stdout};
use crate::catalog::{DepsHash, InvalidPackage, Package, Tier};
use crate::search::did_you_mean;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this tier (1, 2 or 3).
    #[arg(long)]
    pub tier: Option<u8>,
    /// Only this org.
    #[arg(long)]
    pub org: Option<String>,
    /// Fuzzy filter over name, org, description and services (the TUI's matcher).
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,
    #[arg(long)]
    pub json: bool,
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
    /// The newest recorded build, null if never built.
    last_build: Option<super::status::RunJson<'a>>,
    /// The binary-cache state of its newest evaluation while current (`atwb cache` asks).
    cache: serde_json::Value,
    /// False: the package loads (invalid ones are [`InvalidItem`]s).
    invalid: bool,
}

/// One package of `atwb list --json` whose file does not load: what its path (and a lenient
/// read of the file) says, and why it does not load (`atwb check` prints the hints too).
#[derive(Serialize)]
struct InvalidItem<'a> {
    name: &'a str,
    org: &'a str,
    tier: Option<Tier>,
    category: Option<&'static str>,
    dir: String,
    /// Always true.
    invalid: bool,
    errors: Vec<InvalidError<'a>>,
}

#[derive(Serialize)]
struct InvalidError<'a> {
    file: String,
    line: usize,
    column: usize,
    field: &'a str,
    message: &'a str,
}

impl<'a> From<&'a InvalidPackage> for InvalidItem<'a> {
    fn from(p: &'a InvalidPackage) -> Self {
        InvalidItem {
            name: &p.name,
            org: &p.org,
            tier: p.tier,
            category: p.category.map(crate::catalog::Category::as_str),
            dir: shown_path(&p.dir),
            invalid: true,
            errors: p
                .diagnostics
                .iter()
                .map(|d| InvalidError {
                    file: shown_path(&d.file),
                    line: d.line,
                    column: d.column,
                    field: &d.field,
                    message: &d.message,
                })
                .collect(),
        }
    }
}

/// A row of `atwb list --json`.
#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Valid(Box<ListItem<'a>>),
    Invalid(InvalidItem<'a>),
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
            deps_hash_known: matches!(p.build.deps_hash, DepsHash::Known(_)),
            services: p.services.keys().map(String::as_str).collect(),
            roles: &p.atproto.services,
            dir: shown_path(&p.dir),
            invalid: false,
            last_build: None,
            cache: serde_json::Value::Null,
        }
    }
}

/// `atwb list`: packages in catalog order, or best match first with `--filter`.
pub fn run(q: &ListArgs, root: &Path) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    let catalog = &loaded.catalog;
    let tier = q
        .tier
        .map(Tier::try_from)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let Some(org) = q.org.as_deref()
        && !catalog.orgs().contains(&org)
        && !loaded.invalid.iter().any(|i| i.org == org)
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
    let selected = |p: &&Package| {
        tier.is_none_or(|t| p.tier == t) && q.org.as_deref().is_none_or(|o| p.org == o)
    };
    let shown: Vec<&Package> = match q.filter.as_deref() {
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
        let how = if q.json {
            "are listed with \"invalid\": true"
        } else {
            "are not listed"
        };
        eprintln!(
            "atwb: {} package file(s) have errors and {how}; run `atwb check`",
            files.len()
        );
    }
    let invalid = shown_invalid(&loaded.invalid, tier, q);
    with_stdout(Mode::of(q.json), |out| {
        if q.json {
            // Status only here: the table stays a read of the catalog alone.
            let store = super::status::open_store(root);
            let builds: Vec<Option<crate::jobs::RunRecord>> = shown
                .iter()
                .map(|p| super::status::last_build(store.as_ref(), &p.name))
                .collect();
            let items: Vec<Item<'_>> = shown
                .iter()
                .zip(&builds)
                .map(|(p, b)| {
                    Item::Valid(Box::new(ListItem {
                        last_build: b.as_ref().map(super::status::RunJson::from),
                        cache: crate::jobs::store::CacheStatus::json(
                            store
                                .as_ref()
                                .and_then(|s| s.cache_status(&p.name))
                                .as_ref(),
                        ),
                        ..ListItem::from(*p)
                    }))
                })
                .chain(invalid.iter().map(|p| Item::Invalid(InvalidItem::from(*p))))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &items)?;
            return writeln!(out);
        }
        write_table(out, &shown)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The invalid packages the same selection shows (a tier, when the file says one; the org; the
/// fuzzy filter over folder and org), after the valid ones.
fn shown_invalid<'a>(
    invalid: &'a [InvalidPackage],
    tier: Option<Tier>,
    q: &ListArgs,
) -> Vec<&'a InvalidPackage> {
    let selected = |p: &&InvalidPackage| {
        tier.is_none_or(|t| p.tier == Some(t)) && q.org.as_deref().is_none_or(|o| p.org == o)
    };
    match q.filter.as_deref() {
        Some(query) => crate::search::rank(invalid, query)
            .into_iter()
            .map(|(i, _)| &invalid[i])
            .filter(selected)
            .collect(),
        None => invalid.iter().filter(selected).collect(),
    }
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
