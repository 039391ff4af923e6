//! Asking the binary caches about packages without building them (`atwb cache`, the TUI's
//! cache key), as nix-eval-jobs' `--check-cache-status` does: the batch evaluation of the
//! targets' drv and out paths (`jobs::evaluate`), then the narinfo queries (`jobs::cache`) for
//! the configured substituters, both recorded in the status store. Evaluating runs the
//! catalog's Nix code, so this runs only when the user asks, never on browse or start-up.

use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::cache::{self, CacheState};
use super::engine::batch::{query_caches, record_cache_asked, record_evaluations};
use super::evaluate::{self, TargetEval};
use super::spec::JobSpec;
use super::store::{CacheAsked, CacheStatus, StatusStore};

/// How far a cache check got (the status bar's progress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckStage {
    Evaluating { targets: usize },
    Asking { outputs: usize, substituters: usize },
}

impl std::fmt::Display for CheckStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckStage::Evaluating { targets } => write!(f, "evaluating {targets} target(s)"),
            CheckStage::Asking {
                outputs,
                substituters,
            } => write!(
                f,
                "asking {substituters} substituter(s) about {outputs} output(s)"
            ),
        }
    }
}

/// What the engine tells about a cache check it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckEvent {
    Stage(CheckStage),
    /// The end: the report, or None when it was cancelled.
    Done(Option<CheckReport>),
}

/// One target's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRow {
    pub package: String,
    pub drv_path: Option<String>,
    pub out_paths: Vec<String>,
    /// Ok: what the caches say; Err: the target did not evaluate, with nix's message.
    pub state: Result<CacheState, String>,
}

impl CacheRow {
    /// The row as the store now holds it, for the TUI (None: an evaluation error).
    pub fn status(&self, asked: &CacheAsked) -> Option<CacheStatus> {
        Some(CacheStatus {
            state: Some(self.state.clone().ok()?),
            asked: Some(asked.clone()),
            drv_path: self.drv_path.clone()?,
            out_paths: self.out_paths.clone(),
        })
    }
}

/// Everything one check found, in the order of the specs given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub rows: Vec<CacheRow>,
    pub asked: CacheAsked,
}

impl CheckReport {
    /// `3 cached, 1 not cached, 1 unknown, 1 evaluation error` (zero counts left out).
    pub fn summary(&self) -> String {
        let count = |f: &dyn Fn(&CacheRow) -> bool| self.rows.iter().filter(|r| f(r)).count();
        let parts = [
            (
                count(&|r| matches!(r.state, Ok(CacheState::Cached { .. }))),
                "cached",
            ),
            (
                count(&|r| matches!(r.state, Ok(CacheState::NotCached))),
                "not cached",
            ),
            (
                count(&|r| matches!(r.state, Ok(CacheState::Unknown { .. }))),
                "unknown",
            ),
            (count(&|r| r.state.is_err()), "evaluation error(s)"),
        ];
        let text: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if text.is_empty() {
            "nothing to ask about".into()
        } else {
            text.join(", ")
        }
    }
}

/// One JSON line of `atwb cache --json`.
#[derive(Debug, Serialize)]
pub struct RowJson<'a> {
    pub name: &'a str,
    /// null: not known (the caches could not tell, or the target did not evaluate).
    pub cached: Option<bool>,
    pub cache_url: Option<&'a str>,
    /// The first output (`out`), null without an evaluation.
    pub out_path: Option<&'a str>,
    pub out_paths: &'a [String],
    pub drv_path: Option<&'a str>,
    /// `cached`, `not_cached`, `unknown` or `eval_error`.
    pub state: &'static str,
    /// Why unknown, or the evaluation error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'a str>,
}

impl<'a> From<&'a CacheRow> for RowJson<'a> {
    fn from(r: &'a CacheRow) -> Self {
        let (cached, url, state, why) = match &r.state {
            Ok(CacheState::Cached { url }) => (Some(true), Some(url.as_str()), "cached", None),
            Ok(CacheState::NotCached) => (Some(false), None, "not_cached", None),
            Ok(CacheState::Unknown { why }) => (None, None, "unknown", Some(why.as_str())),
            Err(e) => (None, None, "eval_error", Some(e.as_str())),
        };
        RowJson {
            name: &r.package,
            cached,
            cache_url: url,
            out_path: r.out_paths.first().map(String::as_str),
            out_paths: &r.out_paths,
            drv_path: r.drv_path.as_deref(),
            state,
            why,
        }
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
    let rows = specs
        .iter()
        .zip(eval.targets)
        .zip(states.into_iter().zip(errors))
        .map(|((spec, target), (state, error))| row(spec, target, state, error))
        .collect();
    Some(CheckReport {
        rows,
        asked: CacheAsked {
            at: crate::time::unix_now(),
            substituters,
        },
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(state: Result<CacheState, String>) -> CacheRow {
        CacheRow {
            package: "p".into(),
            drv_path: Some("/nix/store/x-p.drv".into()),
            out_paths: vec!["/nix/store/y-p".into()],
            state,
        }
    }

    #[test]
    fn the_summary_counts_each_kind_of_answer() {
        let report = CheckReport {
            rows: vec![
                r(Ok(CacheState::Cached { url: "u".into() })),
                r(Ok(CacheState::Cached { url: "v".into() })),
                r(Ok(CacheState::NotCached)),
                r(Err("boom".into())),
            ],
            asked: CacheAsked {
                at: 1,
                substituters: vec![],
            },
        };
        assert_eq!(
            report.summary(),
            "2 cached, 1 not cached, 1 evaluation error(s)"
        );
        let rows: Vec<_> = report.rows.iter().map(RowJson::from).collect();
        let v = serde_json::to_value(&rows).unwrap();
        assert_eq!(v[0]["cached"], true);
        assert_eq!(v[0]["cache_url"], "u");
        assert_eq!(v[2]["cached"], false);
        assert_eq!(v[3]["state"], "eval_error");
        assert_eq!(v[3]["why"], "boom");
        assert!(v[3]["cached"].is_null());
        assert!(report.rows[3].status(&report.asked).is_none());
        assert_eq!(
            report.rows[0].status(&report.asked).unwrap().cached_in(),
            Some("u")
        );
    }
}
