//! Logs captured without internal-json (`nix build -L 2> log`, or nix failing before its
//! logger starts): `error:` lines with indented continuations, and `name> ` builder lines.

use std::collections::VecDeque;

use super::{BuildState, Diagnostic, MAX_KEPT_MESSAGE, MAX_MESSAGES, clip, push_bounded};
use crate::nix::ansi;
use crate::nix::internal_json::level;

impl BuildState {
    pub(super) fn on_plain(&mut self, line: &str) {
        self.plain_lines += 1;
        push_bounded(&mut self.plain_tail, self.tail_lines, line);
        // A log captured without internal-json (`nix build -L 2> log`, or nix failing before its
        // logger starts) still has its `error:` messages and `name> ` builder lines; read them
        // so triage works on plain logs too.
        let plain = ansi::strip(line);
        if plain.starts_with("error:") {
            self.errors_total += 1;
            self.attribute_error(&plain);
            self.plain.error_open = self.errors.len() < MAX_MESSAGES;
            if self.plain.error_open {
                self.errors.push(Diagnostic {
                    level: level::ERROR,
                    text: clip(line, MAX_KEPT_MESSAGE).to_string(),
                    plain: clip(&plain, MAX_KEPT_MESSAGE).to_string(),
                    file: None,
                    line: None,
                    column: None,
                    from_nix: false,
                });
            }
            return;
        }
        // An error's indented continuation (`specified:`/`got:`, `Reason:`, log lines).
        if self.plain.error_open && plain.starts_with(' ') {
            if let Some(last) = self.errors.last_mut() {
                append_clipped(&mut last.text, line);
                append_clipped(&mut last.plain, &plain);
                // Only a `Reason:` line (nix >= 2.25) changes what the message says about its
                // derivation; re-reading the whole message for every line would cost time
                // quadratic in its length.
                if plain.trim_start().starts_with("Reason: ") {
                    let message = last.plain.clone();
                    self.attribute_error(&message);
                }
            }
            return;
        }
        self.plain.error_open = false;
        // Nix prints some warnings before its JSON logger starts (an unknown setting in
        // NIX_CONFIG), and all of them in the plain format.
        if plain.starts_with("warning:") {
            self.warnings_total += 1;
            if self.warnings.len() < MAX_MESSAGES {
                self.warnings.push(Diagnostic {
                    level: level::WARN,
                    text: clip(line, MAX_KEPT_MESSAGE).to_string(),
                    plain: clip(&plain, MAX_KEPT_MESSAGE).to_string(),
                    file: None,
                    line: None,
                    column: None,
                    from_nix: false,
                });
            }
            return;
        }
        if let Some((name, output)) = builder_line(&plain) {
            self.plain.push(name, output, self.tail_lines);
        }
    }
}

/// What the plain log format needs remembered between lines.
#[derive(Debug, Default)]
pub(super) struct PlainLog {
    /// Builder output (`name> line`) of the most recent derivation names: the plain format
    /// names no activity, so the lines are handed to a derivation once an error names it.
    pub by_name: VecDeque<(String, VecDeque<String>, u64)>,
    /// The last line was an `error:` whose message may continue on indented lines.
    pub error_open: bool,
}

/// Derivation names whose plain builder output is remembered.
pub(super) const PLAIN_NAMES: usize = 16;

impl PlainLog {
    pub fn push(&mut self, name: &str, line: &str, tail_lines: usize) {
        let i = if let Some(i) = self.by_name.iter().position(|(n, _, _)| n == name) {
            i
        } else {
            if self.by_name.len() >= PLAIN_NAMES {
                self.by_name.pop_front();
            }
            self.by_name
                .push_back((name.to_string(), VecDeque::new(), 0));
            self.by_name.len() - 1
        };
        let (_, tail, count) = &mut self.by_name[i];
        push_bounded(tail, tail_lines, line);
        *count += 1;
    }

    /// Bytes of the names and lines remembered.
    pub fn kept_bytes(&self) -> usize {
        self.by_name
            .iter()
            .map(|(n, tail, _)| n.len() + tail.iter().map(String::len).sum::<usize>())
            .sum()
    }

    /// The remembered output of `name`, removed.
    pub fn take(&mut self, name: &str) -> Option<(VecDeque<String>, u64)> {
        let i = self.by_name.iter().position(|(n, _, _)| n == name)?;
        self.by_name.remove(i).map(|(_, tail, count)| (tail, count))
    }
}

/// `hello-1.0> some output` (nix -L): the derivation name and the builder's line.
pub(super) fn builder_line(line: &str) -> Option<(&str, &str)> {
    let (name, output) = line.split_once("> ")?;
    let plausible = !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains(':');
    plausible.then_some((name, output))
}

/// Append `\n` + `line` to `text`, up to [`MAX_KEPT_MESSAGE`] bytes in all.
fn append_clipped(text: &mut String, line: &str) {
    let room = MAX_KEPT_MESSAGE.saturating_sub(text.len() + 1);
    if room > 0 {
        text.push('\n');
        text.push_str(clip(line, room));
    }
}
