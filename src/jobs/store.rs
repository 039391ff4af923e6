//! The persisted build status per package, one JSON file per catalog in
//! `paths::catalog_state_dir(catalog)/status.json`, written atomically under a lock so the TUI
//! and a headless `atwb build` can record at the same time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::fingerprint::Fingerprinter;
use super::spec::{FailureSummary, JobKind, JobResult, Outcome};
use crate::catalog::Catalog;

/// Runs kept per package.
pub const HISTORY_LEN: usize = 20;
const FORMAT_VERSION: u32 = 1;

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
            failure: r.failure.as_ref().map(FailureSummary::from),
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
    fingerprints: Fingerprinter,
}

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

    /// The store kept in `state_dir` (tests).
    pub fn open_in(catalog_root: &Path, state_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating {}", state_dir.display()))?;
        let store = StatusStore {
            catalog_root: catalog_root.to_path_buf(),
            file: state_dir.join("status.json"),
            data: Mutex::new(StatusFile::default()),
            fingerprints: Fingerprinter::default(),
        };
        store.reload()?;
        Ok(store)
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn catalog_root(&self) -> &Path {
        &self.catalog_root
    }

    /// Re-read the file (another process may have recorded runs).
    pub fn reload(&self) -> Result<()> {
        let fresh = read_file(&self.file)?;
        *self.data.lock().expect("status store lock") = fresh;
        Ok(())
    }

    /// Fingerprint of a package's files now; None for names that are not catalog packages
    /// (e.g. attributes of a `--flake` fixture).
    pub fn fingerprint(&self, name: &str) -> Option<String> {
        let file = crate::catalog::edit::find_package_file(&self.catalog_root, name)?;
        let dir = file.parent()?;
        Some(self.fingerprints.package(&self.catalog_root, dir))
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
        let stale = match last_build.as_ref().and_then(|b| b.fingerprint.as_ref()) {
            Some(fp) => self.fingerprint(name).is_some_and(|now| &now != fp),
            None => false,
        };
        Some(PackageStatus {
            last,
            last_build,
            stale,
            history,
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

    /// Append a run: re-reads the file under an exclusive lock, appends, trims to
    /// HISTORY_LEN and writes atomically.
    pub fn record(&self, package: &str, run: RunRecord) -> Result<()> {
        let _lock = FileLock::exclusive(&self.file.with_extension("lock"))?;
        let mut data = read_file(&self.file)?;
        let runs = data.packages.entry(package.to_string()).or_default();
        runs.push(run);
        let excess = runs.len().saturating_sub(HISTORY_LEN);
        let dropped: Vec<RunRecord> = runs.drain(..excess).collect();
        data.version = FORMAT_VERSION;
        let json = serde_json::to_vec_pretty(&data)?;
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

fn read_file(path: &Path) -> Result<StatusFile> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a valid status file; move it away to start afresh",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StatusFile::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `flock(LOCK_EX)` on a side file, released on drop.
struct FileLock(std::fs::File);

impl FileLock {
    fn exclusive(path: &Path) -> Result<Self> {
        use std::os::fd::AsRawFd;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("locking {}", path.display()));
        }
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: JobKind, outcome: Outcome, secs: f64, fp: Option<&str>) -> RunRecord {
        RunRecord {
            kind,
            target: "t".into(),
            outcome,
            failure: None,
            duration_secs: secs,
            finished_at: 1,
            drv_path: None,
            out_paths: vec![],
            log_file: None,
            fingerprint: fp.map(str::to_string),
        }
    }

    #[test]
    fn records_trims_history_and_persists() {
        let t = tempfile::tempdir().unwrap();
        let s = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
        for i in 0..25 {
            s.record("a", run(JobKind::Build, Outcome::Ok, f64::from(i), None))
                .unwrap();
        }
        let again = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
        let st = again.status("a").unwrap();
        assert_eq!(st.history.len(), HISTORY_LEN);
        assert_eq!(st.last.duration_secs, 24.0);
        assert_eq!(st.estimate(), Some(Duration::from_secs_f64(14.5)));
        assert!(again.status("b").is_none());
    }

    #[test]
    fn logs_of_runs_leaving_the_history_are_deleted() {
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        std::fs::create_dir_all(state.join("logs")).unwrap();
        let outside = t.path().join("elsewhere.log");
        std::fs::write(&outside, "x").unwrap();
        let mut logs = Vec::new();
        for i in 0..=HISTORY_LEN {
            let log = if i == 1 {
                outside.clone()
            } else {
                state.join(format!("logs/a-{i}.log"))
            };
            std::fs::write(&log, "x").unwrap();
            let mut r = run(JobKind::Build, Outcome::Ok, 1.0, None);
            r.log_file = Some(log.clone());
            s.record("a", r).unwrap();
            logs.push(log);
        }
        assert!(!logs[0].exists(), "oldest run's log removed");
        assert!(logs[2].exists() && logs[HISTORY_LEN].exists());
        s.record("a", run(JobKind::Build, Outcome::Ok, 1.0, None))
            .unwrap();
        assert!(
            outside.exists(),
            "files outside the logs directory are never removed"
        );
    }

    #[test]
    fn stale_when_package_files_change_after_build() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("pkgs/o/a");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.toml"), "name = \"a\"\n").unwrap();
        let s = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
        let fp = s.fingerprint("a").unwrap();
        s.record("a", run(JobKind::Build, Outcome::Failed, 1.0, Some(&fp)))
            .unwrap();
        assert!(!s.status("a").unwrap().stale);
        std::fs::write(dir.join("package.toml"), "name = \"a\"\nversion = \"2\"\n").unwrap();
        assert!(s.status("a").unwrap().stale);
    }

    #[test]
    fn median_ignores_failures_and_other_kinds() {
        let h = vec![
            run(JobKind::Build, Outcome::Ok, 10.0, None),
            run(JobKind::Build, Outcome::Failed, 99.0, None),
            run(JobKind::Test, Outcome::Ok, 50.0, None),
            run(JobKind::Build, Outcome::Ok, 30.0, None),
            run(JobKind::Build, Outcome::Ok, 20.0, None),
        ];
        assert_eq!(estimate(&h, JobKind::Build), Some(Duration::from_secs(20)));
        assert_eq!(estimate(&h, JobKind::Eval), None);
    }
}
