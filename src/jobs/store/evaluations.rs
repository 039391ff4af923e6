//! What the newest batch evaluation said about each package: its drv and out paths, and whether a
//! binary cache has them. The drv makes staleness exact: a build is stale when the drv it built
//! is not the drv the package evaluates to now. "Now" is known only as of the newest evaluation,
//! so that route is taken only while the package's files are as they were then; otherwise (or
//! with no drv known) staleness falls back to the files' fingerprint.

use serde::{Deserialize, Serialize};

use super::{RunRecord, StatusStore};
use crate::jobs::cache::{CacheAsked, CacheState};
use crate::jobs::cache_check::CacheRow;

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
    /// When `cache` was asked, and of which substituters (empty: not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_asked: Option<CacheAsked>,
}

impl Evaluation {
    /// Whether an out path of this evaluation is not in the store (nix would realise it).
    pub fn outputs_missing(&self) -> bool {
        self.out_paths
            .iter()
            .any(|o| !std::path::Path::new(o).exists())
    }
}

/// A cache check that could not evaluate the package (offline, a throwing attribute): nix's
/// message and when. Kept like an answer: shown only while the package's files are as they
/// were then, and dropped when the package evaluates again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheFailure {
    pub error: String,
    /// Unix seconds.
    pub at: u64,
    /// The package's fingerprint when it was asked about.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// A package's binary-cache state as the tree, the detail pane and `--json` show it: that of
/// its newest evaluation, and only while that evaluation is current (the package's files are as
/// they were when it was evaluated); otherwise nothing is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStatus {
    /// None: the caches were not asked about these outputs.
    pub state: Option<CacheState>,
    pub asked: Option<CacheAsked>,
    pub drv_path: String,
    pub out_paths: Vec<String>,
}

impl CacheStatus {
    /// A cache check's row as the store now holds it (None: the target did not evaluate).
    pub fn of_row(row: &CacheRow, asked: &CacheAsked) -> Option<CacheStatus> {
        Some(CacheStatus {
            state: Some(row.state.clone().ok()?),
            asked: Some(asked.clone()),
            drv_path: row.drv_path.clone()?,
            out_paths: row.out_paths.clone(),
        })
    }

    pub fn cached_in(&self) -> Option<&str> {
        self.state.as_ref().and_then(CacheState::cached_in)
    }

    /// `show --json`, `list --json` and `atwb cache --json`: `state` is `cached` (with `url`),
    /// `not_cached`, or `unknown` (with `why`); None (no current evaluation) is `unknown` too.
    pub fn json(status: Option<&CacheStatus>) -> serde_json::Value {
        let Some(s) = status else {
            return serde_json::json!({
                "state": "unknown",
                "why": "not asked since the package last changed",
            });
        };
        let mut v = match &s.state {
            Some(state) => serde_json::to_value(state).unwrap_or_default(),
            None => serde_json::json!({
                "state": "unknown",
                "why": "the caches were not asked about this evaluation",
            }),
        };
        v["drv_path"] = s.drv_path.clone().into();
        v["out_paths"] = s.out_paths.clone().into();
        if let Some(a) = &s.asked {
            v["asked_at"] = a.at.into();
            v["substituters"] = a.substituters.clone().into();
        }
        v
    }
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
                    e.cache_asked.clone_from(&old.cache_asked);
                }
                // It evaluates now: an earlier check's failure is history.
                data.cache_failures.remove(&name);
                data.evaluations.insert(name, e);
            }
        })
    }

    /// Keep the packages a cache check could not evaluate, with nix's message (one write).
    pub fn record_cache_failures(&self, failures: Vec<(String, String)>) -> anyhow::Result<()> {
        if failures.is_empty() {
            return Ok(());
        }
        let at = crate::time::unix_now();
        let failures: Vec<_> = failures
            .into_iter()
            .map(|(name, error)| {
                let fingerprint = self.fingerprint(&name);
                let f = CacheFailure {
                    error,
                    at,
                    fingerprint,
                };
                (name, f)
            })
            .collect();
        self.modify(|data| data.cache_failures.extend(failures))
    }

    /// The package's last failed cache check, while its files are as they were then.
    pub fn cache_failure(&self, name: &str) -> Option<CacheFailure> {
        let f = self
            .data
            .lock()
            .expect("status store lock")
            .cache_failures
            .get(name)
            .cloned()?;
        (f.fingerprint == self.fingerprint(name)).then_some(f)
    }

    /// Keep what the caches said about packages' outputs; an answer about a drv that is no
    /// longer the package's newest evaluation is dropped.
    pub fn record_cache(&self, states: Vec<(String, String, CacheState)>) -> anyhow::Result<()> {
        self.record_cache_asked(states, &[])
    }

    /// [`Self::record_cache`], noting now and the substituters asked (for "asked X, 5m ago").
    pub fn record_cache_asked(
        &self,
        states: Vec<(String, String, CacheState)>,
        substituters: &[String],
    ) -> anyhow::Result<()> {
        if states.is_empty() {
            return Ok(());
        }
        let asked = CacheAsked {
            at: crate::time::unix_now(),
            substituters: substituters.to_vec(),
        };
        self.modify(|data| {
            for (name, drv, state) in states {
                if let Some(e) = data.evaluations.get_mut(&name)
                    && e.drv_path == drv
                {
                    e.cache = Some(state);
                    e.cache_asked = Some(asked.clone());
                }
            }
        })
    }

    /// The package's cache state, if its newest evaluation is current (see [`CacheStatus`]).
    pub fn cache_status(&self, name: &str) -> Option<CacheStatus> {
        let e = self.evaluation(name)?;
        let current = e.fingerprint == self.fingerprint(name);
        current.then_some(CacheStatus {
            state: e.cache,
            asked: e.cache_asked,
            drv_path: e.drv_path,
            out_paths: e.out_paths,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_a_cache_status_only_when_it_evaluated() {
        let asked = CacheAsked {
            at: 5,
            substituters: vec!["u".into()],
        };
        let mut row = CacheRow {
            package: "p".into(),
            drv_path: Some("/nix/store/x-p.drv".into()),
            out_paths: vec!["/nix/store/y-p".into()],
            state: Ok(CacheState::Cached { url: "u".into() }),
        };
        let s = CacheStatus::of_row(&row, &asked).unwrap();
        assert_eq!(s.cached_in(), Some("u"));
        let v = CacheStatus::json(Some(&s));
        assert_eq!(v["state"], "cached");
        assert_eq!(v["url"], "u");
        assert_eq!(v["asked_at"], 5);
        assert_eq!(CacheStatus::json(None)["state"], "unknown");
        row.state = Err("boom".into());
        assert!(CacheStatus::of_row(&row, &asked).is_none());
    }

    /// A failed check is kept on disk, goes stale with an edit, and a later evaluation of the
    /// package drops it.
    #[test]
    fn a_failed_check_is_kept_until_an_edit_or_an_evaluation() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("pkgs/o/a");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.toml"), "name = \"a\"\n").unwrap();
        let state = t.path().join("state");
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        assert_eq!(s.cache_failure("a"), None);
        s.record_cache_failures(vec![("a".into(), "error: offline".into())])
            .unwrap();
        let again = StatusStore::open_in(t.path(), &state).unwrap();
        let f = again.cache_failure("a").expect("kept in the file");
        assert_eq!(f.error, "error: offline");
        assert!(f.at > 0 && f.fingerprint.is_some());
        std::fs::write(dir.join("package.toml"), "name = \"a\"\nversion = \"2\"\n").unwrap();
        assert_eq!(again.cache_failure("a"), None, "stale after an edit");
        again
            .record_cache_failures(vec![("a".into(), "error: again".into())])
            .unwrap();
        assert_eq!(again.cache_failure("a").unwrap().error, "error: again");
        let e = Evaluation {
            drv_path: "/nix/store/x-a.drv".into(),
            out_paths: vec!["/nix/store/y-a".into()],
            fingerprint: again.fingerprint("a"),
            evaluated_at: 1,
            cache: None,
            cache_asked: None,
        };
        again.record_evaluations(vec![("a".into(), e)]).unwrap();
        assert_eq!(again.cache_failure("a"), None, "it evaluates now");
    }
}
