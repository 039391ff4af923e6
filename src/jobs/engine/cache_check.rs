//! Asking the binary caches about packages without building them (`atwb cache`, the TUI's
//! cache keys), as nix-eval-jobs' `--check-cache-status` does: the batch evaluation of the
//! targets' drv and out paths (`jobs::evaluate`), then the narinfo queries (`jobs::cache`) for
//! the configured substituters, both recorded in the status store. Evaluating runs the
//! catalog's Nix code, so this runs only when the user asks, never on browse or start-up.
//! In the TUI it is a background task of the engine: its progress and report go to the
//! subscribers as `JobEvent::CacheCheck`, and quitting cancels it with the jobs.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::EngineHandle;
use super::batch::{query_caches, record_cache_asked, record_evaluations};
use crate::jobs::cache::{self, CacheAsked, CacheState};
use crate::jobs::cache_check::{CacheRow, CheckEvent, CheckReport, CheckStage};
use crate::jobs::evaluate::{self, TargetEval};
use crate::jobs::spec::{JobEvent, JobId, JobSpec};
use crate::jobs::store::StatusStore;

impl EngineHandle {
    /// Evaluate `specs` and ask the caches about their outputs, in the background; the events
    /// carry the returned id.
    pub fn check_caches(&self, specs: Vec<JobSpec>) -> JobId {
        let id = JobId(
            self.inner
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        let cancel = self.inner.begin_evaluation();
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let subs = super::batch::substituters(&inner).await;
            let setup = CheckSetup {
                store: inner.cfg.store.as_deref(),
                substituters: Some(&subs),
                grace: inner.cfg.grace,
            };
            let progress = |stage| {
                let event = Box::new(CheckEvent::Stage(stage));
                inner.emit_droppable(JobEvent::CacheCheck { id, event });
            };
            let report = check(&specs, setup, &cancel, &progress).await;
            inner.end_evaluation(&cancel);
            let event = Box::new(CheckEvent::Done(report));
            inner.emit(JobEvent::CacheCheck { id, event }).await;
        });
        id
    }
}

/// Where a check reads and records.
#[derive(Clone, Copy)]
pub struct CheckSetup<'a> {
    pub store: Option<&'a StatusStore>,
    /// None: nix's own `substituters`.
    pub substituters: Option<&'a [String]>,
    /// Time nix gets after SIGINT when the check is cancelled.
    pub grace: Duration,
}

/// Evaluate `specs` in one batch, ask the caches about their outputs, record both. A target
/// the batch could not evaluate is evaluated alone for nix's message (its row's error).
/// None: cancelled.
pub async fn check(
    specs: &[JobSpec],
    setup: CheckSetup<'_>,
    cancel: &CancellationToken,
    progress: &(dyn Fn(CheckStage) + Send + Sync),
) -> Option<CheckReport> {
    progress(CheckStage::Evaluating {
        targets: specs.len(),
    });
    let mut eval = evaluate::evaluate(specs, cancel, setup.grace).await?;
    let errors = settle_the_rest(specs, &mut eval.targets, cancel, setup.grace).await;
    if cancel.is_cancelled() {
        return None;
    }
    if let Some(store) = setup.store {
        record_evaluations(store, specs, &eval);
    }
    let substituters = match setup.substituters {
        Some(s) => s.to_vec(),
        None => cache::nix_substituters().await.unwrap_or_else(|e| {
            tracing::warn!("asking nix for its substituters: {e:#}");
            Vec::new()
        }),
    };
    let outputs = eval
        .targets
        .iter()
        .map(|t| match t {
            TargetEval::Drv { out_paths, .. } => out_paths.len(),
            TargetEval::Own(_) => 0,
        })
        .sum();
    progress(CheckStage::Asking {
        outputs,
        substituters: substituters.len(),
    });
    let states = query_caches(specs, &eval, &substituters).await;
    if let Some(store) = setup.store {
        record_cache_asked(store, specs, &eval, states.clone(), &substituters);
    }
    let rows: Vec<CacheRow> = specs
        .iter()
        .zip(eval.targets)
        .zip(states.into_iter().zip(errors))
        .map(|((spec, target), (state, error))| row(spec, target, state, error))
        .collect();
    if let Some(store) = setup.store {
        record_failures(store, &rows);
    }
    Some(CheckReport {
        rows,
        asked: CacheAsked {
            at: crate::time::unix_now(),
            substituters,
        },
    })
}

/// The targets that did not evaluate, with nix's message (the detail pane says so until the
/// package changes or evaluates).
fn record_failures(store: &StatusStore, rows: &[CacheRow]) {
    let failures = rows
        .iter()
        .filter_map(|r| Some((r.package.clone(), r.state.clone().err()?)))
        .collect();
    if let Err(e) = store.record_cache_failures(failures) {
        tracing::error!("recording the failed cache checks: {e:#}");
    }
}

fn row(
    spec: &JobSpec,
    target: TargetEval,
    state: Option<CacheState>,
    error: Option<String>,
) -> CacheRow {
    let package = spec.package.clone();
    match target {
        TargetEval::Drv {
            drv_path,
            out_paths,
        } => CacheRow {
            package,
            drv_path: Some(drv_path),
            out_paths,
            state: Ok(state.unwrap_or(CacheState::Unknown {
                why: "not asked".into(),
            })),
        },
        TargetEval::Own(why) => CacheRow {
            package,
            drv_path: None,
            out_paths: Vec::new(),
            // Nix's message about this target alone says more than the batch's reason.
            state: Err(error.unwrap_or(why)),
        },
    }
}

/// The targets the batch did not evaluate, side by side: each is asked alone for nix's message;
/// one that evaluates alone (its group's evaluation failed on another target) is evaluated
/// alone, so it gets its drv and out paths. Returns each target's error message, if any.
async fn settle_the_rest(
    specs: &[JobSpec],
    targets: &mut [TargetEval],
    cancel: &CancellationToken,
    grace: Duration,
) -> Vec<Option<String>> {
    let asks = specs.iter().zip(targets.iter()).map(|(s, t)| async move {
        if matches!(t, TargetEval::Drv { .. }) {
            return (None, None);
        }
        if let Some(e) = evaluate::error_of(s, cancel, grace).await {
            return (Some(e), None);
        }
        let alone = evaluate::evaluate(std::slice::from_ref(s), cancel, grace).await;
        (None, alone.and_then(|a| a.targets.into_iter().next()))
    });
    let settled = futures::future::join_all(asks).await;
    settled
        .into_iter()
        .zip(targets.iter_mut())
        .map(|((error, alone), target)| {
            if let Some(t) = alone {
                *target = t;
            }
            error
        })
        .collect()
}
