//! A classified failure in the stable form that is stored and acted on later: the class name, the
//! first relevant line and, for a hash mismatch, what the one-key fix needs. It outlives changes
//! to `classify::ErrorClass`, so a status store written by an older atwb still reads back.

use serde::{Deserialize, Serialize};

use super::advice;
use super::classify::{ErrorClass, Failure};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSummary {
    /// snake_case class: `hash_mismatch`, `eval_error`, `builder_failed`, ...
    pub class: String,
    pub first_line: String,
    /// For a hash mismatch: the derivation and both hashes (what the one-key fix needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_mismatch: Option<HashMismatchInfo>,
    /// One line of advice (see `advice`); records written before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A fixed-output derivation's `specified:` and `got:` hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashMismatchInfo {
    pub drv_path: String,
    pub specified: String,
    pub got: String,
    /// nix itself reported it (see `ErrorClass::HashMismatch`). Records written before this
    /// field existed read as unconfirmed: nothing then told a builder's message from nix's.
    #[serde(default)]
    pub confirmed: bool,
}

impl FailureSummary {
    /// With the hint `ctx` allows (the flake's lock file, the names nearest a missing one).
    pub fn with_hint(f: &Failure, ctx: &advice::Context) -> Self {
        FailureSummary {
            hint: advice::hint(&f.class, ctx),
            ..FailureSummary::from(f)
        }
    }
}

impl From<&Failure> for FailureSummary {
    /// With the hint a failure gives alone (no flake, package or names known).
    fn from(f: &Failure) -> Self {
        let hash_mismatch = match &f.class {
            ErrorClass::HashMismatch {
                drv,
                specified,
                got,
                confirmed,
            } => Some(HashMismatchInfo {
                drv_path: drv.clone(),
                specified: specified.clone(),
                got: got.clone(),
                confirmed: *confirmed,
            }),
            _ => None,
        };
        FailureSummary {
            class: f.class.name().to_string(),
            first_line: f.first_line.clone(),
            hash_mismatch,
            hint: advice::hint(&f.class, &advice::Context::default()),
        }
    }
}
