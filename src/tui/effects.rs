//! What the runtime does for `Command`s: submit and cancel jobs on the engine, read log pages,
//! write the hash fix, save logs, refresh the status snapshot, score the services' hardening.
//! Anything slow (files, nix) runs on a blocking thread and reports back as `Feedback`.

use std::collections::{HashMap, VecDeque};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::jobs::interpret::LineInterpreter;
use crate::jobs::spec::FailureSummary;
use crate::jobs::{EngineHandle, JobId, JobSpec, JobState, StatusStore};
use crate::nix::classify::ExitInfo;
use crate::nix::command::{Installable, current_system};

use super::action::{Feedback, LogRange, LogSource};
use super::app::{Hardening, Notice};
use super::logview::{LogLine, LogPage, PAGE_LINES, WINDOW_LINES};

/// Everything commands act on.
pub struct Effects {
    pub engine: EngineHandle,
    pub store: Arc<StatusStore>,
    pub catalog_root: PathBuf,
    /// The flake builds come from, or why there is none.
    pub flake: Result<String, String>,
    pub system: String,
    pub feedback: UnboundedSender<Feedback>,
}

impl Effects {
    pub fn new(
        engine: EngineHandle,
        store: Arc<StatusStore>,
        catalog_root: PathBuf,
        flake: Result<String, String>,
        feedback: UnboundedSender<Feedback>,
    ) -> Effects {
        Effects {
            engine,
            store,
            catalog_root,
            flake,
            system: current_system(),
            feedback,
        }
    }

    fn send(&self, f: Feedback) {
        let _ = self.feedback.send(f);
    }

    fn error(&self, text: String) {
        self.send(Feedback::Notice(Notice { text, error: true }));
    }

    /// One job per target, in the order given.
    pub fn build(&self, catalog: &crate::catalog::Catalog, packages: &[String], tests: bool) {
        let flake = match &self.flake {
            Ok(f) => f.clone(),
            Err(e) => return self.error(format!("cannot build: {e}")),
        };
        for name in packages {
            let specs = if tests {
                let services = catalog
                    .get(name)
                    .map(|p| p.services.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                JobSpec::tests(
                    &flake,
                    &self.system,
                    name,
                    services.iter().map(String::as_str),
                )
            } else {
                vec![JobSpec::build(
                    name.clone(),
                    Installable::new(flake.clone(), format!("packages.{}.{name}", self.system)),
                )]
            };
            for s in specs {
                self.engine.submit(s);
            }
        }
    }

    pub fn submit(&self, specs: Vec<JobSpec>) {
        for s in specs {
            self.engine.submit(s);
        }
    }

    /// Reads the status store in the background: all packages (start-up) or some (after a job).
    pub fn refresh_statuses(&self, names: Vec<String>) {
        let store = self.store.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.reload() {
                tracing::warn!("reloading the status store: {e:#}");
            }
            let map: HashMap<_, _> = names
                .into_iter()
                .filter_map(|n| store.status(&n).map(|s| (n, s)))
                .collect();
            let _ = tx.send(Feedback::Statuses(map));
        });
    }

    /// Scores every service once (nix eval + systemd-analyze), in the background.
    pub fn score_hardening(&self) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let h = match crate::nix::unit::hardening_scores(&root) {
                Ok(scores) => Hardening::Scores(scores),
                Err(e) => {
                    tracing::info!("hardening scores unavailable: {e:#}");
                    Hardening::Unavailable(format!("{e:#}"))
                }
            };
            let _ = tx.send(Feedback::Hardening(h));
        });
    }

    pub fn fix_hash(&self, package: String, failure: FailureSummary) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = crate::catalog::edit::fix_from_summary(&root, &package, &failure)
                .map_err(|e| e.to_string());
            let ok = result.is_ok();
            let _ = tx.send(Feedback::HashFixed { package, result });
            if ok {
                reload_catalog(&root, &tx);
            }
        });
    }

    pub fn reload_catalog(&self) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || reload_catalog(&root, &tx));
    }

    /// A running job's newest lines are still in the engine's ring, not yet all on disk.
    fn job_is_running(&self, id: JobId) -> bool {
        self.engine
            .job(id)
            .is_some_and(|j| !matches!(j.state, JobState::Finished { .. }))
    }

    /// Fills a log view. A running job's lines come from its in-memory ring at once (so no live
    /// line is missed or doubled); files are read on a blocking thread.
    pub fn load_log(&self, source: LogSource, range: LogRange) {
        let file = match &source {
            LogSource::Job { id, log_file } => {
                if self.job_is_running(*id) || log_file.is_none() {
                    let page = self.ring_page(*id, range);
                    self.send(Feedback::LogPage { source, page });
                    return;
                }
                log_file.clone().unwrap_or_default()
            }
            LogSource::File(p) => expand_home(p),
        };
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let page = read_page(&file, range).map_err(|e| format!("{}: {e}", file.display()));
            let _ = tx.send(Feedback::LogPage { source, page });
        });
    }

    /// Every display line of a running job's in-memory ring (its newest raw lines; the older
    /// ones are complete on disk once the job ends), its derivations and its raw line count.
    fn ring_lines(
        &self,
        id: crate::jobs::JobId,
    ) -> Result<(Vec<LogLine>, Vec<String>, u64), String> {
        let ring = self
            .engine
            .log_ring(id)
            .ok_or_else(|| "the engine no longer keeps this job's lines".to_string())?;
        let ring = ring.lock().map_err(|_| "log ring poisoned".to_string())?;
        let mut interp = LineInterpreter::default();
        let mut lines = VecDeque::new();
        for raw in ring.iter() {
            push_display(&mut interp, raw, &mut lines, usize::MAX);
        }
        Ok((lines.into(), drvs_of(&interp), ring.total()))
    }

    /// A page of a running job's ring, like `read_page` does for files.
    fn ring_page(&self, id: crate::jobs::JobId, range: LogRange) -> Result<LogPage, String> {
        let (all, drvs, raw_total) = self.ring_lines(id)?;
        let total = all.len() as u64;
        let (start, end) = match range {
            LogRange::Tail => (total.saturating_sub(WINDOW_LINES as u64), total),
            LogRange::Head => (0, total.min(WINDOW_LINES as u64)),
            LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n.min(total)),
        };
        let start = start.min(end);
        Ok(LogPage {
            first: start,
            lines: all[start as usize..end as usize].to_vec(),
            total,
            drvs,
            failure: None,
            at_tail: end == total,
            raw_total,
        })
    }

    /// Writes the whole log as plain text to `<state>/saved-logs/<name>-<stamp>.log`.
    pub fn save_log(&self, source: LogSource, name: String) {
        let dir = crate::paths::catalog_state_dir(&self.catalog_root).join("saved-logs");
        let ring_lines: Option<Vec<String>> = match &source {
            LogSource::Job { id, log_file } => {
                if self.job_is_running(*id) || log_file.is_none() {
                    self.ring_lines(*id)
                        .ok()
                        .map(|(lines, ..)| lines.iter().map(|l| l.plain().into_owned()).collect())
                } else {
                    None
                }
            }
            LogSource::File(_) => None,
        };
        let file = match &source {
            LogSource::Job { log_file, .. } => log_file.clone(),
            LogSource::File(p) => Some(expand_home(p)),
        };
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result =
                save(&dir, &name, ring_lines, file.as_deref()).map_err(|e| format!("{e:#}"));
            let _ = tx.send(Feedback::LogSaved { source, result });
        });
    }
}

/// `~/x` as typed into the open-log prompt.
fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

fn reload_catalog(root: &Path, tx: &UnboundedSender<Feedback>) {
    match crate::catalog::load(root) {
        Ok(loaded) => {
            let invalid: std::collections::BTreeSet<_> =
                loaded.diagnostics.iter().map(|d| &d.file).collect();
            let invalid = invalid.len();
            let _ = tx.send(Feedback::CatalogReloaded {
                catalog: loaded.catalog,
                invalid,
            });
        }
        Err(e) => {
            let _ = tx.send(Feedback::Notice(Notice {
                text: format!("reloading the catalog: {e:#}"),
                error: true,
            }));
        }
    }
}

fn push_display(
    interp: &mut LineInterpreter,
    raw: &str,
    out: &mut VecDeque<LogLine>,
    cap: usize,
) -> bool {
    let m = interp.feed(raw, true);
    match m.text {
        Some(text) => {
            for l in LogLine::split(&text, m.drv) {
                out.push_back(l);
                if out.len() > cap {
                    out.pop_front();
                }
            }
            true
        }
        None => false,
    }
}

fn drvs_of(interp: &LineInterpreter) -> Vec<String> {
    interp
        .state()
        .derivations()
        .iter()
        .map(|d| d.path.clone())
        .collect()
}

/// One page of a log file's display lines. Streams the whole file through the interpreter (the
/// failure class and the derivations need all of it) keeping only the page: bounded memory for
/// any size.
pub fn read_page(path: &Path, range: LogRange) -> std::io::Result<LogPage> {
    let file = std::fs::File::open(path)?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    let mut interp = LineInterpreter::default();
    let (start, end) = match range {
        LogRange::Tail => (0, u64::MAX),
        LogRange::Head => (0, WINDOW_LINES as u64),
        LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n),
    };
    let mut lines: VecDeque<LogLine> = VecDeque::new();
    let mut n: u64 = 0;
    let mut raw_total = 0;
    crate::nix::logfile::for_each_line(reader, |raw| {
        raw_total += 1;
        let m = interp.feed(raw, true);
        if let Some(text) = m.text {
            for l in LogLine::split(&text, m.drv) {
                if n >= start && n < end {
                    lines.push_back(l);
                    if lines.len() > WINDOW_LINES {
                        lines.pop_front();
                    }
                }
                n += 1;
            }
        }
    })?;
    let first = match range {
        LogRange::Tail => n - lines.len() as u64,
        _ => start,
    };
    let failure = interp
        .finish(&ExitInfo::from_log())
        .as_ref()
        .map(FailureSummary::from);
    Ok(LogPage {
        first,
        at_tail: first + lines.len() as u64 == n,
        lines: lines.into(),
        total: n,
        drvs: drvs_of(&interp),
        failure,
        raw_total,
    })
}

fn save(
    dir: &Path,
    name: &str,
    ring: Option<Vec<String>>,
    file: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}-{}.log", crate::jobs::time::file_stamp()));
    let tmp = path.with_extension("log.tmp");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    match (ring, file) {
        (Some(lines), _) => {
            for l in lines {
                writeln!(out, "{l}")?;
            }
        }
        (None, Some(f)) => {
            let reader = BufReader::with_capacity(
                256 * 1024,
                std::fs::File::open(f).with_context(|| format!("opening {}", f.display()))?,
            );
            let mut interp = LineInterpreter::default();
            let mut err = None;
            crate::nix::logfile::for_each_line(reader, |raw| {
                if let Some(t) = interp.feed(raw, true).text
                    && err.is_none()
                    && let Err(e) = writeln!(out, "{}", crate::nix::ansi::strip(&t).trim_end())
                {
                    err = Some(e);
                }
            })?;
            if let Some(e) = err {
                return Err(e.into());
            }
        }
        (None, None) => anyhow::bail!("this log has no lines to save"),
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
