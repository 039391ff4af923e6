//! The estimates on `atwb build`'s status lines, as the TUI's tree shows them: a running job's
//! `elapsed/~estimate` and the batch's time left on the totals line. They come from the status
//! store's per-derivation history: the engine seeds each job's tree with it and keeps the
//! tree's totals in the job's info (`JobInfo::tree`); a job still waiting for its turn is
//! estimated from its own derivation's history, as its tree will start.

use std::time::{Duration, Instant};

use crate::jobs::{JobInfo, JobState, StatusStore};
use crate::nix::drvtree::{DrvHistory, Totals, format_duration};
use crate::nix::state::drv_name;

/// A running job's time: how long it has run, and, when its tree has estimates, how long it
/// should take in all and how much of that is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTime {
    pub elapsed: Duration,
    pub estimate: Option<Duration>,
    pub left: Option<Duration>,
}

/// The time of a job started at `started`, whose tree had `tree` totals (taken at its
/// instant), at `now`. The estimate is what had run when the totals were taken plus what they
/// said was left, so it holds still between two looks at the tree (nix may be quiet for
/// minutes while a derivation builds).
pub fn job_time(started: Instant, tree: Option<(Instant, Totals)>, now: Instant) -> JobTime {
    let elapsed = now.saturating_duration_since(started);
    let estimate = tree.and_then(|(at, t)| {
        let left = Duration::from_millis(t.estimate_left_ms?);
        Some(at.saturating_duration_since(started) + left)
    });
    JobTime {
        elapsed,
        estimate,
        left: estimate.map(|e| e.saturating_sub(elapsed)),
    }
}

/// `42s`, or with an estimate `42s/~1m01s` (the tree's row format).
pub fn time_text(t: &JobTime) -> String {
    let elapsed = format_duration(duration_ms(t.elapsed));
    match t.estimate {
        Some(e) => format!("{elapsed}/~{}", format_duration(duration_ms(e))),
        None => elapsed,
    }
}

/// The time left of a batch: the running jobs' time left and the waiting jobs' estimates, on
/// `slots` jobs at a time, each waiting job taking the first slot to come free in the order
/// given (the engine's queue). None when any of them has no estimate.
pub fn batch_left(
    running: &[Option<Duration>],
    waiting: &[Option<Duration>],
    slots: usize,
) -> Option<Duration> {
    let mut free_at: Vec<Duration> = running.iter().copied().collect::<Option<_>>()?;
    free_at.resize(free_at.len().max(slots.max(1)), Duration::ZERO);
    for w in waiting {
        let w = (*w)?;
        let first = free_at
            .iter_mut()
            .min()
            .expect("at least one slot is there");
        *first += w;
    }
    free_at.into_iter().max()
}

/// A waiting job's estimate: nothing to build when its outputs are in the store already, else
/// its own derivation's history (its dependencies are named only when nix reaches them). None
/// without a drv or a history for its name.
pub fn waiting_estimate(
    info: &JobInfo,
    store: Option<&StatusStore>,
    history: &DrvHistory,
) -> Option<Duration> {
    let drv = info.spec.drv.as_deref()?;
    let built = store
        .and_then(|s| s.evaluation(&info.spec.package))
        .is_some_and(|e| e.drv_path == drv && !e.out_paths.is_empty() && !e.outputs_missing());
    if built && !info.spec.rebuild {
        return Some(Duration::ZERO);
    }
    history
        .estimate_ms(drv_name(drv))
        .map(Duration::from_millis)
}

/// The time left of the jobs in `jobs` that have not finished, at `now`.
pub fn jobs_left(
    jobs: &[JobInfo],
    store: Option<&StatusStore>,
    slots: usize,
    now: Instant,
) -> Option<Duration> {
    let history = store.map(StatusStore::drv_history).unwrap_or_default();
    let mut running = Vec::new();
    let mut waiting = Vec::new();
    let mut ordered: Vec<&JobInfo> = jobs.iter().collect();
    ordered.sort_by_key(|j| j.id);
    for j in ordered {
        match j.state {
            // Before nix's first line its tree is not there yet: as it will start.
            JobState::Running { started, .. } if j.tree.is_none() => running.push(
                waiting_estimate(j, store, &history)
                    .map(|e| e.saturating_sub(now.saturating_duration_since(started))),
            ),
            JobState::Running { started, .. } => running.push(job_time(started, j.tree, now).left),
            JobState::Queued => waiting.push(waiting_estimate(j, store, &history)),
            JobState::Finished { .. } => {}
        }
    }
    if running.is_empty() && waiting.is_empty() {
        return None;
    }
    batch_left(&running, &waiting, slots)
}

/// The totals line: `2 running, 1 done of 5`, and ` · ~40s left` when that is known.
pub fn totals_text(running: usize, done: usize, total: usize, left: Option<Duration>) -> String {
    let mut text = format!("{running} running, {done} done of {total}");
    if let Some(l) = left {
        text.push_str(&format!(" · ~{} left", format_duration(duration_ms(l))));
    }
    text
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn totals(left_ms: Option<u64>) -> Totals {
        Totals {
            estimate_left_ms: left_ms,
            ..Totals::default()
        }
    }

    #[test]
    fn a_job_estimate_holds_still_between_looks_at_its_tree() {
        let started = Instant::now();
        // Looked at 5 s in: 56 s left, so about 1m01s in all.
        let tree = Some((started + secs(5), totals(Some(56_000))));
        let t = job_time(started, tree, started + secs(20));
        assert_eq!(t.elapsed, secs(20));
        assert_eq!(t.estimate, Some(secs(61)));
        assert_eq!(t.left, Some(secs(41)));
        assert_eq!(time_text(&t), "20s/~1m01s");
        // Past its estimate: nothing left, not a negative time.
        let late = job_time(started, tree, started + secs(70));
        assert_eq!(late.left, Some(Duration::ZERO));
        assert_eq!(time_text(&late), "1m10s/~1m01s");
        // No tree yet, or a tree without estimates: the elapsed time alone.
        let none = job_time(started, None, started + secs(42));
        assert_eq!((none.estimate, none.left), (None, None));
        assert_eq!(time_text(&none), "42s");
        let unknown = job_time(started, Some((started, totals(None))), started + secs(3));
        assert_eq!(time_text(&unknown), "3s");
    }

    #[test]
    fn the_batch_time_left_puts_waiting_jobs_on_the_first_free_slot() {
        let s = |v: u64| Some(secs(v));
        // Two slots: 10 s and 30 s left; waiting 15 s goes after the 10 s one (25 s), then
        // 20 s after that (45 s): the last to finish decides.
        assert_eq!(batch_left(&[s(10), s(30)], &[s(15), s(20)], 2), s(45));
        // A free slot takes a waiting job at once.
        assert_eq!(batch_left(&[s(10)], &[s(4)], 2), s(10));
        assert_eq!(batch_left(&[], &[s(4), s(5)], 2), s(5));
        assert_eq!(batch_left(&[], &[s(4), s(5)], 1), s(9));
        // One unknown anywhere: unknown.
        assert_eq!(batch_left(&[s(10), None], &[s(4)], 2), None);
        assert_eq!(batch_left(&[s(10)], &[None], 2), None);
        // More running than slots (slots of 0 counts as 1).
        assert_eq!(batch_left(&[s(3), s(7), s(5)], &[s(1)], 0), s(7));
    }

    #[test]
    fn the_totals_line_names_the_time_left_when_known() {
        assert_eq!(totals_text(2, 1, 5, None), "2 running, 1 done of 5");
        assert_eq!(
            totals_text(1, 0, 1, Some(Duration::from_millis(40_900))),
            "1 running, 0 done of 1 · ~40s left"
        );
    }

    #[test]
    fn a_drv_path_is_keyed_by_its_name() {
        assert_eq!(
            drv_name("/nix/store/0c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d-rsky-pds-0.1.0.drv"),
            "rsky-pds-0.1.0"
        );
        assert_eq!(drv_name("long.drv"), "long");
    }
}
