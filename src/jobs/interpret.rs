//! Turning nix's stderr into what the engine reports: each line goes through the shared
//! internal-json parser into the job's [`BuildState`]; out come display text with its
//! derivation, progress changes, and at the end the classified failure.

use crate::nix::classify::{ExitInfo, Failure, classify};
use crate::nix::drvtree::{DrvTree, TreeSnapshot};
use crate::nix::internal_json::{Event, ResultKind, level, parse_line};
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
}

impl LineInterpreter {
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

    pub fn tree(&self) -> &DrvTree {
        &self.tree
    }

    pub fn state(&self) -> &BuildState {
        &self.state
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
}
