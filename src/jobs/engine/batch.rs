//! Several builds submitted together: queued at once (the jobs view shows them), evaluated in
//! one `nix eval` (`jobs::evaluate`), then each built by its drv. The evaluations are recorded in
//! the status store, and the caches are asked about the outputs while the builds run.

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::{EngineHandle, Inner};
use crate::jobs::cache::{self, CacheState};
use crate::jobs::evaluate::{self, BatchEval, TargetEval};
use crate::jobs::spec::{JobId, JobKind, JobSpec};
use crate::jobs::store::{Evaluation, StatusStore};

impl EngineHandle {
    /// Queue `specs` as one batch (see the module comment); ids in the order given.
    pub fn submit_batch(&self, specs: Vec<JobSpec>) -> Vec<JobId> {
        self.warm_up();
        let mut gates = Vec::with_capacity(specs.len());
        let ids = specs
            .iter()
            .map(|s| {
                let (tx, rx) = oneshot::channel();
                gates.push(tx);
                self.submit_gated(s.clone(), Some(rx))
            })
            .collect();
        let cancel = self.inner.begin_evaluation();
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let eval = evaluate::evaluate(&specs, &cancel, inner.cfg.grace).await;
            inner.end_evaluation(&cancel);
            // Cancelled: the gates close and the jobs, cancelled too, end as such.
            let Some(eval) = eval else { return };
            if let Some(store) = &inner.cfg.store {
                record_evaluations(store, &specs, &eval);
            }
            for (gate, spec) in gates.into_iter().zip(eval.apply(&specs)) {
                let _ = gate.send(spec);
            }
            if let Some(store) = inner.cfg.store.as_ref().filter(|_| eval.evaluated() > 0) {
                let subs = substituters(&inner).await;
                let states = query_caches(&specs, &eval, &subs).await;
                record_cache_asked(store, &specs, &eval, states, &subs);
            }
        });
        ids
    }
}

pub(super) async fn substituters(inner: &Inner) -> Vec<String> {
    match &inner.cfg.substituters {
        Some(s) => s.clone(),
        None => cache::nix_substituters().await.unwrap_or_else(|e| {
            tracing::warn!("asking nix for its substituters: {e:#}");
            Vec::new()
        }),
    }
}

/// What the caches say about each evaluated target's outputs (None: not evaluated).
pub async fn query_caches(
    specs: &[JobSpec],
    eval: &BatchEval,
    substituters: &[String],
) -> Vec<Option<CacheState>> {
    let outs: Vec<Vec<String>> = eval
        .targets
        .iter()
        .map(|t| match t {
            TargetEval::Drv { out_paths, .. } => out_paths.clone(),
            TargetEval::Own(_) => Vec::new(),
        })
        .collect();
    debug_assert_eq!(specs.len(), outs.len());
    let asked: Vec<usize> = (0..outs.len()).filter(|&i| !outs[i].is_empty()).collect();
    let asked_outs: Vec<Vec<String>> = asked.iter().map(|&i| outs[i].clone()).collect();
    let states = cache::query(&asked_outs, substituters, cache::QUERY_TIMEOUT).await;
    let mut all = vec![None; outs.len()];
    for (i, s) in asked.into_iter().zip(states) {
        all[i] = Some(s);
    }
    all
}

/// Keep the drv and outputs of each evaluated package build (not checks: they are other drvs).
pub fn record_evaluations(store: &StatusStore, specs: &[JobSpec], eval: &BatchEval) {
    let now = crate::time::unix_now();
    let evals = specs
        .iter()
        .zip(&eval.targets)
        .filter(|(s, _)| s.kind == JobKind::Build)
        .filter_map(|(s, t)| match t {
            TargetEval::Drv {
                drv_path,
                out_paths,
            } => Some((
                s.package.clone(),
                Evaluation {
                    drv_path: drv_path.clone(),
                    out_paths: out_paths.clone(),
                    fingerprint: store.fingerprint(&s.package),
                    evaluated_at: now,
                    cache: None,
                    cache_asked: None,
                },
            )),
            TargetEval::Own(_) => None,
        })
        .collect();
    if let Err(e) = store.record_evaluations(evals) {
        tracing::error!("recording the evaluations: {e:#}");
    }
}

pub fn record_cache(
    store: &StatusStore,
    specs: &[JobSpec],
    eval: &BatchEval,
    states: Vec<Option<CacheState>>,
) {
    record_cache_asked(store, specs, eval, states, &[]);
}

/// [`record_cache`], noting which substituters were asked.
pub fn record_cache_asked(
    store: &StatusStore,
    specs: &[JobSpec],
    eval: &BatchEval,
    states: Vec<Option<CacheState>>,
    substituters: &[String],
) {
    let records = specs
        .iter()
        .zip(&eval.targets)
        .zip(states)
        .filter(|((s, _), _)| s.kind == JobKind::Build)
        .filter_map(|((s, t), state)| match (t, state) {
            (TargetEval::Drv { drv_path, .. }, Some(state)) => {
                Some((s.package.clone(), drv_path.clone(), state))
            }
            _ => None,
        })
        .collect();
    if let Err(e) = store.record_cache_asked(records, substituters) {
        tracing::error!("recording the cache status: {e:#}");
    }
}

impl Inner {
    /// A token for an evaluation about to start, cancelled with the jobs (`cancel_all`).
    pub(super) fn begin_evaluation(&self) -> CancellationToken {
        let cancel = CancellationToken::new();
        self.evaluations
            .lock()
            .expect("evaluations")
            .push(cancel.clone());
        cancel
    }

    /// The evaluation of `cancel` ended (either way): its token is dropped from the list.
    pub(super) fn end_evaluation(&self, cancel: &CancellationToken) {
        cancel.cancel();
        self.evaluations
            .lock()
            .expect("evaluations")
            .retain(|c| !c.is_cancelled());
    }
}
