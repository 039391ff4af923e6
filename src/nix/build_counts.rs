//! Which build nix's Builds (104) counters speak of.
//!
//! A Build activity's `stop` carries no status: that one more build is done or failed is said
//! only by the Builds progress `[done, expected, running, failed]`. Nix 2.8 to 2.34 update
//! it just *before* the stop (`tests/fixtures/logs/nix-*`); Lix 2.95 just *after* it, and
//! for the last build of a run often never (`tests/fixtures/logs/lix-2.95/success.log`: the
//! last count says one build running when every activity stops). So a build that stops
//! before a count can claim it waits here until a later count, nix's error message, or the
//! end of the run settles it. [`BuildState`](super::state::BuildState) and
//! [`DrvTree`](super::drvtree::DrvTree) each keep one, with their own keys.

use std::collections::VecDeque;

use super::internal_json::Progress;

/// Builds stopped and not yet counted, at most this many (each waits for a count or the run's
/// end; a log whose builds never get one must not grow memory). Older ones stay unsettled.
pub const MAX_PENDING: usize = 4096;

/// How a build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Built,
    Failed,
    /// Killed because another build failed (or nix was interrupted): not its own failure.
    Cancelled,
}

/// Where a build stood when nix's error message named it as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Started, not stopped: its failure count came or will come.
    Running,
    /// Taken as built from a done count, which then belonged to another build.
    Built,
    /// Never started (a dependency failed) or already failed: nix counts nothing for it.
    Other,
}

#[derive(Debug, Clone)]
pub struct BuildCounts<K> {
    counts: Progress,
    done_claimed: u64,
    /// Failures known: counts claimed at a stop plus builds nix's messages said failed.
    failed_known: u64,
    /// Build activities started and not stopped.
    live: u64,
    pending: VecDeque<K>,
}

impl<K> Default for BuildCounts<K> {
    fn default() -> Self {
        BuildCounts {
            counts: Progress::default(),
            done_claimed: 0,
            failed_known: 0,
            live: 0,
            pending: VecDeque::new(),
        }
    }
}

impl<K: Copy + PartialEq> BuildCounts<K> {
    /// The last counts nix sent.
    pub fn counts(&self) -> Progress {
        self.counts
    }

    /// Builds stopped and waiting for a count.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub fn started(&mut self) {
        self.live += 1;
    }

    /// A build activity ended without a stop (forgotten to stay bounded).
    pub fn forgotten(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// Build `key` stopped with no message settling it. None: nothing says yet how it ended,
    /// it waits. `Cancelled` when another build failed: nix kills the rest (Nix 2.8 to 2.34
    /// never count it); it waits too, as with `--keep-going` Lix counts it built later.
    pub fn stopped(&mut self, key: K) -> Option<Outcome> {
        self.live = self.live.saturating_sub(1);
        if self.counts.failed > self.failed_known {
            self.failed_known += 1;
            return Some(Outcome::Failed);
        }
        if self.counts.done > self.done_claimed {
            self.done_claimed += 1;
            return Some(Outcome::Built);
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(key);
        self.failure_seen().then_some(Outcome::Cancelled)
    }

    fn failure_seen(&self) -> bool {
        self.failed_known > 0 || self.counts.failed > 0
    }

    /// A build whose stop needs no count: a message settled it while it ran.
    pub fn stopped_settled(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// Nix's new counts; returns the waiting builds they settle, oldest first.
    ///
    /// A count settles a waiting build only when no running build can be the one counted:
    /// nix's `running` is not below the builds atwb sees running. With Nix's order the build
    /// counted still runs (nix counts one fewer than atwb sees) and claims its count at its
    /// stop, which comes next.
    pub fn progress(&mut self, counts: Progress) -> Vec<(K, Outcome)> {
        self.counts = counts;
        if counts.running < self.live {
            return Vec::new();
        }
        self.settle_from_counts()
    }

    fn settle_from_counts(&mut self) -> Vec<(K, Outcome)> {
        let mut out = Vec::new();
        while self.counts.failed > self.failed_known
            && let Some(k) = self.pending.pop_front()
        {
            self.failed_known += 1;
            out.push((k, Outcome::Failed));
        }
        while self.counts.done > self.done_claimed
            && let Some(k) = self.pending.pop_front()
        {
            self.done_claimed += 1;
            out.push((k, Outcome::Built));
        }
        out
    }

    /// Nix's error message says `key` failed.
    pub fn failed_message(&mut self, key: K, before: Before) {
        // A waiting build: the count it waits for is this failure (rare: a scan is fine).
        if let Some(at) = self.pending.iter().position(|k| *k == key) {
            self.pending.remove(at);
            self.failed_known += 1;
            return;
        }
        match before {
            Before::Running => self.failed_known += 1,
            Before::Built => self.done_claimed = self.done_claimed.saturating_sub(1),
            Before::Other => {}
        }
    }

    /// Nix was interrupted: every waiting build is cancelled (returned).
    pub fn interrupted(&mut self) -> Vec<K> {
        self.pending.drain(..).collect()
    }

    /// The run ended (`succeeded`: nix exited 0, or a log with no error). Counts not yet
    /// claimed settle the oldest waiting builds; the rest were built when the run succeeded
    /// (Lix does not count the last build), cancelled when a build failed (nix kills the rest),
    /// and stay unsettled otherwise (a log cut short says nothing about them).
    pub fn finish(&mut self, succeeded: bool) -> Vec<(K, Outcome)> {
        let mut out = self.settle_from_counts();
        let rest = if succeeded {
            Some(Outcome::Built)
        } else if self.failure_seen() {
            Some(Outcome::Cancelled)
        } else {
            None
        };
        if let Some(outcome) = rest {
            out.extend(self.pending.drain(..).map(|k| (k, outcome)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(done: u64, running: u64, failed: u64) -> Progress {
        Progress {
            done,
            expected: 3,
            running,
            failed,
        }
    }

    #[test]
    fn nix_counts_before_the_stop() {
        let mut c = BuildCounts::default();
        c.started();
        c.started();
        assert!(c.progress(p(1, 1, 0)).is_empty());
        assert_eq!(c.stopped('a'), Some(Outcome::Built));
        assert!(c.progress(p(1, 0, 1)).is_empty());
        assert_eq!(c.stopped('b'), Some(Outcome::Failed));
        assert!(c.finish(false).is_empty());
    }

    #[test]
    fn lix_counts_after_the_stop_and_not_the_last_build() {
        let mut c = BuildCounts::default();
        c.started();
        c.started();
        assert_eq!(c.progress(p(0, 2, 0)), []);
        assert_eq!(c.stopped('a'), None);
        // One running, and atwb sees one running: the done count is a's.
        assert_eq!(c.progress(p(1, 1, 0)), [('a', Outcome::Built)]);
        assert_eq!(c.stopped('b'), None);
        assert_eq!(c.pending(), 1);
        assert_eq!(c.finish(true), [('b', Outcome::Built)]);
    }

    #[test]
    fn a_count_for_a_running_build_is_not_given_to_a_waiting_one() {
        let mut c = BuildCounts::default();
        c.started();
        c.started();
        c.started();
        assert_eq!(c.stopped('a'), None);
        // Nix's order: b is counted done while it still runs (running 1, atwb sees 2).
        assert!(c.progress(p(1, 1, 0)).is_empty());
        assert_eq!(c.stopped('b'), Some(Outcome::Built));
        assert_eq!(c.finish(false), []);
        assert_eq!(c.pending(), 1, "a run that did not fail says nothing of a");
    }

    #[test]
    fn a_failure_message_takes_its_count_and_the_rest_are_cancelled() {
        let mut c = BuildCounts::default();
        c.started();
        c.started();
        assert_eq!(c.stopped('q'), None);
        c.failed_message('q', Before::Other);
        assert!(c.progress(p(0, 1, 1)).is_empty());
        assert_eq!(c.stopped('s'), Some(Outcome::Cancelled));
        assert_eq!(c.finish(false), [('s', Outcome::Cancelled)]);
    }

    #[test]
    fn keep_going_builds_after_a_failure_are_built_by_their_counts() {
        let mut c = BuildCounts::default();
        c.started();
        assert_eq!(c.stopped('c'), None);
        c.failed_message('c', Before::Other);
        c.started();
        assert!(c.progress(p(0, 1, 1)).is_empty());
        assert_eq!(c.stopped('b'), Some(Outcome::Cancelled));
        assert_eq!(c.progress(p(1, 0, 1)), [('b', Outcome::Built)]);
    }

    #[test]
    fn waiting_builds_stay_bounded_and_interruption_cancels_them() {
        let mut c = BuildCounts::default();
        for k in 0..MAX_PENDING + 10 {
            c.started();
            assert_eq!(c.stopped(k), None);
        }
        assert_eq!(c.pending(), MAX_PENDING);
        assert_eq!(c.interrupted().first(), Some(&10));
        assert_eq!(c.pending(), 0);
    }
}
