//! The live derivation tree of one nix process: every derivation (and substituted store path)
//! nix mentions, with its state, phase, start and end time, host and bytes, folded from the
//! internal-json events; plus totals like nix-output-monitor's footer.
//!
//! Memory is bounded by construction: one fixed-size [`Node`] per derivation (at most
//! [`MAX_NODES`]), every string (names, phases, hosts) interned once in a capped table
//! ([`Interner`]), and nothing that grows per log line. A 5,000-derivation build streaming a
//! million log lines holds the same memory after the first line of each derivation as after
//! the last (`tests.rs` asserts it).
//!
//! Nix 2.8 facts relied on (fixtures `tests/fixtures/logs/tree-*.log`): `start` has no parent,
//! so a copy is tied to its substitution by the store path both name; `stop` has no status, so
//! a build's outcome is read from the Builds (104) counters nix bumps just before the stop; a
//! build stopped without either counter moving was cancelled (nix stops the others when one
//! fails without `--keep-going`). Only `--dry-run` lists the planned derivations by name: during
//! a build they are a count (Builds `expected`), shown in the footer.

mod history;
mod intern;
mod plan;
mod view;

use std::collections::HashMap;
use std::sync::Arc;

use super::build_counts::{Before, BuildCounts, Outcome};
use super::internal_json::{ActivityResult, ActivityType, Event, ResultKind, Start};
use super::state::{drv_failure, drv_name};
pub use history::{DrvHistory, pname};
pub use intern::{Interner, MAX_SYMBOL_BYTES, MAX_SYMBOLS, Sym};
pub use view::{Row, Rows, TreeSnapshot, format_bytes, format_duration, median_ms};

/// Derivations and store paths with a record; further ones are only counted.
pub const MAX_NODES: usize = 65_536;
/// Live activities tracked at once (nix runs `max-jobs` builds and a few downloads).
pub const MAX_LIVE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeState {
    /// Running: shown first.
    Building,
    Downloading,
    Failed,
    /// Waiting for a lock, a build slot or a remote machine (a BuildWaiting activity).
    Waiting,
    Planned,
    Cancelled,
    Done,
}

impl NodeState {
    pub fn is_running(self) -> bool {
        matches!(self, NodeState::Building | NodeState::Downloading)
    }
}

/// Whether a node is built from a `.drv` or substituted (downloaded) from a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Build,
    Download,
}

/// One derivation or store path: fixed size, strings are symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub name: Sym,
    pub kind: NodeKind,
    pub state: NodeState,
    pub phase: Option<Sym>,
    /// The machine building it (remote builders), or the cache substituting it.
    pub host: Option<Sym>,
    /// Milliseconds on the caller's clock.
    pub started_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    pub done_bytes: u64,
    pub expected_bytes: u64,
    pub log_lines: u64,
}

/// Nom's footer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub builds_done: u64,
    pub builds_running: u64,
    pub builds_failed: u64,
    /// Nix's count of builds still to start (the names are unknown during a build).
    pub builds_planned: u64,
    pub downloads_done: u64,
    pub downloads_running: u64,
    pub bytes_done: u64,
    pub bytes_expected: u64,
    pub elapsed_ms: u64,
    /// Time the derivations with an estimate still need: the rest of each running one's
    /// estimate plus the estimates of the planned and waiting ones (added up, as if built one
    /// after the other). None when no unfinished derivation has an estimate.
    pub estimate_left_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    kind: ActivityType,
    node: Option<u32>,
}

/// The tree of one nix process.
#[derive(Debug, Default)]
pub struct DrvTree {
    names: Interner,
    nodes: Vec<Node>,
    /// Full store path (as a symbol) to node index.
    by_path: HashMap<Sym, u32>,
    live: HashMap<u64, Live>,
    /// Estimated duration per name symbol, from earlier successful builds.
    estimates: HashMap<Sym, u64>,
    /// Where the estimates of derivations named later come from (see [`DrvTree::use_history`]).
    history: Option<Arc<DrvHistory>>,
    /// Nix's Builds counts, and which build each is of.
    builds: BuildCounts<u32>,
    listing: bool,
    first_ms: Option<u64>,
    last_ms: u64,
    /// Finished transfers' bytes (FileTransfer activities name a URL, not a node).
    transfer_bytes_done: u64,
    transfers_done: u64,
    dropped: u64,
}

impl DrvTree {
    pub fn new() -> Self {
        DrvTree::default()
    }

    /// Fold one event that arrived at `now_ms`.
    pub fn apply(&mut self, event: &Event<'_>, now_ms: u64) {
        self.first_ms.get_or_insert(now_ms);
        self.last_ms = self.last_ms.max(now_ms);
        match event {
            Event::Start(s) => self.on_start(s, now_ms),
            Event::Stop { id } => self.on_stop(*id, now_ms),
            Event::Result(r) => self.on_result(r),
            Event::Msg(m) => self.on_msg(&m.plain(), m.raw_msg.is_some(), now_ms),
            Event::SetPhase { .. } | Event::UnknownAction { .. } | Event::Plain(_) => {}
        }
    }

    /// Durations (ms) of earlier successful builds of `name` (`hello-1.0`): the median becomes
    /// the estimate shown next to its elapsed time.
    pub fn set_history(&mut self, name: &str, durations_ms: &[u64]) {
        if let (Some(m), Some(sym)) = (median_ms(durations_ms), self.names.intern(name)) {
            self.estimates.insert(sym, m);
        }
    }

    /// Earlier builds' durations by derivation name: each derivation the tree learns of later
    /// gets its estimate from there (nix names derivations only as it reaches them).
    pub fn use_history(&mut self, history: Arc<DrvHistory>) {
        self.history = Some(history);
    }

    /// A derivation this build will realise, named before nix says so (the job's own target,
    /// whose outputs are missing): a planned row with its estimate from the start.
    pub fn plan(&mut self, drv_path: &str) {
        self.node(drv_path, NodeKind::Build);
    }

    /// After nix exited: builds that stopped before nix counted them are settled (see
    /// [`BuildCounts::finish`]), and what never started was not built by this run. Planned and
    /// waiting derivations become cancelled when the run failed; when it succeeded (the outputs
    /// were substituted or appeared meanwhile) they are done without a time, which counts as no
    /// build.
    pub fn settle(&mut self, succeeded: bool, now_ms: u64) {
        let settled = self.builds.finish(succeeded);
        self.apply_outcomes(settled);
        for n in &mut self.nodes {
            // Nix has exited: a build of a failed run still shown running was killed with it.
            if !succeeded && n.state == NodeState::Building {
                n.state = NodeState::Cancelled;
                n.ended_ms.get_or_insert(now_ms);
            }
            if matches!(n.state, NodeState::Planned | NodeState::Waiting) {
                n.state = if succeeded {
                    NodeState::Done
                } else {
                    NodeState::Cancelled
                };
                n.ended_ms = Some(now_ms);
            }
        }
    }

    /// Stopped builds nix's counts or the run's end settled (a build first taken as cancelled
    /// may turn out built: see [`BuildCounts::stopped`]).
    fn apply_outcomes(&mut self, settled: Vec<(u32, Outcome)>) {
        for (i, outcome) in settled {
            let n = &mut self.nodes[i as usize];
            if matches!(n.state, NodeState::Building | NodeState::Cancelled) {
                n.state = state_of(outcome);
            }
        }
    }

    /// Derivations this run really built (started and done; not substituted, failed or
    /// cancelled), each as its name and milliseconds: what the history keeps.
    pub fn built(&self) -> Vec<(String, u64)> {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Build && n.state == NodeState::Done)
            .filter_map(|n| Some((self.name(n.name).to_string(), n.ended_ms? - n.started_ms?)))
            .collect()
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym)
    }

    pub fn estimate_ms(&self, node: &Node) -> Option<u64> {
        self.estimates.get(&node.name).copied()
    }

    /// Derivations mentioned but not recorded (over [`MAX_NODES`] or [`MAX_LIVE`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes held by the tree's tables (for the memory bound test and the benchmark).
    pub fn footprint_bytes(&self) -> usize {
        self.names.bytes()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.by_path.capacity() * (std::mem::size_of::<(Sym, u32)>() + 8)
            + self.live.capacity() * (std::mem::size_of::<(u64, Live)>() + 8)
            + self.estimates.capacity() * (std::mem::size_of::<(Sym, u64)>() + 8)
    }

    pub fn totals(&self, now_ms: u64) -> Totals {
        let c = self.builds.counts();
        let mut t = Totals {
            builds_planned: c.expected.saturating_sub(c.done + c.running + c.failed),
            bytes_done: self.transfer_bytes_done,
            downloads_done: self.transfers_done,
            elapsed_ms: self.first_ms.map_or(0, |f| now_ms.max(self.last_ms) - f),
            ..Totals::default()
        };
        for n in &self.nodes {
            match (n.kind, n.state) {
                (NodeKind::Build, NodeState::Done) if n.started_ms.is_some() => {
                    t.builds_done += 1;
                }
                // Stopped, waiting for nix's count (see `on_stop`): not running.
                (NodeKind::Build, NodeState::Building) if n.ended_ms.is_none() => {
                    t.builds_running += 1;
                }
                (NodeKind::Build, NodeState::Failed) => t.builds_failed += 1,
                (NodeKind::Download, NodeState::Downloading) => t.downloads_running += 1,
                _ => {}
            }
            if n.kind == NodeKind::Download {
                t.bytes_expected += n.expected_bytes;
                if n.state == NodeState::Downloading {
                    t.bytes_done += n.done_bytes;
                }
            }
        }
        // Planned derivations listed by name (a dry run) count once.
        let listed = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Build && n.state == NodeState::Planned)
            .count() as u64;
        t.builds_planned = t.builds_planned.max(listed);
        t.estimate_left_ms = self.estimate_left(now_ms);
        t
    }

    fn estimate_left(&self, now_ms: u64) -> Option<u64> {
        let mut left = None;
        for n in self.nodes.iter().filter(|n| n.kind == NodeKind::Build) {
            let Some(est) = self.estimate_ms(n) else {
                continue;
            };
            let rest = match (n.state, n.started_ms) {
                (NodeState::Building, Some(s)) => est.saturating_sub(now_ms.saturating_sub(s)),
                (NodeState::Planned | NodeState::Waiting, _) => est,
                _ => continue,
            };
            *left.get_or_insert(0) += rest;
        }
        left
    }

    // ---- updates ----

    fn node(&mut self, path: &str, kind: NodeKind) -> Option<u32> {
        let Some(key) = self.names.intern(path) else {
            self.dropped += 1;
            return None;
        };
        if let Some(&i) = self.by_path.get(&key) {
            return Some(i);
        }
        let name = self.names.intern(drv_name(path));
        let (Some(name), true) = (name, self.nodes.len() < MAX_NODES) else {
            self.dropped += 1;
            return None;
        };
        if kind == NodeKind::Build
            && let Some(est) = self
                .history
                .as_ref()
                .and_then(|h| h.estimate_ms(self.names.get(name)))
        {
            self.estimates.entry(name).or_insert(est);
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Node {
            name,
            kind,
            state: NodeState::Planned,
            phase: None,
            host: None,
            started_ms: None,
            ended_ms: None,
            done_bytes: 0,
            expected_bytes: 0,
            log_lines: 0,
        });
        self.by_path.insert(key, i);
        Some(i)
    }

    fn host_sym(&mut self, host: Option<&str>) -> Option<Sym> {
        host.filter(|h| !h.is_empty() && *h != "local")
            .and_then(|h| self.names.intern(h))
    }

    fn on_start(&mut self, s: &Start<'_>, now: u64) {
        let path = s.str_field(0);
        let node = match (s.activity, path) {
            (ActivityType::Build, Some(p)) => self.node(p, NodeKind::Build).inspect(|&i| {
                let host = self.host_sym(s.str_field(1));
                let n = &mut self.nodes[i as usize];
                n.state = NodeState::Building;
                n.started_ms = Some(now);
                n.ended_ms = None;
                n.host = host;
            }),
            (ActivityType::BuildWaiting, Some(p)) if p.ends_with(".drv") => {
                self.node(p, NodeKind::Build).inspect(|&i| {
                    let n = &mut self.nodes[i as usize];
                    if n.state == NodeState::Planned {
                        n.state = NodeState::Waiting;
                    }
                })
            }
            (ActivityType::Substitute, Some(p)) => self.node(p, NodeKind::Download).inspect(|&i| {
                let host = self.host_sym(s.str_field(1));
                let n = &mut self.nodes[i as usize];
                n.state = NodeState::Downloading;
                n.started_ms = Some(now);
                n.host = host;
            }),
            // The copy of a substitution names the same path: its bytes are the download's.
            (ActivityType::CopyPath, Some(p)) => self
                .names
                .lookup(p)
                .and_then(|k| self.by_path.get(&k).copied()),
            _ => None,
        };
        if self.live.len() >= MAX_LIVE && !self.live.contains_key(&s.id) {
            self.dropped += 1;
            return;
        }
        if s.activity == ActivityType::Build {
            self.builds.started();
        }
        self.live.insert(
            s.id,
            Live {
                kind: s.activity,
                node,
            },
        );
    }

    fn on_stop(&mut self, id: u64, now: u64) {
        let Some(live) = self.live.remove(&id) else {
            return;
        };
        let Some(i) = live.node else {
            if live.kind == ActivityType::Build {
                self.builds.stopped_settled();
            }
            return;
        };
        let n = &mut self.nodes[i as usize];
        match live.kind {
            ActivityType::Build if n.state == NodeState::Building => {
                n.ended_ms = Some(now);
                // None: stopped before nix counted it (Lix): it stays a building row with its
                // time frozen until a count or the run's end settles it.
                if let Some(outcome) = self.builds.stopped(i) {
                    n.state = state_of(outcome);
                }
            }
            // Settled by an error message before its stop (Nix 2.8 sends that first).
            ActivityType::Build => self.builds.stopped_settled(),
            ActivityType::Substitute if n.state == NodeState::Downloading => {
                n.state = NodeState::Done;
                n.ended_ms = Some(now);
                self.transfers_done += 1;
                self.transfer_bytes_done += n.done_bytes;
            }
            ActivityType::BuildWaiting if n.state == NodeState::Waiting => {
                n.state = NodeState::Planned;
            }
            _ => {}
        }
    }

    fn on_result(&mut self, r: &ActivityResult<'_>) {
        let Some(live) = self.live.get(&r.id).copied() else {
            return;
        };
        match (&r.kind, live.node) {
            (ResultKind::Progress(p), _) if live.kind == ActivityType::Builds => {
                let settled = self.builds.progress(*p);
                self.apply_outcomes(settled);
            }
            (ResultKind::Progress(p), Some(i)) => {
                let n = &mut self.nodes[i as usize];
                n.done_bytes = p.done;
                n.expected_bytes = n.expected_bytes.max(p.expected);
            }
            (ResultKind::SetPhase(phase), Some(i)) => {
                let sym = self.names.intern(phase);
                self.nodes[i as usize].phase = sym;
            }
            (ResultKind::BuildLogLine(_), Some(i)) => self.nodes[i as usize].log_lines += 1,
            _ => {}
        }
    }

    /// `from_nix`: nix's own error (it carries `raw_msg`); a builder can print any message, a
    /// forged failure of another derivation included (`tests/fixtures/logs/forged-*`).
    fn on_msg(&mut self, plain: &str, from_nix: bool, now: u64) {
        // "these 6 derivations will be built:" then one message per path (a dry run).
        if plain.starts_with("these ") || plain.starts_with("this ") {
            self.listing = plain.ends_with("will be built:");
            return;
        }
        if self.listing {
            match plain.strip_prefix("  ").map(str::trim) {
                Some(p) if p.ends_with(".drv") => {
                    self.node(p, NodeKind::Build);
                    return;
                }
                _ => self.listing = false,
            }
        }
        if !from_nix {
            return;
        }
        // A failure message corrects the counters' guess (and names a derivation that never
        // started: a dependency failed).
        if let Some(f) = drv_failure(plain)
            && let Some(i) = self.node(f.drv, NodeKind::Build)
        {
            let n = &mut self.nodes[i as usize];
            let before = match n.state {
                NodeState::Building => Before::Running,
                NodeState::Done => Before::Built,
                _ => Before::Other,
            };
            if n.state != NodeState::Failed {
                n.state = NodeState::Failed;
                n.ended_ms.get_or_insert(now);
            }
            self.builds.failed_message(i, before);
        } else if plain.contains("interrupted by the user") {
            self.builds.interrupted();
            for n in &mut self.nodes {
                if n.state.is_running() || n.state == NodeState::Waiting {
                    n.state = NodeState::Cancelled;
                    n.ended_ms = Some(now);
                }
            }
        }
    }
}

fn state_of(outcome: Outcome) -> NodeState {
    match outcome {
        Outcome::Built => NodeState::Done,
        Outcome::Failed => NodeState::Failed,
        Outcome::Cancelled => NodeState::Cancelled,
    }
}

#[cfg(test)]
pub(crate) mod tests;
