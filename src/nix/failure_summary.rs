//! A classified failure in the stable form that is stored and acted on later: the class name, the
//! first relevant line and, for a hash mismatch, what the one-key fix needs. It outlives changes
//! to `classify::ErrorClass`, so a status store written by an older atwb still reads back.

use serde::{Deserialize, Serialize};

use super::classify::{ErrorClass, Failure};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSummary {
    /// snake_case class: `hash_mismatch`, `eval_error`, `builder_failed`, ...
    pub class: String,
    pub first_line: String,
    /// For a hash mismatch: the derivation and both hashes (what the one-key fix needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_mismatch: Option<HashMismatchInfo>,
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

impl From<&Failure> for FailureSummary {
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
        }
    }
}
