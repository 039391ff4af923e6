//! Evaluation errors as the Nix versions print them. Nix 2.8 puts the message on the first line
//! (`error: M`) and the position after it (`       at FILE:L:C:`, and in the JSON fields).
//! Newer Nix (and Lix) with `--show-trace` prints the trace first: `error:` alone, then
//! `… while evaluating ...` frames with their `at` lines indented further, and the message last
//! as an indented `error: M` with its own `at` line; their JSON has `file`, `line` and `column`
//! null when the error has no position (`throw`), and a `trace` array beside `raw_msg`.

use crate::nix::state::Diagnostic;

/// The line that says what went wrong: the first, unless nix put the trace first (then the
/// first line is a bare `error:` and the message is the last indented `error: ` line).
pub(super) fn message_line(e: &Diagnostic) -> &str {
    let first = e.first_line().trim_end();
    if first != "error:" {
        return first;
    }
    e.plain
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| l.starts_with("error: "))
        .last()
        .unwrap_or(first)
}

/// An evaluation error rather than a build's: it has a position (a JSON field or an `at` line),
/// a trace frame, or the wording of the evaluator's own failures.
pub(super) fn is_eval_error(e: &Diagnostic) -> bool {
    if e.file.is_some() || position_in_text(&e.plain).is_some() {
        return true;
    }
    if e.plain
        .lines()
        .any(|l| l.trim_start().starts_with("… while "))
    {
        return true;
    }
    let message = message_line(e);
    let message = message.strip_prefix("error:").unwrap_or(message).trim();
    [
        "evaluation aborted with the following error message",
        "assertion '",
    ]
    .iter()
    .any(|w| message.starts_with(w))
}

/// The position of the message: the first `at FILE:L:C:` line after the message line; when
/// the message has none (a `throw`), the innermost trace frame's, the nearest before it.
pub(super) fn position_in_text(text: &str) -> Option<(String, u32, u32)> {
    let lines: Vec<&str> = text.lines().collect();
    let message_at = lines
        .iter()
        .rposition(|l| l.starts_with(' ') && l.trim_start().starts_with("error: "));
    let after = message_at.map_or(0, |i| i + 1);
    // Lix names frames inside its own builtins `«internal»`: no file a maintainer can open.
    let placed = |l: &&str| at_line(l).filter(|(f, _, _)| f != "«internal»" && f != "«none»");
    lines[after..]
        .iter()
        .find_map(&placed)
        .or_else(|| lines[..after].iter().rev().find_map(placed))
}

/// `at /nix/store/...-source/flake.nix:30:20:` (any indent) into its parts.
fn at_line(line: &str) -> Option<(String, u32, u32)> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let rest = rest.trim_end().strip_suffix(':').unwrap_or(rest.trim_end());
    let (rest, column) = rest.rsplit_once(':')?;
    let (file, line_no) = rest.rsplit_once(':')?;
    if file.is_empty() {
        return None;
    }
    Some((
        file.to_string(),
        line_no.parse().ok()?,
        column.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_lines_parse_with_any_indent() {
        assert_eq!(
            at_line("         at /a/flake.nix:3:17:"),
            Some(("/a/flake.nix".into(), 3, 17))
        );
        assert_eq!(at_line("at «string»:1:2"), Some(("«string»".into(), 1, 2)));
        assert_eq!(at_line("at nothing"), None);
        assert_eq!(at_line("  attribute x"), None);
    }
}
