//! Reading an internal-json log captured elsewhere (e.g. in CI) into a [`Summary`]; `atwb log`
//! (`cli/log.rs`) prints it.
//!
//! The file is streamed line by line through the parser, the build state and the classifier, so
//! memory stays constant whatever the log size (the state keeps only bounded tails).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::classify::{self, ExitInfo, Failure};
use super::internal_json::{self, Event, Progress};
use super::state::{BuildState, Derivation, DrvStatus};

/// Lines read and events applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    pub lines: u64,
    pub bytes: u64,
    /// Lines that were internal-json events (the rest are plain text).
    pub json_events: u64,
}

/// Feed every line of `reader` to `state`.
pub fn ingest(reader: impl BufRead, state: &mut BuildState) -> io::Result<IngestStats> {
    let mut stats = IngestStats::default();
    for_each_line(reader, |line| {
        let event = internal_json::parse_line(line);
        stats.lines += 1;
        stats.bytes += line.len() as u64 + 1;
        if !matches!(event, Event::Plain(_)) {
            stats.json_events += 1;
        }
        state.apply(&event);
    })?;
    Ok(stats)
}

/// Longest line kept, in bytes; the rest of a longer line is skipped so that memory stays
/// bounded even for a log with no newlines. Nix's own lines are far shorter.
pub const MAX_LINE: usize = 1 << 20;

/// Call `f` with each line (newline removed; invalid UTF-8 replaced; cut at [`MAX_LINE`]
/// bytes). Lines are passed straight from the reader's buffer; only a line split across two
/// reads is copied.
pub fn for_each_line(mut reader: impl BufRead, mut f: impl FnMut(&str)) -> io::Result<()> {
    let mut deliver = |bytes: &[u8]| match std::str::from_utf8(bytes) {
        Ok(line) => f(line),
        Err(_) => f(&String::from_utf8_lossy(bytes)),
    };
    // Only used for a line that straddles two reads of the underlying reader.
    let mut partial = Vec::new();
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !partial.is_empty() {
                deliver(&partial);
            }
            return Ok(());
        }
        let newline = memchr::memchr(b'\n', chunk);
        match newline {
            // The common case: the whole line is in the reader's buffer; use it in place.
            Some(n) if partial.is_empty() => deliver(&chunk[..n.min(MAX_LINE)]),
            Some(n) => {
                let room = MAX_LINE.saturating_sub(partial.len());
                partial.extend_from_slice(&chunk[..n.min(room)]);
                deliver(&partial);
                partial.clear();
            }
            None => {
                let room = MAX_LINE.saturating_sub(partial.len());
                partial.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        let used = newline.map_or(chunk.len(), |n| n + 1);
        reader.consume(used);
    }
}

/// `path` opened for [`ingest`] and [`for_each_line`], with a buffer sized for multi-GB logs.
pub fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).with_context(|| format!("cannot open log {}", path.display()))?;
    Ok(BufReader::with_capacity(256 * 1024, file))
}

/// What `atwb log --json` prints.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub file: String,
    pub ok: bool,
    /// The file holds nix's output: internal-json events, or (the plain format) nix's errors or
    /// builder lines. Anything else is not a nix log, and `ok` says nothing.
    pub nix_log: bool,
    pub lines: u64,
    pub json_events: u64,
    pub built: Vec<DrvSummary>,
    pub failed: Vec<DrvSummary>,
    /// Building when the log ended.
    pub unfinished: Vec<DrvSummary>,
    /// Stopped by nix because another failed, or by the user.
    pub cancelled: Vec<DrvSummary>,
    pub planned: Vec<DrvSummary>,
    pub error: Option<Failure>,
    pub progress: Progress,
    pub warnings: Vec<String>,
    pub warnings_total: u64,
    pub errors_total: u64,
}

#[derive(Debug, Serialize)]
pub struct DrvSummary {
    pub path: String,
    pub name: String,
    pub status: DrvStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub log_lines: u64,
    /// Failed derivations only: the last log lines, ANSI stripped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_lines: Vec<String>,
}

impl DrvSummary {
    fn of(d: &Derivation) -> Self {
        DrvSummary {
            path: d.path.clone(),
            name: d.name.clone(),
            status: d.status,
            phase: d.phase.clone(),
            exit_code: d.exit_code,
            error: d.error.clone(),
            log_lines: d.log_lines,
            last_lines: if d.status == DrvStatus::Failed {
                classify::last_lines(d)
            } else {
                Vec::new()
            },
        }
    }
}

/// Read `path` and summarise it.
pub fn summarise(path: &Path) -> Result<Summary> {
    let mut state = BuildState::new();
    let stats = ingest(open(path)?, &mut state)
        .with_context(|| format!("cannot read log {}", path.display()))?;
    // A log has no exit status: it succeeded when nothing in it is an error.
    let succeeded = classify::classify(&state, &ExitInfo::from_log()).is_none();
    state.finish(succeeded);
    Ok(summary_of(path, &state, stats))
}

pub fn summary_of(path: &Path, state: &BuildState, stats: IngestStats) -> Summary {
    let error = classify::classify(state, &ExitInfo::from_log());
    let list = |pred: fn(DrvStatus) -> bool| {
        state
            .derivations()
            .iter()
            .filter(|d| pred(d.status))
            .map(DrvSummary::of)
            .collect()
    };
    let nix_log =
        stats.json_events > 0 || state.errors_total() > 0 || !state.derivations().is_empty();
    Summary {
        file: path.display().to_string(),
        ok: error.is_none(),
        nix_log,
        lines: stats.lines,
        json_events: stats.json_events,
        built: list(|s| s == DrvStatus::Built),
        failed: list(|s| s == DrvStatus::Failed),
        unfinished: list(|s| matches!(s, DrvStatus::Building | DrvStatus::Stopped)),
        cancelled: list(|s| s == DrvStatus::Cancelled),
        planned: list(|s| s == DrvStatus::Planned),
        error,
        progress: state.progress(),
        warnings: state
            .warnings()
            .iter()
            .map(|w| w.first_line().to_string())
            .collect(),
        warnings_total: state.warnings_total(),
        errors_total: state.errors_total(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8], capacity: usize) -> Vec<String> {
        let mut out = Vec::new();
        let reader = BufReader::with_capacity(capacity, input);
        for_each_line(reader, |l| out.push(l.to_string())).unwrap();
        out
    }

    #[test]
    fn splits_lines_across_buffer_refills() {
        let input = b"first line\nsecond\n\nlast without newline";
        for capacity in [1, 3, 7, 64] {
            assert_eq!(
                lines_of(input, capacity),
                ["first line", "second", "", "last without newline"]
            );
        }
        assert!(lines_of(b"", 8).is_empty());
        assert_eq!(lines_of(b"\n", 8), [""]);
    }

    #[test]
    fn overlong_lines_are_cut_and_the_next_line_survives() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nnext\n");
        let lines = lines_of(&input, 8192);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "next");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(lines_of(b"a\xffb\n", 8), ["a\u{fffd}b"]);
    }
}
