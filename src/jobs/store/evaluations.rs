//! What the newest batch evaluation said about each package: its drv and out paths, and whether a
//! binary cache has them. The drv makes staleness exact: a build is stale when the drv it built
//! is not the drv the package evaluates to now. "Now" is known only as of the newest evaluation,
//! so that route is taken only while the package's files are as they were then; otherwise (or
//! with no drv known) staleness falls back to the files' fingerprint.

use serde::{Deserialize, Serialize};

use super::{RunRecord, StatusStore};
use crate::jobs::cache::CacheState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub drv_path: String,
    pub out_paths: Vec<String>,
    /// The package's fingerprint when it was evaluated (None for names outside the catalog).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Unix seconds.
    pub evaluated_at: u64,
    /// Whether a substituter has the out paths, as last asked (None: not asked).
    #[serde(default)]
    pub cache: Option<CacheState>,
}

impl StatusStore {
    /// The package's newest evaluation.
    pub fn evaluation(&self, name: &str) -> Option<Evaluation> {
        self.data
            .lock()
            .expect("status store lock")
            .evaluations
            .get(name)
            .cloned()
    }

    /// Keep the evaluations of a batch (one write for all of them).
    pub fn record_evaluations(&self, evals: Vec<(String, Evaluation)>) -> anyhow::Result<()> {
        if evals.is_empty() {
            return Ok(());
        }
        self.modify(|data| {
            for (name, mut e) in evals {
                // The cache status of the same outputs stays true until asked again.
                if let Some(old) = data.evaluations.get(&name)
                    && old.out_paths == e.out_paths
                    && e.cache.is_none()
                {
                    e.cache.clone_from(&old.cache);
                }
                data.evaluations.insert(name, e);
            }
        })
    }

    /// Keep what the caches said about packages' outputs; an answer about a drv that is no
    /// longer the package's newest evaluation is dropped.
    pub fn record_cache(&self, states: Vec<(String, String, CacheState)>) -> anyhow::Result<()> {
        if states.is_empty() {
            return Ok(());
        }
        self.modify(|data| {
            for (name, drv, state) in states {
                if let Some(e) = data.evaluations.get_mut(&name)
                    && e.drv_path == drv
                {
                    e.cache = Some(state);
                }
            }
        })
    }

    /// Whether `build` (the package's newest build) is out of date; see the module comment.
    pub(super) fn build_is_stale(&self, name: &str, build: &RunRecord) -> bool {
        let now = self.fingerprint(name);
        if let (Some(built), Some(eval)) = (&build.drv_path, self.evaluation(name))
            && eval.fingerprint == now
        {
            return &eval.drv_path != built;
        }
        match &build.fingerprint {
            Some(fp) => now.is_some_and(|n| &n != fp),
            None => false,
        }
    }
}
