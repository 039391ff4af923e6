//! What a job is (kind, target) and what the engine reports about it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::nix::command::Installable;

/// Engine-wide job number, unique per engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// `nix build` of the package.
    Build,
    /// `nix build` of one of the package's checks (smoke or VM test).
    Test,
    /// `nix eval --json`.
    Eval,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Build => "build",
            JobKind::Test => "test",
            JobKind::Eval => "eval",
        }
    }
}

/// One nix process' worth of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub kind: JobKind,
    /// The catalog package this is about (status store key, log file name). With `--flake`, the
    /// attribute name.
    pub package: String,
    /// A short label for the target when it differs from the package (`smoke`, `pds-vm`).
    pub label: String,
    pub installable: Installable,
    /// `--rebuild` (benchmarks; checking determinism).
    #[serde(default)]
    pub rebuild: bool,
    /// The installable's derivation, when a batch evaluation (`jobs::evaluate`) already wrote
    /// it: the job then runs `nix build DRV` and evaluates nothing. None: `nix build flake#attr`.
    #[serde(default)]
    pub drv: Option<String>,
}

impl JobSpec {
    pub fn build(package: impl Into<String>, installable: Installable) -> Self {
        let package = package.into();
        JobSpec {
            kind: JobKind::Build,
            label: package.clone(),
            package,
            installable,
            rebuild: false,
            drv: None,
        }
    }

    pub fn eval(package: impl Into<String>, installable: Installable) -> Self {
        JobSpec {
            kind: JobKind::Eval,
            ..JobSpec::build(package, installable)
        }
    }

    /// The package's checks, one job each: `checks.<system>.<name>-smoke` and
    /// `checks.<system>.<name>-<service>-vm` (the catalog's Nix names them so).
    pub fn tests<'a>(
        flake: &str,
        system: &str,
        package: &str,
        services: impl IntoIterator<Item = &'a str>,
    ) -> Vec<JobSpec> {
        let mut checks = vec![format!("{package}-smoke")];
        checks.extend(services.into_iter().map(|s| format!("{package}-{s}-vm")));
        checks
            .into_iter()
            .map(|c| JobSpec {
                kind: JobKind::Test,
                package: package.to_string(),
                installable: Installable::new(flake, format!("checks.{system}.{c}")),
                label: c,
                rebuild: false,
                drv: None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Cancelled,
    TimedOut,
    /// The atwb running it died (SIGKILL, a crash) before it could say how it ended; the next
    /// atwb to open the status store recorded it so.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::TimedOut => "timed out",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// Why a job failed, as the status store keeps it (the store's records name it from here).
pub use crate::nix::failure_summary::{FailureSummary, HashMismatchInfo};

/// Everything known when a job ends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobResult {
    pub id: JobId,
    pub spec: JobSpec,
    pub outcome: Outcome,
    pub failure: Option<crate::nix::classify::Failure>,
    /// nix's exit status (None if it was killed by a signal or never started).
    pub exit_code: Option<i32>,
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
    pub started_at: u64,
    pub drv_path: Option<String>,
    pub out_paths: Vec<String>,
    pub log_file: Option<PathBuf>,
    /// `nix eval --json` output of an eval job.
    pub value: Option<String>,
    /// The derivations nix built (for the status store's history) and the final tree.
    #[serde(skip)]
    pub tree: crate::jobs::interpret::TreeReport,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Progress of the derivations one job realises: `[done, expected, running, failed]`, as nix's
/// internal-json reports it (one type, so the engine passes it on without copying fields).
pub use crate::nix::internal_json::Progress;

/// What subscribers receive. Lifecycle events (queued, started, finished) are always delivered;
/// log lines and progress may be dropped for a subscriber that falls behind (the full log is
/// on disk and in the job's ring).
#[derive(Debug, Clone)]
pub enum JobEvent {
    Queued {
        id: JobId,
        spec: JobSpec,
    },
    Started {
        id: JobId,
        pid: u32,
        command: String,
        log_file: PathBuf,
    },
    Log {
        id: JobId,
        line_no: u64,
        drv: Option<String>,
        text: String,
    },
    Progress {
        id: JobId,
        progress: Progress,
        phase: Option<String>,
    },
    /// The derivation tree (first rows and totals), at most every [`TREE_EVERY`] while lines
    /// arrive, and once at the end.
    Tree {
        id: JobId,
        tree: Box<crate::nix::drvtree::TreeSnapshot>,
    },
    Finished(Box<JobResult>),
    /// A cache check (`EngineHandle::check_caches`): how far it got, then its report.
    CacheCheck {
        id: JobId,
        event: Box<crate::jobs::cache_check::CheckEvent>,
    },
}

/// How often a running job sends its derivation tree.
pub const TREE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Rows of the tree a job sends (a pane shows fewer; the rest are counted).
pub const TREE_ROWS: usize = 200;

impl JobEvent {
    pub fn id(&self) -> JobId {
        match self {
            JobEvent::Queued { id, .. }
            | JobEvent::Started { id, .. }
            | JobEvent::Log { id, .. }
            | JobEvent::Progress { id, .. }
            | JobEvent::Tree { id, .. }
            | JobEvent::CacheCheck { id, .. } => *id,
            JobEvent::Finished(r) => r.id,
        }
    }
}
