//! Turning nix's stderr into what the engine reports: each line goes through the shared
//! internal-json parser into the job's [`BuildState`]; out come display text with its
//! derivation, progress changes, and at the end the classified failure.

use crate::nix::classify::{ExitInfo, Failure, classify};
use std::collections::HashMap;
use std::sync::Arc;

use crate::nix::drv_closure::MissingDrv;
use crate::nix::drvtree::{DrvHistory, DrvTree, TreeSnapshot};
use crate::nix::internal_json::{ActivityType, Event, ResultKind, level, parse_line};
use crate::nix::state::BuildState;

use super::spec::Progress;

/// What one stderr line means for the engine.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Interpreted {
    /// A line for the human log (builder output, nix messages up to `info`); None for
    /// bookkeeping events.
    pub text: Option<String>,
    /// The derivation whose builder printed the line, when nix said.
    pub drv: Option<String>,
    /// Set when the derivation progress or the phase changed.
    pub progress: Option<(Progress, Option<String>)>,
    /// Display lines the text makes (0 for bookkeeping), counted even without `with_text` so
    /// the ring can number its lines like the whole log does.
    pub display_lines: u32,
}

/// Display lines of one message: one per line of its text.
fn display_lines(text: &str) -> u32 {
    1 + memchr::memchr_iter(b'\n', text.as_bytes()).count() as u32
}

/// Per-job interpretation state.
#[derive(Debug, Default)]
pub struct LineInterpreter {
    state: BuildState,
    /// The derivation tree, timed from the first line (ms since `epoch`).
    tree: DrvTree,
    epoch: Option<std::time::Instant>,
    /// Events folded into the tree since the last snapshot.
    tree_changed: bool,
    progress: Progress,
    phase: Option<String>,
    /// Output path to the planned derivation it belongs to: nix fetching one of them means
    /// that derivation is substituted, not built.
    planned_outputs: HashMap<String, String>,
}

/// What a job's tree knows before nix says anything.
#[derive(Debug, Clone, Default)]
pub struct TreeSetup {
    /// Earlier builds' durations by derivation name (from the status store).
    pub history: Option<Arc<DrvHistory>>,
    /// The derivations nix will realise (outputs missing), the job's own first: named before
    /// nix reaches them (it only counts them), each a planned row with its estimate.
    pub planned: Vec<MissingDrv>,
}

/// What a finished job's tree leaves: the derivations it built with their times (for the
/// history) and its last picture (for the jobs view).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeReport {
    pub built: Vec<(String, u64)>,
    pub snapshot: Option<Box<TreeSnapshot>>,
}

impl LineInterpreter {
    /// An interpreter whose tree starts with `setup`'s estimates and planned derivations.
    pub fn with_setup(setup: TreeSetup) -> Self {
        let mut i = LineInterpreter::default();
        if let Some(h) = setup.history {
            i.tree.use_history(h);
        }
        for m in setup.planned {
            i.tree.plan(&m.drv);
            i.tree_changed = true;
            for out in m.outputs {
                i.planned_outputs.insert(out, m.drv.clone());
            }
        }
        i
    }

    /// Fold one line into the state; `with_text`: also return the display text and derivation
    /// (skipped when nobody watches the lines).
    pub fn feed(&mut self, raw: &str, with_text: bool) -> Interpreted {
        let event = parse_line(raw);
        self.state.apply(&event);
        if !matches!(event, Event::Plain(_)) {
            let now = self.now_ms();
            self.tree.apply(&event, now);
            self.tree_changed = true;
        }
        if let Event::Start(s) = &event
            && s.activity == ActivityType::Substitute
            && let Some(drv) = s.str_field(0).and_then(|p| self.planned_outputs.get(p))
        {
            self.tree.unplan(drv);
        }
        let mut out = Interpreted::default();
        match &event {
            Event::Result(r) => {
                let drv = || {
                    self.state
                        .derivation_of_activity(r.id)
                        .map(|d| d.path.clone())
                };
                match &r.kind {
                    ResultKind::BuildLogLine(l) | ResultKind::PostBuildLogLine(l) => {
                        out.display_lines = display_lines(l);
                        if with_text {
                            out.text = Some(l.to_string());
                            out.drv = drv();
                        }
                    }
                    ResultKind::SetPhase(p) => {
                        out.drv = drv();
                        self.phase = Some(p.to_string());
                        out.progress = Some((self.progress, self.phase.clone()));
                    }
                    _ => {}
                }
            }
            Event::Plain(line) => {
                out.display_lines = display_lines(line);
                if with_text {
                    out.text = Some(line.to_string());
                }
            }
            Event::Msg(m) if m.level <= level::INFO => {
                out.display_lines = display_lines(&m.msg);
                if with_text {
                    out.text = Some(m.msg.to_string());
                }
            }
            _ => {}
        }
        let now = self.state.progress();
        if now != self.progress {
            self.progress = now;
            out.progress = Some((now, self.phase.clone()));
        }
        out
    }

    fn now_ms(&mut self) -> u64 {
        let epoch = *self.epoch.get_or_insert_with(std::time::Instant::now);
        epoch.elapsed().as_millis() as u64
    }

    /// The tree's first `limit` rows and totals, if anything changed since the last call
    /// (`force`: in any case).
    pub fn tree_snapshot(&mut self, limit: usize, force: bool) -> Option<TreeSnapshot> {
        if !(self.tree_changed || force) {
            return None;
        }
        self.tree_changed = false;
        let now = self.now_ms();
        Some(self.tree.snapshot(limit, now))
    }

    /// The tree's totals, if anything changed since the last snapshot (`force`: in any case):
    /// what a job keeps when no subscriber takes the rows.
    pub fn tree_totals(&mut self, force: bool) -> Option<crate::nix::drvtree::Totals> {
        if !(self.tree_changed || force) {
            return None;
        }
        self.tree_changed = false;
        let now = self.now_ms();
        Some(self.tree.totals(now))
    }

    /// After nix exited (`succeeded`: with status 0): the tree settled (see
    /// [`DrvTree::settle`]), what it built, and its final `limit` rows.
    pub fn finish_tree(&mut self, succeeded: bool, limit: usize) -> TreeReport {
        let now = self.now_ms();
        self.tree.settle(succeeded, now);
        TreeReport {
            built: self.tree.built(),
            snapshot: (!self.tree.nodes().is_empty())
                .then(|| Box::new(self.tree.snapshot(limit, now))),
        }
    }

    pub fn tree(&self) -> &DrvTree {
        &self.tree
    }

    pub fn state(&self) -> &BuildState {
        &self.state
    }

    /// The run ended (`succeeded`: nix exited 0, or a log with no error): settle the builds
    /// that stopped before nix counted them (see [`BuildState::finish`]).
    pub fn settle(&mut self, succeeded: bool) {
        self.state.finish(succeeded);
    }

    /// The classified failure of a finished run (None when it succeeded).
    pub fn finish(&self, exit: &ExitInfo) -> Option<Failure> {
        classify(&self.state, exit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lines_are_counted_with_or_without_text() {
        let mut i = LineInterpreter::default();
        let msg = r#"@nix {"action":"msg","level":0,"msg":"error: hash mismatch\n  specified: a\n  got: b"}"#;
        for with_text in [true, false] {
            assert_eq!(i.feed(msg, with_text).display_lines, 3);
            assert_eq!(i.feed("plain", with_text).display_lines, 1);
            let quiet = r#"@nix {"action":"msg","level":6,"msg":"debug noise"}"#;
            assert_eq!(i.feed(quiet, with_text).display_lines, 0);
        }
    }

    #[test]
    fn build_lines_carry_their_drv_and_progress_changes() {
        let mut i = LineInterpreter::default();
        i.feed(
            r#"@nix {"action":"start","id":7,"level":0,"text":"","type":104}"#,
            true,
        );
        i.feed(r#"@nix {"action":"start","fields":["/nix/store/a-x.drv","",1,1],"id":9,"level":3,"text":"building","type":105}"#, true);
        let l = i.feed(
            r#"@nix {"action":"result","fields":["hello"],"id":9,"type":101}"#,
            true,
        );
        assert_eq!(
            (l.text.as_deref(), l.drv.as_deref()),
            (Some("hello"), Some("/nix/store/a-x.drv"))
        );
        let p = i.feed(
            r#"@nix {"action":"result","fields":[0,1,1,0],"id":7,"type":105}"#,
            true,
        );
        assert_eq!(
            p.progress.unwrap().0,
            Progress {
                done: 0,
                expected: 1,
                running: 1,
                failed: 0
            }
        );
        assert_eq!(
            i.feed("plain text", true).text.as_deref(),
            Some("plain text")
        );
        let quiet = i.feed(
            r#"@nix {"action":"msg","level":6,"msg":"debug noise"}"#,
            true,
        );
        assert_eq!(quiet.text, None);
    }

    #[test]
    fn the_setup_plans_the_target_with_its_estimate_and_the_report_has_the_final_tree() {
        let mut h = DrvHistory::default();
        h.add("x-1.0", &[7000], 1);
        let drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x-1.1.drv";
        let mut i = LineInterpreter::with_setup(TreeSetup {
            history: Some(Arc::new(h)),
            planned: vec![MissingDrv {
                drv: drv.into(),
                outputs: Vec::new(),
            }],
        });
        let snap = i.tree_snapshot(10, false).expect("planned before any line");
        assert_eq!(snap.rows.rows[0].estimate_ms, Some(7000), "by package name");
        assert_eq!(snap.totals.estimate_left_ms, Some(7000));
        let report = i.finish_tree(false, 10);
        assert!(report.built.is_empty());
        let last = report.snapshot.unwrap();
        assert_eq!(
            last.rows.rows[0].state,
            crate::nix::drvtree::NodeState::Cancelled
        );
        let mut empty = LineInterpreter::default();
        assert_eq!(empty.finish_tree(true, 10), TreeReport::default());
    }

    #[test]
    fn a_planned_derivation_whose_output_nix_fetches_leaves_the_plan() {
        let planned = |name: &str| MissingDrv {
            drv: format!("/nix/store/0123456789abcdfghijklmnpqrsvwxy{name}-{name}.drv"),
            outputs: vec![format!(
                "/nix/store/1123456789abcdfghijklmnpqrsvwxy{name}-{name}"
            )],
        };
        let mut i = LineInterpreter::with_setup(TreeSetup {
            history: None,
            planned: vec![planned("a"), planned("b")],
        });
        i.feed(r#"@nix {"action":"start","fields":["/nix/store/1123456789abcdfghijklmnpqrsvwxyb-b","file:///cache"],"id":5,"level":4,"text":"copying","type":108}"#, false);
        let snap = i.tree_snapshot(10, true).unwrap();
        let planned: Vec<_> = snap
            .rows
            .rows
            .iter()
            .filter(|r| r.state == crate::nix::drvtree::NodeState::Planned)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(planned, ["a"]);
        assert_eq!(snap.totals.downloads_running, 1);
    }
}
