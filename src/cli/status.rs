//! The build status `show` and `list --json` print: opening the status store (which also records
//! the runs of an atwb that was killed as interrupted) and the last run of a package as JSON
//! and as text.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::output::shown_path;
use crate::jobs::{Outcome, RunRecord, StatusStore};

/// The catalog's status store, or None with a warning on stderr: a command that only shows
/// status still works when the store cannot be read.
pub fn open_store(catalog_root: &Path) -> Option<StatusStore> {
    match StatusStore::open(catalog_root) {
        Ok(store) => {
            for e in store.take_write_errors() {
                eprintln!("atwb: {e}");
            }
            Some(store)
        }
        Err(e) => {
            eprintln!("atwb: the build status is not shown: {e:#}");
            None
        }
    }
}

/// One run as `show --json` and `list --json` print it.
#[derive(Debug, Serialize)]
pub struct RunJson<'a> {
    pub kind: &'static str,
    pub target: &'a str,
    /// `ok`, `failed`, `cancelled`, `timed_out` or `interrupted`.
    pub outcome: Outcome,
    pub finished_at: u64,
    pub duration_secs: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
}

impl<'a> From<&'a RunRecord> for RunJson<'a> {
    fn from(r: &'a RunRecord) -> Self {
        RunJson {
            kind: r.kind.as_str(),
            target: &r.target,
            outcome: r.outcome,
            finished_at: r.finished_at,
            duration_secs: r.duration_secs,
            reason: r.failure.as_ref().map(|f| f.first_line.as_str()),
            log_file: r.log_file.as_deref().map(shown_path),
        }
    }
}

/// The newest build of `name`, as recorded.
pub fn last_build(store: Option<&StatusStore>, name: &str) -> Option<RunRecord> {
    store?.last_build(name)
}

/// `status` section of `atwb show`: the newest build and why it ended so.
pub fn write_last_build(out: &mut dyn Write, run: Option<&RunRecord>) -> io::Result<()> {
    writeln!(out, "\nstatus")?;
    let Some(r) = run else {
        return writeln!(out, "  {:<14}never built", "last build");
    };
    writeln!(
        out,
        "  {:<14}{} ({:.0} s, {})",
        "last build",
        r.outcome.as_str(),
        r.duration_secs,
        r.target
    )?;
    if let Some(f) = &r.failure {
        writeln!(out, "  {:<14}{}", "why", f.first_line)?;
    }
    if let Some(log) = &r.log_file {
        writeln!(out, "  {:<14}{}", "log", shown_path(log))?;
    }
    Ok(())
}
