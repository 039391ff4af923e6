//! How a build ended, from nix's Builds counts, its error messages and the run's end (the rule
//! is [`BuildCounts`](crate::nix::build_counts::BuildCounts)'s; this applies it to the derivation
//! records).

use super::{BuildState, DrvStatus};
use crate::nix::build_counts::{Before, Outcome};

impl BuildState {
    /// The run ended (`succeeded`: nix exited 0, or a log whose classification found no
    /// error): builds that stopped without a count are settled (see [`BuildCounts::finish`](crate::nix::build_counts::BuildCounts::finish)).
    pub fn finish(&mut self, succeeded: bool) {
        let settled = self.counts.finish(succeeded);
        self.settle(settled);
    }

    /// Stopped builds the counts or the run's end settled (a build first taken as cancelled
    /// may turn out built: see [`BuildCounts::stopped`](crate::nix::build_counts::BuildCounts::stopped)).
    pub(super) fn settle(&mut self, settled: Vec<(usize, Outcome)>) {
        for (i, outcome) in settled {
            if matches!(
                self.drvs[i].status,
                DrvStatus::Stopped | DrvStatus::Cancelled
            ) {
                self.set_status(i, status_of(outcome));
            }
        }
    }

    /// What an error message naming build `i` means for the counts.
    pub(super) fn count_failure_of(&mut self, i: usize) {
        let before = match self.drvs[i].status {
            DrvStatus::Building => Before::Running,
            DrvStatus::Built => Before::Built,
            _ => Before::Other,
        };
        self.counts.failed_message(i, before);
    }
}

pub(super) fn status_of(outcome: Outcome) -> DrvStatus {
    match outcome {
        Outcome::Built => DrvStatus::Built,
        Outcome::Failed => DrvStatus::Failed,
        Outcome::Cancelled => DrvStatus::Cancelled,
    }
}
