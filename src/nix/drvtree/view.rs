//! What a pane shows of a [`DrvTree`]: rows in display order (running first, then failed,
//! waiting, planned; done ones collapsed into a count), at most as many as fit, so a frame
//! costs the visible rows and one pass over the nodes, not a sort of all of them.

use super::{DrvTree, NodeKind, NodeState, Totals};

/// What a pane shows of a tree at one moment: the first rows and the totals. Small and owned,
/// so the jobs layer can send it to the UI (at most a few times a second).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeSnapshot {
    pub rows: Rows,
    pub totals: Totals,
}

/// One line of the tree pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub state: NodeState,
    pub kind: NodeKind,
    pub name: String,
    pub phase: Option<String>,
    pub host: Option<String>,
    /// Since it started (until it ended).
    pub elapsed_ms: Option<u64>,
    pub estimate_ms: Option<u64>,
    pub done_bytes: u64,
    pub expected_bytes: u64,
}

/// The rows to show and how many were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub rows: Vec<Row>,
    /// Finished derivations and paths, shown as one count.
    pub done: usize,
    /// Not done, but beyond the `limit`.
    pub hidden: usize,
}

impl Rows {
    /// Keeps the first `n` rows, counting the rest as hidden (a finished job's tree kept for
    /// a pane that shows a few dozen rows at most).
    pub fn keep(&mut self, n: usize) {
        if self.rows.len() > n {
            self.hidden += self.rows.len() - n;
            self.rows.truncate(n);
            self.rows.shrink_to_fit();
        }
    }
}

/// Display order of the states that get rows of their own (done ones are counted).
const ORDER: [NodeState; 6] = [
    NodeState::Building,
    NodeState::Downloading,
    NodeState::Failed,
    NodeState::Waiting,
    NodeState::Cancelled,
    NodeState::Planned,
];

impl DrvTree {
    /// The first `limit` rows and the totals at `now_ms`.
    pub fn snapshot(&self, limit: usize, now_ms: u64) -> TreeSnapshot {
        TreeSnapshot {
            rows: self.rows(limit, now_ms),
            totals: self.totals(now_ms),
        }
    }

    /// At most `limit` rows, in display order, each in the order nix first named them.
    pub fn rows(&self, limit: usize, now_ms: u64) -> Rows {
        let mut out = Rows::default();
        let mut per_state = [0usize; ORDER.len()];
        for n in &self.nodes {
            match ORDER.iter().position(|s| *s == n.state) {
                Some(k) => per_state[k] += 1,
                None => out.done += 1,
            }
        }
        // One pass per shown state, stopping once `limit` rows are taken.
        for (k, state) in ORDER.iter().enumerate() {
            if out.rows.len() >= limit {
                out.hidden += per_state[k];
                continue;
            }
            let take = (limit - out.rows.len()).min(per_state[k]);
            out.hidden += per_state[k] - take;
            let nodes = self.nodes.iter().filter(|n| n.state == *state).take(take);
            for n in nodes {
                out.rows.push(Row {
                    state: n.state,
                    kind: n.kind,
                    name: self.name(n.name).to_string(),
                    phase: n.phase.map(|p| self.name(p).to_string()),
                    host: n.host.map(|h| self.name(h).to_string()),
                    elapsed_ms: n
                        .started_ms
                        .map(|s| n.ended_ms.unwrap_or(now_ms).saturating_sub(s)),
                    estimate_ms: self.estimate_ms(n),
                    done_bytes: n.done_bytes,
                    expected_bytes: n.expected_bytes,
                });
            }
        }
        out
    }
}

/// The median of earlier durations (the upper middle of an even count), None when there are
/// none. Nom takes the mean of the last 10; the median is not thrown off by one cold build.
pub fn median_ms(durations: &[u64]) -> Option<u64> {
    if durations.is_empty() {
        return None;
    }
    let mut d = durations.to_vec();
    d.sort_unstable();
    Some(d[d.len() / 2])
}

/// `2m10s`, `45s`, `1h03m`.
pub fn format_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// `3.4 MiB`, `512 B`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}
