//! Runs in progress, kept in the status file from the moment nix starts: an atwb killed with
//! SIGKILL (or by the OOM killer, or a power cut) cannot record how its runs ended, so the next
//! atwb that opens the store finds their entries, sees that the atwb owning them is gone, stops
//! the nix process group it left behind and records each run as interrupted.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RunRecord;
use crate::jobs::process;
use crate::jobs::spec::{FailureSummary, JobKind, Outcome};

/// How long a leftover nix group gets after SIGTERM before SIGKILL: short, since the user is
/// waiting for the store to open, and nix reacts to SIGTERM in milliseconds when it reacts.
pub(super) const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// A run whose nix was started and whose end is not recorded yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningRecord {
    pub package: String,
    pub kind: JobKind,
    pub target: String,
    /// The atwb process running it, with its start time (clock ticks after boot) so that a
    /// later process with the same pid is not taken for it.
    pub owner_pid: u32,
    pub owner_start: u64,
    /// nix's process group (nix's pid) and nix's start time, for the same reason.
    pub pgid: u32,
    pub pgid_start: Option<u64>,
    /// Unix seconds.
    pub started_at: u64,
    pub log_file: Option<PathBuf>,
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl RunningRecord {
    /// The entry for a nix just started by this process as `pgid`.
    pub fn started_here(
        package: &str,
        kind: JobKind,
        target: &str,
        pgid: u32,
        log_file: Option<PathBuf>,
        fingerprint: Option<String>,
    ) -> RunningRecord {
        RunningRecord {
            package: package.to_string(),
            kind,
            target: target.to_string(),
            owner_pid: std::process::id(),
            owner_start: own_start_time(),
            pgid,
            pgid_start: process::start_time(pgid),
            started_at: crate::time::unix_now(),
            log_file,
            fingerprint,
        }
    }

    /// Whether the atwb that started the run is gone (a later process with its pid does not
    /// count as it).
    pub fn owner_gone(&self) -> bool {
        !process::is_same_running(self.owner_pid, self.owner_start)
    }

    /// Whether this is the entry of the run that just finished here (the log file names a job
    /// uniquely: no two jobs share one).
    pub(super) fn is_run(&self, package: &str, run: &RunRecord) -> bool {
        self.owner_pid == std::process::id()
            && self.owner_start == own_start_time()
            && self.package == package
            && run.log_file.is_some()
            && self.log_file == run.log_file
    }

    /// Stops what the dead owner left running and says how the run ended. The run's end is
    /// taken as the last write to its log (the kill came after it), else now.
    pub(super) fn interrupt(&self) -> RunRecord {
        let left_running = self
            .pgid_start
            .is_some_and(|start| process::stop_leftover_group(self.pgid, start, LEFTOVER_GRACE));
        let now = crate::time::unix_now();
        let last_write = self
            .log_file
            .as_ref()
            .and_then(|l| std::fs::metadata(l).ok()?.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(now, |d| d.as_secs());
        let finished_at = last_write.clamp(self.started_at, now.max(self.started_at));
        let stopped = if left_running {
            "; its nix was still running and was stopped"
        } else {
            ""
        };
        RunRecord {
            kind: self.kind,
            target: self.target.clone(),
            outcome: Outcome::Interrupted,
            failure: Some(FailureSummary {
                class: "interrupted".into(),
                first_line: format!(
                    "atwb (pid {}) ended while this ran, without recording how it ended{stopped}; \
                     the log holds what nix printed until then",
                    self.owner_pid
                ),
                hash_mismatch: None,
                hint: Some(
                    "run the build again; `atwb log` on the log file triages what it holds".into(),
                ),
            }),
            duration_secs: (finished_at - self.started_at) as f64,
            finished_at,
            drv_path: None,
            out_paths: Vec::new(),
            log_file: self.log_file.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// This process' start time, read once.
fn own_start_time() -> u64 {
    static START: OnceLock<u64> = OnceLock::new();
    *START.get_or_init(|| process::start_time(std::process::id()).unwrap_or(0))
}
