//! The TUI's picture of the job engine: one `JobView` per job of this session, folded from the
//! engine's `JobEvent`s by `update::on_job_event`. The engine stays the source of truth (logs,
//! processes); this is only what the strip, the jobs view and the tree glyphs draw.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::jobs::spec::FailureSummary;
use crate::jobs::{JobId, JobKind, JobSpec, Outcome, Progress};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobPhase {
    Queued,
    Running {
        started: Instant,
    },
    Finished {
        outcome: Outcome,
        duration: Duration,
        failure: Option<FailureSummary>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub id: JobId,
    pub spec: JobSpec,
    pub phase: JobPhase,
    pub progress: Progress,
    /// The builder's current phase (`buildPhase`), as nix reports it.
    pub build_phase: Option<String>,
    pub log_file: Option<PathBuf>,
    /// Median of earlier successful runs (from the status store), for "elapsed / estimate".
    pub estimate: Option<Duration>,
    /// Log lines seen so far (for the strip's "n lines").
    pub lines: u64,
    /// The derivation tree, as the job last sent it.
    pub tree: Option<Box<crate::nix::drvtree::TreeSnapshot>>,
    /// What the jobs view's detail pane shows about the nix process.
    pub details: JobDetails,
}

/// The nix process of a job, as its events told it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobDetails {
    /// The nix command line.
    pub command: Option<String>,
    /// Unix seconds.
    pub started_at: Option<u64>,
    pub ended_at: Option<u64>,
    pub exit_code: Option<i32>,
    pub drv_path: Option<String>,
}

impl JobView {
    pub fn new(id: JobId, spec: JobSpec, estimate: Option<Duration>) -> JobView {
        JobView {
            id,
            spec,
            phase: JobPhase::Queued,
            progress: Progress::default(),
            build_phase: None,
            log_file: None,
            estimate,
            lines: 0,
            tree: None,
            details: JobDetails::default(),
        }
    }

    pub fn is_active(&self) -> bool {
        !matches!(self.phase, JobPhase::Finished { .. })
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, JobPhase::Running { .. })
    }

    pub fn failed(&self) -> bool {
        matches!(
            self.phase,
            JobPhase::Finished {
                outcome: Outcome::Failed | Outcome::TimedOut,
                ..
            }
        )
    }

    /// Time spent so far (running) or in total (finished).
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match &self.phase {
            JobPhase::Queued => None,
            JobPhase::Running { started } => Some(now.saturating_duration_since(*started)),
            JobPhase::Finished { duration, .. } => Some(*duration),
        }
    }

    /// `demo`, `demo · smoke` for a test target.
    pub fn title(&self) -> String {
        match self.spec.kind {
            JobKind::Build => self.spec.package.clone(),
            _ if self.spec.label == self.spec.package => {
                format!("{} · {}", self.spec.package, self.spec.kind.as_str())
            }
            _ => format!("{} · {}", self.spec.package, self.spec.label),
        }
    }

    /// What the strip and the jobs view say about where the job is.
    pub fn state_text(&self) -> String {
        match &self.phase {
            JobPhase::Queued => "queued".into(),
            JobPhase::Running { .. } => {
                self.build_phase.clone().unwrap_or_else(|| "running".into())
            }
            JobPhase::Finished {
                outcome, failure, ..
            } => match failure {
                Some(f) if *outcome != Outcome::Ok => {
                    format!("{} · {}", outcome.as_str(), f.class.replace('_', " "))
                }
                _ => outcome.as_str().into(),
            },
        }
    }
}

/// A batch being built: the packages whose build has not finished yet, and the counts so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub pending: std::collections::BTreeSet<String>,
    pub total: usize,
    pub ok: usize,
    pub failed: usize,
    pub cancelled: usize,
}

/// Every job of this session, by id (submission order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobTable {
    pub jobs: BTreeMap<JobId, JobView>,
    /// The jobs view leaves out finished jobs (`H`).
    pub hide_finished: bool,
}

impl JobTable {
    pub fn active(&self) -> impl Iterator<Item = &JobView> {
        self.jobs.values().filter(|j| j.is_active())
    }

    pub fn active_count(&self) -> usize {
        self.active().count()
    }

    /// The newest job of `package` (any kind), preferring one that is still active.
    pub fn latest_for(&self, package: &str) -> Option<&JobView> {
        let mut of_pkg = self
            .jobs
            .values()
            .rev()
            .filter(|j| j.spec.package == package);
        let newest = of_pkg.clone().next();
        of_pkg.find(|j| j.is_active()).or(newest)
    }

    /// Whether a build of `package` is queued or running.
    pub fn building(&self, package: &str) -> bool {
        self.active()
            .any(|j| j.spec.package == package && j.spec.kind == JobKind::Build)
    }

    /// The jobs view's order: running, queued, then finished (newest first).
    /// What the jobs view lists: [`JobTable::ordered`], without the finished jobs when hidden.
    pub fn listed(&self) -> Vec<&JobView> {
        let mut v = self.ordered();
        if self.hide_finished {
            v.retain(|j| j.is_active());
        }
        v
    }

    /// Forget the finished jobs; returns how many.
    pub fn clear_finished(&mut self) -> usize {
        let before = self.jobs.len();
        self.jobs.retain(|_, j| j.is_active());
        before - self.jobs.len()
    }

    pub fn ordered(&self) -> Vec<&JobView> {
        let mut v: Vec<&JobView> = self.jobs.values().collect();
        v.sort_by_key(|j| {
            let rank = match j.phase {
                JobPhase::Running { .. } => 0,
                JobPhase::Queued => 1,
                JobPhase::Finished { .. } => 2,
            };
            let order = if rank == 2 { u64::MAX - j.id.0 } else { j.id.0 };
            (rank, order)
        });
        v
    }
}

/// `1m05s`, `42s`, `1h02m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if d.as_millis() < 10_000 && !d.as_millis().is_multiple_of(1000) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{s}s")
    }
}
