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
/// the message has none (a `throw`), the innermost trace frame's, the nearest before it,
/// when that frame is the failing call (`while calling the 'throw' builtin`, Lix's `caused by
/// explicit throw`, an assertion's condition). A frame that says where a derivation's
/// attribute was forced is not where the error is (see [`demand_frame`]).
pub(super) fn position_in_text(text: &str) -> Option<(String, u32, u32)> {
    let lines: Vec<&str> = text.lines().collect();
    let after = message_index(&lines).map_or(0, |i| i + 1);
    if let Some(own) = lines[after..].iter().find_map(placed) {
        return Some(own);
    }
    match innermost_frame(&lines[..after]) {
        Some((frame, _)) if is_demand(frame) => None,
        Some((_, at)) => Some(at),
        None => None,
    }
}

/// When nix names no position and the innermost trace frame only says which derivation
/// attribute was being evaluated (Lix 2.95 for `args = [ (1 + "x") ]`:
/// `tests/fixtures/logs/lix-2.95/eval-error-show-trace.log` names line 12, the `args` line of
/// the derivation helper, never the addition's): that frame, `FILE:L:C` and its words, so the
/// hint can point there without calling it the error's position.
pub(super) fn demand_frame(text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let after = message_index(&lines).map_or(0, |i| i + 1);
    if lines[after..].iter().any(|l| placed(l).is_some()) {
        return None;
    }
    let (frame, (f, l, c)) = innermost_frame(&lines[..after])?;
    is_demand(frame).then(|| (format!("{f}:{l}:{c}"), frame.to_string()))
}

/// The last indented `error: ` line: the message when nix printed the trace first.
fn message_index(lines: &[&str]) -> Option<usize> {
    lines
        .iter()
        .rposition(|l| l.starts_with(' ') && l.trim_start().starts_with("error: "))
}

/// An `at` line with a file a maintainer can open (Lix names frames inside its own builtins
/// `«internal»`, and `«none»` when it has no position).
fn placed(l: &&str) -> Option<(String, u32, u32)> {
    at_line(l).filter(|(f, _, _)| f != "«internal»" && f != "«none»")
}

/// The innermost frame with a placed `at` line: its words (`while evaluating …`, without the
/// `… `) and position.
fn innermost_frame<'a>(lines: &[&'a str]) -> Option<(&'a str, (String, u32, u32))> {
    let at_index = lines.iter().rposition(|l| placed(l).is_some())?;
    let at = placed(&lines[at_index])?;
    let frame = lines[..at_index]
        .iter()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("… "))
        .unwrap_or("");
    Some((frame.trim_end(), at))
}

/// A frame that says where a value was asked for, not where it failed.
fn is_demand(frame: &str) -> bool {
    frame.starts_with("while evaluating derivation ")
        || (frame.starts_with("while evaluating attribute ") && frame.contains(" of derivation "))
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

    const DEMANDED: &str = "error:
       … while evaluating derivation 'evalerr'
         at /s/flake.nix:9:17:
       … while evaluating attribute 'args' of derivation 'evalerr'
         at /s/flake.nix:12:9:
           12|         args = [ \"-c\" script ];
       error: cannot add a string to an integer";

    #[test]
    fn a_frame_that_forced_an_attribute_is_no_position() {
        assert_eq!(position_in_text(DEMANDED), None);
        assert_eq!(
            demand_frame(DEMANDED),
            Some((
                "/s/flake.nix:12:9".to_string(),
                "while evaluating attribute 'args' of derivation 'evalerr'".to_string()
            ))
        );
        let thrown = "error:
       … while evaluating attribute 'args' of derivation 'x'
         at /s/flake.nix:12:9:
       … while calling the 'throw' builtin
         at /s/flake.nix:28:18:
       error: no";
        assert_eq!(
            position_in_text(thrown),
            Some(("/s/flake.nix".into(), 28, 18))
        );
        assert_eq!(demand_frame(thrown), None);
        let own = format!("{DEMANDED}\n       at /s/flake.nix:54:37:");
        assert_eq!(
            position_in_text(&own),
            Some(("/s/flake.nix".into(), 54, 37))
        );
        assert_eq!(demand_frame(&own), None);
    }

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
