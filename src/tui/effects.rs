//! What the runtime does for `Command`s: submit and cancel jobs on the engine, read log pages,
//! write the hash fix, save logs, refresh the status snapshot, score the services' hardening
//! (on request only: it evaluates the catalog's Nix code; otherwise from the cache).
//! Anything slow (files, nix) runs on a blocking thread and reports back as `Feedback`. Only
//! the dispatch lives here: how log pages are read, sought and saved is `jobs::logpage`.

mod upstream;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::jobs::logpage::{
    self, LogRange, LogSeek, RingPage, RingSnapshot, read_dropped, read_page, seek_file,
    seek_running,
};
use crate::jobs::spec::FailureSummary;
use crate::jobs::{EngineHandle, JobId, JobSpec, JobState, StatusStore};
use crate::nix::command::{Installable, current_system};

use super::action::{Feedback, LogSource};
use super::app::{Hardening, Notice};

/// Everything commands act on.
pub struct Effects {
    pub engine: EngineHandle,
    pub store: Arc<StatusStore>,
    pub catalog_root: PathBuf,
    /// The flake builds come from, or why there is none.
    pub flake: Result<String, String>,
    pub system: String,
    pub feedback: UnboundedSender<Feedback>,
    /// Bump plans shown in the updates view, waiting for their yes.
    pub bumps: upstream::PendingBumps,
    /// Where the hash action finds sources and artifacts besides the user's caches (tests).
    pub hash_options: crate::jobs::rehash::HashOptions,
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
            bumps: upstream::PendingBumps::default(),
            hash_options: crate::jobs::rehash::HashOptions::default(),
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
        // One batch: one evaluation for all targets, then a build by drv each.
        let mut batch = Vec::new();
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
            batch.extend(specs);
        }
        self.engine.submit_batch(batch);
    }

    pub fn submit(&self, specs: Vec<JobSpec>) {
        self.engine.submit_batch(specs);
    }

    /// Reads the status store in the background: all packages (start-up) or some (after a job).
    pub fn refresh_statuses(&self, names: Vec<String>) {
        let store = self.store.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.reload() {
                tracing::warn!("reloading the status store: {e:#}");
            }
            // Results the engine could not record (or a read-only store): the user must know.
            for text in store.take_write_errors() {
                let _ = tx.send(Feedback::Notice(Notice { text, error: true }));
            }
            let caches = names
                .iter()
                .map(|n| (n.clone(), store.cache_status(n)))
                .collect();
            let failures = names
                .iter()
                .map(|n| (n.clone(), store.cache_failure(n)))
                .collect();
            let map: HashMap<_, _> = names
                .into_iter()
                .filter_map(|n| store.status(&n).map(|s| (n, s)))
                .collect();
            let _ = tx.send(Feedback::Statuses(map));
            let _ = tx.send(Feedback::Caches(caches));
            let _ = tx.send(Feedback::CacheFailures(failures));
        });
    }

    /// The scores cached for the catalog's current content, or `NotScored`: reads files only,
    /// never evaluates (start-up and after a reload).
    pub fn remembered_hardening(&self) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || remembered_hardening(&root, &tx));
    }

    /// Scores every service (a restricted nix eval of the catalog + systemd-analyze), in the
    /// background, when the user asks; remembered for the next start.
    pub fn score_hardening(&self) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let h = match crate::nix::unit::score_and_remember(&root) {
                Ok(scores) => Hardening::Scores(scores),
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::info!("hardening scores unavailable: {reason}");
                    // The status bar has one line: the first says what was refused.
                    let first = reason.lines().next().unwrap_or_default();
                    let _ = tx.send(Feedback::Notice(Notice {
                        text: format!("hardening not scored: {first}"),
                        error: true,
                    }));
                    Hardening::Unavailable(reason)
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

    /// Reads a form's file in the background.
    pub fn open_form(
        &self,
        package: String,
        path: PathBuf,
        kind: crate::tui::forms::FormKind,
        context: crate::catalog::fields::Context,
    ) {
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = crate::tui::forms::Draft::read(&path, context);
            let _ = tx.send(Feedback::FormOpened {
                package,
                kind,
                result,
            });
        });
    }

    /// Writes a form's draft (atomic; refused with the disk's file when it changed since it
    /// was read), then reloads the catalog so the tree and detail show what was saved.
    pub fn save_form(&self, package: String, mut draft: crate::tui::forms::Draft) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = draft.save().map(|()| draft);
            let ok = result.is_ok();
            let _ = tx.send(Feedback::FormSaved { package, result });
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
            LogSource::Job { id, log_file } if self.job_is_running(*id) || log_file.is_none() => {
                let page = match self.ring(*id).map(|snap| snap.page(range)) {
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
                return self.send(Feedback::LogPage { source, page });
            }
            LogSource::Job { log_file, .. } => log_file.clone().unwrap_or_default(),
            LogSource::File(p) => expand_home(p),
        };
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let page = read_page(&file, range).map_err(|e| format!("{}: {e}", file.display()));
            let _ = tx.send(Feedback::LogPage { source, page });
        });
    }

    /// A running job's in-memory ring, interpreted (its newest raw lines; the older ones are
    /// on disk), numbered like the whole log.
    fn ring(&self, id: JobId) -> Result<RingSnapshot, String> {
        let ring = self
            .engine
            .log_ring(id)
            .ok_or_else(|| "the engine no longer keeps this job's lines".to_string())?;
        RingSnapshot::of(&ring)
    }

    /// Answers a whole-log seek (search, first error): a running job's ring at once, a file
    /// streamed on a blocking thread with constant memory.
    pub fn seek_log(&self, source: LogSource, seek: LogSeek) {
        let file = match &source {
            LogSource::Job { id, log_file } if self.job_is_running(*id) || log_file.is_none() => {
                let snap = match self.ring(*id) {
                    Ok(s) => s,
                    Err(e) => {
                        let line = Err(e);
                        return self.send(Feedback::LogSought { source, seek, line });
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
            LogSource::Job { log_file, .. } => log_file.clone().unwrap_or_default(),
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
        // A running job: the ring's lines as they are now, after the ones it dropped.
        let (ring, file) = match &source {
            LogSource::Job { id, log_file } => {
                let running = self.job_is_running(*id) || log_file.is_none();
                let ring = running.then(|| self.ring(*id).ok()).flatten();
                (ring, log_file.clone())
            }
            LogSource::File(p) => (None, Some(expand_home(p))),
        };
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = logpage::save_plain(&dir, &name, ring.as_ref(), file.as_deref())
                .map_err(|e| format!("{e:#}"));
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

pub(crate) fn remembered_hardening(root: &Path, tx: &UnboundedSender<Feedback>) {
    let h = match crate::nix::unit::remembered_scores(root) {
        Some(scores) => Hardening::Scores(scores),
        None => Hardening::NotScored,
    };
    let _ = tx.send(Feedback::Hardening(h));
}

pub(crate) fn reload_catalog(root: &Path, tx: &UnboundedSender<Feedback>) {
    // Scores of the old files no longer hold; those of the new ones may be cached.
    remembered_hardening(root, tx);
    match crate::catalog::load(root) {
        Ok(loaded) => {
            let _ = tx.send(Feedback::CatalogReloaded(Box::new(loaded)));
        }
        Err(e) => {
            let _ = tx.send(Feedback::Notice(Notice {
                text: format!("reloading the catalog: {e:#}"),
                error: true,
            }));
        }
    }
}
