//! `atwb build`'s step before the builds: one evaluation for all targets (each then built by its
//! drv), recorded in the status store, and with `--skip-cached` the binary caches asked which
//! targets need no build at all.

use std::io::Write;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::output::escape_controls;
use crate::jobs::EngineConfig;
use crate::jobs::JobSpec;
use crate::jobs::cache::{self, CacheState};
use crate::jobs::engine::batch::{query_caches, record_cache, record_evaluations};
use crate::jobs::evaluate::{self, TargetEval};

/// What to run, and what was skipped because a cache has it.
#[derive(Debug, Default)]
pub struct Prepared {
    pub run: Vec<JobSpec>,
    pub skipped: Vec<Skipped>,
}

/// A target not built: a substituter has every output.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub package: String,
    pub target: String,
    pub installable: String,
    /// The substituter that has it.
    pub cached_in: String,
    pub out_paths: Vec<String>,
}

/// How `atwb build` evaluates.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrepareOptions {
    /// Each target evaluates in its own `nix build flake#attr` (no batch evaluation).
    pub per_target: bool,
    pub skip_cached: bool,
}

fn note(text: &str) {
    let _ = std::io::stderr().write_all(format!("{}\n", escape_controls(text)).as_bytes());
}

/// Evaluate `specs` once and decide what to build. None: cancelled meanwhile.
pub async fn prepare(
    specs: Vec<JobSpec>,
    cfg: &EngineConfig,
    opts: PrepareOptions,
    cancel: &CancellationToken,
) -> Option<Prepared> {
    if opts.per_target {
        return Some(Prepared {
            run: specs,
            skipped: Vec::new(),
        });
    }
    let eval = evaluate::evaluate(&specs, cancel, cfg.grace).await?;
    note(&format!(
        "evaluated {} of {} targets in {} nix evaluation(s) ({:.1}s)",
        eval.evaluated(),
        specs.len(),
        eval.evaluations,
        eval.duration.as_secs_f64()
    ));
    for (s, t) in specs.iter().zip(&eval.targets) {
        if let TargetEval::Own(why) = t {
            note(&format!("  {}: evaluated by its own build: {why}", s.label));
        }
    }
    if let Some(store) = &cfg.store {
        record_evaluations(store, &specs, &eval);
    }
    let states = if opts.skip_cached {
        let subs = match &cfg.substituters {
            Some(s) => s.clone(),
            None => cache::nix_substituters().await.unwrap_or_else(|e| {
                note(&format!("atwb: asking nix for its substituters: {e:#}"));
                Vec::new()
            }),
        };
        let states = query_caches(&specs, &eval, &subs).await;
        if let Some(store) = &cfg.store {
            record_cache(store, &specs, &eval, states.clone());
        }
        states
    } else {
        vec![None; specs.len()]
    };
    let mut prepared = Prepared::default();
    for ((spec, target), state) in eval
        .apply(&specs)
        .into_iter()
        .zip(&eval.targets)
        .zip(states)
    {
        match (&state, target) {
            (Some(CacheState::Cached { url }), TargetEval::Drv { out_paths, .. }) => {
                note(&format!("skipped  {} (☁ cached in {url})", spec.label));
                prepared.skipped.push(Skipped {
                    package: spec.package.clone(),
                    target: spec.label.clone(),
                    installable: spec.installable.to_string(),
                    cached_in: url.clone(),
                    out_paths: out_paths.clone(),
                });
            }
            (Some(s @ CacheState::Unknown { .. }), _) => {
                note(&format!("  {}: {}; building it", spec.label, s.describe()));
                prepared.run.push(spec);
            }
            _ => prepared.run.push(spec),
        }
    }
    Some(prepared)
}
