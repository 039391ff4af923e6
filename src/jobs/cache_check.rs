//! What asking the binary caches without building reports (`atwb cache`, the TUI's cache
//! keys): its stages, one row per target, the summary and the JSON rows. The check itself is
//! `engine::cache_check` (it evaluates and records, so it lives with the engine).

use serde::Serialize;

use super::cache::{CacheAsked, CacheState};

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
    }
}
