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

use super::action::{Feedback, LogRange, LogSeek, LogSource};
use super::app::{Hardening, Notice};
use super::logview::{LogLine, LogPage, PAGE_LINES, WINDOW_LINES, is_error_line, matches_query};

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
    /// line is missed or doubled), or from its log file for the lines the ring dropped; files
    /// are read on a blocking thread.
    pub fn load_log(&self, source: LogSource, range: LogRange) {
        let file = match &source {
            LogSource::Job { id, log_file } => {
                if self.job_is_running(*id) || log_file.is_none() {
                    let page = match self.ring_page(*id, range) {
                        Ok(RingPage::Page(p)) => Ok(p),
                        Ok(RingPage::OnDisk { first_display }) => match log_file {
                            Some(f) => {
                                let (f, tx) = (f.clone(), self.feedback.clone());
                                tokio::task::spawn_blocking(move || {
                                    let page = read_dropped(&f, range, first_display);
                                    let _ = tx.send(Feedback::LogPage { source, page });
                                });
                                return;
                            }
                            None => Err("the older lines of this job are not on disk".into()),
                        },
                        Err(e) => Err(e),
                    };
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

    /// The display lines of a running job's in-memory ring (its newest raw lines; the older
    /// ones are on disk), numbered like the whole log.
    fn ring_lines(&self, id: crate::jobs::JobId) -> Result<RingSnapshot, String> {
        let ring = self
            .engine
            .log_ring(id)
            .ok_or_else(|| "the engine no longer keeps this job's lines".to_string())?;
        let ring = ring.lock().map_err(|_| "log ring poisoned".to_string())?;
        let mut interp = LineInterpreter::default();
        let mut lines = VecDeque::new();
        for (raw, display) in ring.iter_counted() {
            // A piece of an overlong line makes no display line (see engine::on_line).
            if display > 0 {
                push_display(&mut interp, raw, &mut lines, usize::MAX);
            } else {
                interp.feed(raw, false);
            }
        }
        Ok(RingSnapshot {
            lines: lines.into(),
            drvs: drvs_of(&interp),
            raw_total: ring.total(),
            first_display: ring.first_display(),
        })
    }

    /// A page of a running job's ring, like `read_page` does for files; lines the ring dropped
    /// are left to `read_dropped`.
    fn ring_page(&self, id: crate::jobs::JobId, range: LogRange) -> Result<RingPage, String> {
        let snap = self.ring_lines(id)?;
        let base = snap.first_display;
        let total = base + snap.lines.len() as u64;
        let (start, end) = match range {
            LogRange::Tail => (total.saturating_sub(WINDOW_LINES as u64), total),
            LogRange::Head => (0, total.min(WINDOW_LINES as u64)),
            LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n.min(total)),
            LogRange::Around(n) => around(n, total),
        };
        let start = start.min(end);
        let on_disk = match range {
            LogRange::Tail => false,
            LogRange::Head => base > 0,
            LogRange::Before(n) => base > 0 && n <= base,
            LogRange::Around(n) => n < base,
        };
        if on_disk {
            return Ok(RingPage::OnDisk {
                first_display: base,
            });
        }
        // A page straddling the ring's start keeps to the ring (the rest is a page further up).
        let start = start.max(base);
        let end = end.max(start);
        Ok(RingPage::Page(LogPage {
            first: start,
            lines: snap.lines[(start - base) as usize..(end - base) as usize].to_vec(),
            total,
            drvs: snap.drvs,
            failure: None,
            at_tail: end == total,
            raw_total: snap.raw_total,
        }))
    }

    /// Answers a whole-log seek (search, first error): a running job's ring at once, a file
    /// streamed on a blocking thread with constant memory.
    pub fn seek_log(&self, source: LogSource, seek: LogSeek) {
        let file = match &source {
            LogSource::Job { id, log_file } => {
                if self.job_is_running(*id) || log_file.is_none() {
                    let snap = match self.ring_lines(*id) {
                        Ok(s) => s,
                        Err(e) => {
                            self.send(Feedback::LogSought {
                                source,
                                seek,
                                line: Err(e),
                            });
                            return;
                        }
                    };
                    // The lines the ring dropped are in the file: stream those, then the ring.
                    let file = log_file.clone().filter(|_| snap.first_display > 0);
                    let tx = self.feedback.clone();
                    tokio::task::spawn_blocking(move || {
                        let line = seek_running(file.as_deref(), &snap, &seek);
                        let _ = tx.send(Feedback::LogSought { source, seek, line });
                    });
                    return;
                }
                log_file.clone().unwrap_or_default()
            }
            LogSource::File(p) => expand_home(p),
        };
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let line = seek_file(&file, &seek).map_err(|e| format!("{}: {e}", file.display()));
            let _ = tx.send(Feedback::LogSought { source, seek, line });
        });
    }

    /// Writes the whole log as plain text to `<state>/saved-logs/<name>-<stamp>.log`.
    pub fn save_log(&self, source: LogSource, name: String) {
        let dir = crate::paths::catalog_state_dir(&self.catalog_root).join("saved-logs");
        // A running job: the ring's lines, after the ones it dropped (read from the file).
        let ring_lines: Option<(u64, Vec<String>)> = match &source {
            LogSource::Job { id, log_file } => {
                if self.job_is_running(*id) || log_file.is_none() {
                    self.ring_lines(*id).ok().map(|snap| {
                        let lines = snap.lines.iter().map(|l| l.plain().into_owned()).collect();
                        (snap.first_display, lines)
                    })
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

/// A running job's ring, interpreted.
struct RingSnapshot {
    lines: Vec<LogLine>,
    drvs: Vec<String>,
    raw_total: u64,
    /// Display number of `lines[0]` (display lines of the raw lines the ring dropped).
    first_display: u64,
}

enum RingPage {
    Page(LogPage),
    /// The range is above the ring: read the file, whose first `first_display` display lines
    /// the ring dropped.
    OnDisk {
        first_display: u64,
    },
}

/// A page of the lines a running job's ring dropped (display lines below `first_display`), from
/// its log file. The file is flushed at most `FLUSH_EVERY` behind the ring, so it holds them;
/// if it does not yet, say so rather than show a page with the wrong numbers.
fn read_dropped(path: &Path, range: LogRange, first_display: u64) -> Result<LogPage, String> {
    let mut page = read_page(path, range).map_err(|e| format!("{}: {e}", path.display()))?;
    let needed = match range {
        LogRange::Before(n) => n,
        LogRange::Around(n) => n + 1,
        LogRange::Head | LogRange::Tail => first_display.min(WINDOW_LINES as u64),
    };
    if page.total < needed {
        return Err("the older lines are still being written to disk: try again".into());
    }
    // A partial log has no verdict yet, and the ring knows the derivations.
    page.failure = None;
    page.drvs.clear();
    page.at_tail = false;
    Ok(page)
}

/// A whole-log seek over a running job: the file's lines the ring dropped, then the ring.
fn seek_running(
    file: Option<&Path>,
    snap: &RingSnapshot,
    seek: &LogSeek,
) -> Result<Option<u64>, String> {
    let mut seeker = Seeker::new(seek);
    if let Some(path) = file {
        let read = for_each_display(path, |n, l| {
            if n < snap.first_display {
                seeker.offer(n, l);
            }
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
        if read < snap.first_display {
            return Err("the older lines are still being written to disk: try again".into());
        }
    }
    for (i, l) in snap.lines.iter().enumerate() {
        seeker.offer(snap.first_display + i as u64, l);
    }
    Ok(seeker.answer())
}

/// Calls `f(n, line)` for each display line of a log file; returns how many there were.
fn for_each_display(path: &Path, mut f: impl FnMut(u64, &LogLine)) -> std::io::Result<u64> {
    let file = std::fs::File::open(path)?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    let mut interp = LineInterpreter::default();
    let mut n: u64 = 0;
    crate::nix::logfile::for_each_line(reader, |raw| {
        let m = interp.feed(raw, true);
        if let Some(text) = m.text {
            for l in LogLine::split(&text, m.drv) {
                f(n, &l);
                n += 1;
            }
        }
    })?;
    Ok(n)
}

/// Display lines [start, end) of a window centred on line `n` of a log of `total` lines.
fn around(n: u64, total: u64) -> (u64, u64) {
    let start = n.saturating_sub(WINDOW_LINES as u64 / 2);
    (start, (start + WINDOW_LINES as u64).min(total.max(start)))
}

/// Folds display lines, in order, into the answer of a `LogSeek`; keeps a few numbers only.
struct Seeker<'a> {
    seek: &'a LogSeek,
    query: String,
    /// Match: the first hit after `from` (forward) or the last before it (backward).
    beyond: Option<u64>,
    /// Match: the first (forward) or last (backward) hit anywhere, for wrapping around.
    /// FirstError: the first line containing the fallback.
    anywhere: Option<u64>,
    /// FirstError: the first error line.
    error: Option<u64>,
}

impl<'a> Seeker<'a> {
    fn new(seek: &'a LogSeek) -> Seeker<'a> {
        let query = match seek {
            LogSeek::Match { query, .. } => query.to_lowercase(),
            LogSeek::FirstError { fallback, .. } => {
                fallback.as_deref().unwrap_or("").trim().to_string()
            }
        };
        Seeker {
            seek,
            query,
            beyond: None,
            anywhere: None,
            error: None,
        }
    }

    fn offer(&mut self, n: u64, line: &LogLine) {
        let (LogSeek::Match { drv, .. } | LogSeek::FirstError { drv, .. }) = self.seek;
        if drv.as_ref().is_some_and(|d| line.drv.as_ref() != Some(d)) {
            return;
        }
        match self.seek {
            LogSeek::Match { from, forward, .. } => {
                if self.query.is_empty()
                    || (*forward && self.beyond.is_some() && self.anywhere.is_some())
                    || !matches_query(line, &self.query)
                {
                    return;
                }
                if *forward {
                    self.anywhere.get_or_insert(n);
                    if n > *from {
                        self.beyond.get_or_insert(n);
                    }
                } else {
                    self.anywhere = Some(n);
                    if n < *from {
                        self.beyond = Some(n);
                    }
                }
            }
            LogSeek::FirstError { .. } => {
                if self.error.is_none() && is_error_line(line) {
                    self.error = Some(n);
                }
                if self.anywhere.is_none()
                    && !self.query.is_empty()
                    && line.plain().contains(self.query.as_str())
                {
                    self.anywhere = Some(n);
                }
            }
        }
    }

    fn answer(self) -> Option<u64> {
        match self.seek {
            LogSeek::Match { .. } => self.beyond.or(self.anywhere),
            LogSeek::FirstError { .. } => self.error.or(self.anywhere),
        }
    }
}

/// Streams a log file's display lines through a `Seeker`: constant memory for any size.
pub fn seek_file(path: &Path, seek: &LogSeek) -> std::io::Result<Option<u64>> {
    let mut seeker = Seeker::new(seek);
    for_each_display(path, |n, l| seeker.offer(n, l))?;
    Ok(seeker.answer())
}

/// One page of a log file's display lines. Streams the file through the interpreter keeping
/// only the page: bounded memory for any size. The newest or oldest page reads all of it (the
/// failure class and the derivations need the whole log); an older page or one around a seek's
/// match stops interpreting after its last line (the view already knows the rest), so paging up
/// costs the distance from the start, not the whole file.
pub fn read_page(path: &Path, range: LogRange) -> std::io::Result<LogPage> {
    let file = std::fs::File::open(path)?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    let mut interp = LineInterpreter::default();
    let (start, end) = match range {
        LogRange::Tail => (0, u64::MAX),
        LogRange::Head => (0, WINDOW_LINES as u64),
        LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n),
        LogRange::Around(n) => around(n, u64::MAX),
    };
    let may_stop = matches!(range, LogRange::Before(_) | LogRange::Around(_));
    let mut lines: VecDeque<LogLine> = VecDeque::new();
    let mut n: u64 = 0;
    let mut raw_total = 0;
    let mut stopped = false;
    crate::nix::logfile::for_each_line(reader, |raw| {
        if stopped {
            return;
        }
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
        // Stop only past a whole raw line, so `n` stays a display line boundary.
        stopped = may_stop && n > end;
    })?;
    let first = match range {
        LogRange::Tail => n - lines.len() as u64,
        _ => start,
    };
    if stopped {
        return Ok(LogPage {
            first,
            at_tail: false,
            lines: lines.into(),
            total: n,
            drvs: Vec::new(),
            failure: None,
            raw_total,
        });
    }
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
    ring: Option<(u64, Vec<String>)>,
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
        (Some((dropped, lines)), file) => {
            if dropped > 0 {
                let f = file.context("the ring dropped lines and there is no log file")?;
                let mut err = None;
                let read = for_each_display(f, |n, l| {
                    if n < dropped
                        && err.is_none()
                        && let Err(e) = writeln!(out, "{}", l.plain().trim_end())
                    {
                        err = Some(e);
                    }
                })
                .with_context(|| format!("reading {}", f.display()))?;
                if let Some(e) = err {
                    return Err(e.into());
                }
                if read < dropped {
                    anyhow::bail!("the older lines are still being written to disk: try again");
                }
            }
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
