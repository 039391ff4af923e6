//! The persisted build status per package, one JSON file per catalog in
//! `paths::catalog_state_dir(catalog)/status.json`, written atomically under a lock so the TUI
//! and a headless `atwb build` can record at the same time; every write re-reads the file under
//! the lock and applies its change to what it read, so no process overwrites another's records.
//! Compact JSON: it is rewritten on every record (26 packages x 20 runs are ~280 KB even
//! so). The derivations' build times live beside it, in `derivations.json` (see `durations`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

mod durations;
mod evaluations;
mod lock;
mod running;

#[cfg(test)]
mod bench;

pub use crate::jobs::cache::CacheAsked;
pub use durations::{DRV_HISTORY_LEN, DrvDurations, MAX_DRV_NAMES};
pub use evaluations::{CacheFailure, CacheStatus, Evaluation};
pub use lock::DEFAULT_LOCK_TIMEOUT;
use lock::FileLock;
pub use running::RunningRecord;

use super::fingerprint::Fingerprinter;
use super::spec::{FailureSummary, JobKind, JobResult, Outcome};
use crate::catalog::Catalog;
use crate::catalog::edit::clean_stale_temp_files;
use crate::nix::advice;
use crate::nix::drvtree::DrvHistory;

/// Runs kept per package.
pub const HISTORY_LEN: usize = 20;
/// 2: runs in progress (`running`) and the `interrupted` outcome, which version 1 cannot read
/// (an older atwb then keeps the file read-only instead of failing on it).
const FORMAT_VERSION: u32 = 2;

/// One finished run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub kind: JobKind,
    /// The attribute built, e.g. `packages.x86_64-linux.foo` or `checks.x86_64-linux.foo-smoke`.
    pub target: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub failure: Option<FailureSummary>,
    pub duration_secs: f64,
    /// Unix seconds when the run finished.
    pub finished_at: u64,
    #[serde(default)]
    pub drv_path: Option<String>,
    #[serde(default)]
    pub out_paths: Vec<String>,
    #[serde(default)]
    pub log_file: Option<PathBuf>,
    /// Content fingerprint of the package's files when the run started (see `fingerprint`).
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl RunRecord {
    pub fn from_result(r: &JobResult, fingerprint: Option<String>) -> Self {
        RunRecord {
            kind: r.spec.kind,
            target: r.spec.installable.attr.clone(),
            outcome: r.outcome,
            failure: r.failure.as_ref().map(|f| {
                let ctx =
                    advice::Context::for_job(&r.spec.installable, &r.spec.package, Vec::new());
                FailureSummary::with_hint(f, &ctx)
            }),
            duration_secs: r.duration.as_secs_f64(),
            finished_at: r.started_at + r.duration.as_secs(),
            drv_path: r.drv_path.clone(),
            out_paths: r.out_paths.clone(),
            log_file: r.log_file.clone(),
            fingerprint,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StatusFile {
    version: u32,
    /// Per package: runs, oldest first, at most HISTORY_LEN.
    packages: BTreeMap<String, Vec<RunRecord>>,
    /// Runs whose nix was started and whose end is not recorded yet (see `running`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    running: Vec<RunningRecord>,
    /// Per package: what its newest evaluation said (drv, out paths, cache status).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    evaluations: BTreeMap<String, Evaluation>,
    /// Per derivation name: how long its last builds took, as an earlier atwb kept them here.
    /// Moved to `derivations.json` by the next update (see `durations`); written back only
    /// while that move fails, so they are never lost.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    derivations: durations::DrvMap,
    /// Per package: its last cache check that could not evaluate it (see `evaluations`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    cache_failures: BTreeMap<String, CacheFailure>,
}

/// What the TUI shows for one package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageStatus {
    /// The newest run of any kind.
    pub last: RunRecord,
    /// The newest build run (what staleness and the tree glyph are about).
    pub last_build: Option<RunRecord>,
    /// Files changed since the last build started.
    pub stale: bool,
    /// Oldest first.
    pub history: Vec<RunRecord>,
    /// The binary cache that has the outputs of the package's newest evaluation while it is
    /// current, if one does (the TUI reads `StatusStore::cache_status`, also for a package
    /// never built).
    pub cached_in: Option<String>,
}

impl PackageStatus {
    /// Median duration of successful builds, the jobs view's estimate.
    pub fn estimate(&self) -> Option<Duration> {
        estimate(&self.history, JobKind::Build)
    }
}

/// Median duration of the successful runs of `kind`.
pub fn estimate(history: &[RunRecord], kind: JobKind) -> Option<Duration> {
    let mut d: Vec<f64> = history
        .iter()
        .filter(|r| r.kind == kind && r.outcome == Outcome::Ok)
        .map(|r| r.duration_secs)
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let mid = d.len() / 2;
    let m = if d.len().is_multiple_of(2) {
        f64::midpoint(d[mid - 1], d[mid])
    } else {
        d[mid]
    };
    Some(Duration::from_secs_f64(m))
}

/// Counts for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub timed_out: usize,
    /// The atwb running the build died before it could record how the build ended.
    pub interrupted: usize,
    pub never: usize,
    /// Built before (any outcome) but files changed since.
    pub stale: usize,
}

impl Counts {
    fn add(&mut self, s: Option<&PackageStatus>) {
        let Some(b) = s.and_then(|s| s.last_build.as_ref()) else {
            self.never += 1;
            return;
        };
        match b.outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Cancelled => self.cancelled += 1,
            Outcome::TimedOut => self.timed_out += 1,
            Outcome::Interrupted => self.interrupted += 1,
        }
        if s.is_some_and(|s| s.stale) {
            self.stale += 1;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub total: Counts,
    pub by_tier: BTreeMap<u8, Counts>,
    pub by_org: BTreeMap<String, Counts>,
}

pub struct StatusStore {
    catalog_root: PathBuf,
    file: PathBuf,
    data: Mutex<StatusFile>,
    /// The derivations' build times as last read or written (see `durations`).
    derivations: Mutex<durations::DrvMap>,
    /// `derivations` as a job's tree reads it, built once per change of them.
    drv_history: Mutex<Option<Arc<DrvHistory>>>,
    fingerprints: Fingerprinter,
    lock_timeout: Duration,
    /// Why records cannot be written, when the file was written by a newer atwb.
    read_only: Mutex<Option<String>>,
    /// Results that could not be recorded since the last [`StatusStore::take_write_errors`]:
    /// a front end shows them (the engine itself only logs).
    write_errors: Mutex<Vec<String>>,
}

/// What a run built, (name, ms), and when it finished (unix seconds).
type Built<'a> = (&'a [(String, u64)], u64);
const NONE_BUILT: Built<'static> = (&[], 0);

/// How long noting a started run waits for the store's lock.
const BEGIN_LOCK_TIMEOUT: Duration = Duration::from_millis(200);

/// Write errors kept until a front end takes them (more are only counted in the log).
const MAX_WRITE_ERRORS: usize = 16;

impl std::fmt::Debug for StatusStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusStore")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl StatusStore {
    /// The store of the catalog at `catalog_root`, in the XDG state dir.
    pub fn open(catalog_root: &Path) -> Result<Self> {
        let dir = crate::paths::catalog_state_dir(catalog_root);
        Self::open_in(catalog_root, &dir)
    }

    /// The store kept in `state_dir` (tests). Removes the temp files a killed atwb left there.
    pub fn open_in(catalog_root: &Path, state_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating {}", state_dir.display()))?;
        clean_stale_temp_files(state_dir);
        clean_stale_temp_files(&state_dir.join("logs"));
        let store = StatusStore {
            catalog_root: catalog_root.to_path_buf(),
            file: state_dir.join("status.json"),
            data: Mutex::new(StatusFile::default()),
            derivations: Mutex::new(durations::DrvMap::new()),
            drv_history: Mutex::new(None),
            fingerprints: Fingerprinter::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            read_only: Mutex::new(None),
            write_errors: Mutex::new(Vec::new()),
        };
        store.reload()?;
        if let Some(why) = store.read_only() {
            store.push_write_error(why);
        } else if let Err(e) = store.reconcile() {
            store.push_write_error(format!(
                "runs of an atwb that was killed could not be recorded as interrupted: {e:#}"
            ));
        }
        Ok(store)
    }

    /// How long [`StatusStore::record`] waits for another process holding the store.
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Why nothing is recorded, when the file is of a newer format than this atwb writes.
    pub fn read_only(&self) -> Option<String> {
        self.read_only.lock().expect("status store lock").clone()
    }

    /// What could not be recorded since the last call (and why the store is read-only, once).
    pub fn take_write_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.write_errors.lock().expect("status store lock"))
    }

    fn push_write_error(&self, message: String) {
        let mut errors = self.write_errors.lock().expect("status store lock");
        if errors.len() < MAX_WRITE_ERRORS {
            errors.push(message);
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn catalog_root(&self) -> &Path {
        &self.catalog_root
    }

    /// Re-read the files (another process may have recorded runs).
    pub fn reload(&self) -> Result<()> {
        let fresh = read_file(&self.file)?;
        self.note_version(&fresh);
        self.reload_derivations(&fresh.derivations);
        *self.data.lock().expect("status store lock") = fresh;
        Ok(())
    }

    /// Refuse to write a file of a newer format: rewriting it as ours would drop what this
    /// atwb does not know.
    fn note_version(&self, data: &StatusFile) {
        if data.version > FORMAT_VERSION {
            let why = format!(
                "{} was written by a newer atwb (status format {}, this one writes {FORMAT_VERSION}); \
                 it is read but not written, so build results are not recorded. Use the newer \
                 atwb, or move the file away to start afresh",
                self.file.display(),
                data.version
            );
            *self.read_only.lock().expect("status store lock") = Some(why);
        }
    }

    /// Fingerprint of a package's files now; None for names that are not catalog packages
    /// (e.g. attributes of a `--flake` fixture).
    pub fn fingerprint(&self, name: &str) -> Option<String> {
        let file = crate::catalog::edit::find_package_file(&self.catalog_root, name)?;
        let dir = file.parent()?;
        Some(self.fingerprints.package(&self.catalog_root, dir))
    }

    /// The newest build run of `name`, without the fingerprinting `status` does for staleness
    /// (what a listing of every package can afford).
    pub fn last_build(&self, name: &str) -> Option<RunRecord> {
        let data = self.data.lock().expect("status store lock");
        data.packages
            .get(name)?
            .iter()
            .rev()
            .find(|r| r.kind == JobKind::Build)
            .cloned()
    }

    pub fn status(&self, name: &str) -> Option<PackageStatus> {
        let history = self
            .data
            .lock()
            .expect("status store lock")
            .packages
            .get(name)?
            .clone();
        let last = history.last()?.clone();
        let last_build = history
            .iter()
            .rev()
            .find(|r| r.kind == JobKind::Build)
            .cloned();
        let stale = last_build
            .as_ref()
            .is_some_and(|b| self.build_is_stale(name, b));
        // Only while that evaluation is current, as the tree shows it (`cache_status`).
        let cached_in = self
            .cache_status(name)
            .and_then(|c| c.cached_in().map(str::to_string));
        Some(PackageStatus {
            last,
            last_build,
            stale,
            history,
            cached_in,
        })
    }

    /// Per tier and org counts for the status bar.
    pub fn counts(&self, catalog: &Catalog) -> StatusCounts {
        let mut c = StatusCounts::default();
        for p in &catalog.packages {
            let s = self.status(&p.name);
            c.total.add(s.as_ref());
            c.by_tier
                .entry(p.tier.number())
                .or_default()
                .add(s.as_ref());
            c.by_org.entry(p.org.clone()).or_default().add(s.as_ref());
        }
        c
    }

    /// Append a run: re-reads the file under an exclusive lock (waited for at most the lock
    /// timeout), appends, trims to HISTORY_LEN and writes atomically. A failure is also kept
    /// for [`StatusStore::take_write_errors`], so the user hears of a result that was lost.
    pub fn record(&self, package: &str, run: RunRecord) -> Result<()> {
        self.record_built(package, run, &[])
    }

    /// [`StatusStore::record`], with the derivations the run built and their milliseconds, in
    /// the same write.
    pub fn record_built(
        &self,
        package: &str,
        run: RunRecord,
        built: &[(String, u64)],
    ) -> Result<()> {
        let result = self.try_record(package, run, built);
        if let Err(e) = &result {
            self.push_write_error(format!("the result of {package} was not recorded: {e:#}"));
        }
        result
    }

    fn try_record(&self, package: &str, run: RunRecord, built: &[(String, u64)]) -> Result<()> {
        let built = (built, run.finished_at);
        self.update_within(self.lock_timeout, built, |data| {
            data.running.retain(|r| !r.is_run(package, &run));
            push_run(data, package, run)
        })
    }

    /// Note that a run's nix has started, so that the run is recorded (as interrupted) even
    /// if this atwb is killed before it ends: [`StatusStore::record`] of the same package and
    /// log file removes the entry again. The lock is waited for briefly only, since the job's
    /// output is not read meanwhile; a failure is the caller's to log, not a notice: the
    /// run's result, recorded later, is what the user must hear about.
    pub fn begin(&self, running: RunningRecord) -> Result<()> {
        self.update_within(
            BEGIN_LOCK_TIMEOUT.min(self.lock_timeout),
            NONE_BUILT,
            |data| {
                data.running.push(running);
                Vec::new()
            },
        )
    }

    /// Runs in progress, as last read (this atwb's and other live atwbs').
    pub fn running(&self) -> Vec<RunningRecord> {
        self.data.lock().expect("status store lock").running.clone()
    }

    /// Records the runs whose atwb is gone as interrupted, after stopping the nix each left
    /// running. Cheap when there are none: the file was just read, and is locked only if
    /// there is something to do.
    fn reconcile(&self) -> Result<()> {
        let any_orphan = self
            .data
            .lock()
            .expect("status store lock")
            .running
            .iter()
            .any(RunningRecord::owner_gone);
        if !any_orphan {
            return Ok(());
        }
        self.update(|data| {
            let (orphans, live): (Vec<_>, Vec<_>) = std::mem::take(&mut data.running)
                .into_iter()
                .partition(RunningRecord::owner_gone);
            data.running = live;
            let mut dropped = Vec::new();
            for orphan in orphans {
                tracing::warn!(
                    package = orphan.package,
                    owner = orphan.owner_pid,
                    "recording a run of a dead atwb as interrupted"
                );
                let run = orphan.interrupt();
                dropped.extend(push_run(data, &orphan.package, run));
            }
            dropped
        })
    }

    /// Re-reads the file under an exclusive lock (waited for at most the lock timeout), applies
    /// `change` (which returns the runs it dropped from the history) and writes atomically.
    fn update(&self, change: impl FnOnce(&mut StatusFile) -> Vec<RunRecord>) -> Result<()> {
        self.update_within(self.lock_timeout, NONE_BUILT, change)
    }

    /// [`StatusStore::update`], also adding to `derivations.json` the derivations a run built
    /// (name, ms) and when (`built`), in the same locked update.
    fn update_within(
        &self,
        lock_timeout: Duration,
        (built, built_at): Built<'_>,
        change: impl FnOnce(&mut StatusFile) -> Vec<RunRecord>,
    ) -> Result<()> {
        if let Some(why) = self.read_only() {
            anyhow::bail!("{why}");
        }
        let _lock = FileLock::exclusive(&self.file.with_extension("lock"), lock_timeout)?;
        let mut data = read_file(&self.file)?;
        self.note_version(&data);
        if let Some(why) = self.read_only() {
            anyhow::bail!("{why}");
        }
        let dropped = change(&mut data);
        // Before `status.json`, which then no longer holds an earlier atwb's durations: a crash
        // in between leaves them in both, which `durations::merge_legacy` counts once.
        if let Err(e) = self.write_derivations(&mut data.derivations, built, built_at) {
            // Estimates only: the run is recorded all the same (and an earlier atwb's durations
            // stay in `status.json`).
            tracing::warn!("derivation build times not written: {e:#}");
            if !built.is_empty() {
                self.push_write_error(format!(
                    "the build times of the derivations a job built were not kept: {e:#}"
                ));
            }
        }
        data.version = FORMAT_VERSION;
        let json = serde_json::to_vec(&data)?;
        crate::catalog::edit::write_atomic(&self.file, &json)?;
        *self.data.lock().expect("status store lock") = data;
        // Logs live as long as their run is in the history: disk use stays bounded. Only files
        // in our own logs directory are removed.
        let logs_dir = self.file.with_file_name("logs");
        for log in dropped.iter().filter_map(|r| r.log_file.as_ref()) {
            if log.parent() == Some(logs_dir.as_path()) {
                let _ = std::fs::remove_file(log);
            }
        }
        Ok(())
    }
}

/// Appends `run` to the package's history, trimmed to HISTORY_LEN; returns the runs dropped.
fn push_run(data: &mut StatusFile, package: &str, run: RunRecord) -> Vec<RunRecord> {
    let runs = data.packages.entry(package.to_string()).or_default();
    runs.push(run);
    let excess = runs.len().saturating_sub(HISTORY_LEN);
    runs.drain(..excess).collect()
}

impl StatusStore {
    /// Change the file under the exclusive lock ([`StatusStore::update`]) and return what `f`
    /// returns; drops no run from the history.
    fn modify<T>(&self, f: impl FnOnce(&mut StatusFile) -> T) -> Result<T> {
        let mut out = None;
        self.update(|data| {
            out = Some(f(data));
            Vec::new()
        })?;
        Ok(out.expect("the change ran"))
    }
}

fn read_file(path: &Path) -> Result<StatusFile> {
    match std::fs::read(path) {
        Ok(bytes) => parse_file(&bytes).with_context(|| {
            format!(
                "{} is not a valid status file; move it away to start afresh",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StatusFile::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The file's contents. One of a newer format that this atwb cannot read is kept as its version
/// only: shown as no history, and never written (see `StatusStore::note_version`).
fn parse_file(bytes: &[u8]) -> serde_json::Result<StatusFile> {
    serde_json::from_slice(bytes).or_else(|e| {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        match serde_json::from_slice::<VersionOnly>(bytes) {
            Ok(v) if v.version > FORMAT_VERSION => Ok(StatusFile {
                version: v.version,
                ..StatusFile::default()
            }),
            _ => Err(e),
        }
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_derivations;

/// A build run of target `t` that ended with `outcome` at `finished_at`, for the store's tests.
#[cfg(test)]
fn test_run(outcome: crate::jobs::spec::Outcome, finished_at: u64) -> RunRecord {
    RunRecord {
        kind: crate::jobs::spec::JobKind::Build,
        target: "t".into(),
        outcome,
        failure: None,
        duration_secs: 1.0,
        finished_at,
        drv_path: None,
        out_paths: vec![],
        log_file: None,
        fingerprint: None,
    }
}
