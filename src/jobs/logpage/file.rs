//! Pages of a log file on disk, streamed through the interpreter with bounded memory.

use std::collections::VecDeque;
use std::io::BufReader;
use std::path::Path;

use crate::jobs::interpret::LineInterpreter;
use crate::jobs::spec::FailureSummary;
use crate::nix::classify::ExitInfo;

use super::{LogLine, LogPage, LogRange, NOT_YET_ON_DISK, PAGE_LINES, WINDOW_LINES, around};

/// Read buffer for log files: large, as whole logs are streamed for the tail or a seek.
const READ_BUFFER: usize = 256 * 1024;

pub(super) fn open(path: &Path) -> std::io::Result<BufReader<std::fs::File>> {
    Ok(BufReader::with_capacity(
        READ_BUFFER,
        std::fs::File::open(path)?,
    ))
}

/// Every derivation the interpreter's build state knows, in order of appearance.
pub(super) fn drvs_of(interp: &LineInterpreter) -> Vec<String> {
    interp
        .state()
        .derivations()
        .iter()
        .map(|d| d.path.clone())
        .collect()
}

/// Calls `f(n, line)` for each display line of a log file; returns how many there were.
pub(super) fn for_each_display(
    path: &Path,
    mut f: impl FnMut(u64, &LogLine),
) -> std::io::Result<u64> {
    let mut interp = LineInterpreter::default();
    let mut n: u64 = 0;
    crate::nix::logfile::for_each_line(open(path)?, |raw| {
        let m = interp.feed(raw, true);
        if let Some(text) = m.text {
            for l in LogLine::split(&text, m.drv) {
                f(n, &l);
                n += 1;
            }
        }
    })?;
    Ok(n)
}

/// One page of a log file's display lines. Streams the file through the interpreter keeping
/// only the page: bounded memory for any size. The newest or oldest page reads all of it (the
/// failure class and the derivations need the whole log); an older page or one around a seek's
/// match stops interpreting after its last line (the view already knows the rest), so paging up
/// costs the distance from the start, not the whole file.
pub fn read_page(path: &Path, range: LogRange) -> std::io::Result<LogPage> {
    let mut interp = LineInterpreter::default();
    let (start, end) = match range {
        LogRange::Tail => (0, u64::MAX),
        LogRange::Head => (0, WINDOW_LINES as u64),
        LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n),
        LogRange::Around(n) => around(n, u64::MAX),
    };
    let may_stop = matches!(range, LogRange::Before(_) | LogRange::Around(_));
    let mut lines: VecDeque<LogLine> = VecDeque::new();
    let mut n: u64 = 0;
    let mut raw_total = 0;
    let mut stopped = false;
    crate::nix::logfile::for_each_line(open(path)?, |raw| {
        if stopped {
            return;
        }
        raw_total += 1;
        let m = interp.feed(raw, true);
        if let Some(text) = m.text {
            for l in LogLine::split(&text, m.drv) {
                if n >= start && n < end {
                    lines.push_back(l);
                    if lines.len() > WINDOW_LINES {
                        lines.pop_front();
                    }
                }
                n += 1;
            }
        }
        // Stop only past a whole raw line, so `n` stays a display line boundary.
        stopped = may_stop && n > end;
    })?;
    let first = match range {
        LogRange::Tail => n - lines.len() as u64,
        _ => start,
    };
    if stopped {
        return Ok(LogPage {
            first,
            at_tail: false,
            lines: lines.into(),
            total: n,
            drvs: Vec::new(),
            failure: None,
            raw_total,
        });
    }
    let failure = interp.finish(&ExitInfo::from_log());
    interp.settle(failure.is_none());
    let failure = failure.as_ref().map(FailureSummary::from);
    Ok(LogPage {
        first,
        at_tail: first + lines.len() as u64 == n,
        lines: lines.into(),
        total: n,
        drvs: drvs_of(&interp),
        failure,
        raw_total,
    })
}

/// A page of the lines a running job's ring dropped (display lines below `first_display`), from
/// its log file. The file is flushed at most `FLUSH_EVERY` behind the ring, so it holds them;
/// if it does not yet, say so rather than show a page with the wrong numbers.
pub fn read_dropped(path: &Path, range: LogRange, first_display: u64) -> Result<LogPage, String> {
    let mut page = read_page(path, range).map_err(|e| format!("{}: {e}", path.display()))?;
    let needed = match range {
        LogRange::Before(n) => n,
        LogRange::Around(n) => n + 1,
        LogRange::Head | LogRange::Tail => first_display.min(WINDOW_LINES as u64),
    };
    if page.total < needed {
        return Err(NOT_YET_ON_DISK.into());
    }
    // A partial log has no verdict yet, and the ring knows the derivations.
    page.failure = None;
    page.drvs.clear();
    page.at_tail = false;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain-text log of `n` numbered lines (plain lines are display lines as they are).
    fn log(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.log");
        let text: String = (0..n).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn the_tail_is_the_newest_window_and_knows_the_whole_log() {
        let (_d, path) = log(WINDOW_LINES + 7);
        let page = read_page(&path, LogRange::Tail).unwrap();
        assert_eq!(page.first, 7);
        assert_eq!(page.lines.len(), WINDOW_LINES);
        assert_eq!(page.total, (WINDOW_LINES + 7) as u64);
        assert_eq!(page.raw_total, (WINDOW_LINES + 7) as u64);
        assert!(page.at_tail);
        assert_eq!(page.lines[0].text, "line 7");
    }

    #[test]
    fn an_older_page_ends_just_before_the_line_asked_for_and_stops_reading() {
        let (_d, path) = log(10_000);
        let page = read_page(&path, LogRange::Before(6_000)).unwrap();
        assert_eq!(page.first, 6_000 - PAGE_LINES as u64);
        assert_eq!(page.lines.len(), PAGE_LINES);
        assert_eq!(page.lines.last().unwrap().text, "line 5999");
        assert!(!page.at_tail);
        assert!(
            page.total < 10_000,
            "stopped after the page, not at the end"
        );
    }

    #[test]
    fn dropped_lines_not_yet_flushed_are_an_error_not_a_misnumbered_page() {
        let (_d, path) = log(100);
        let err = read_dropped(&path, LogRange::Before(500), 500).unwrap_err();
        assert_eq!(err, NOT_YET_ON_DISK);
        let page = read_dropped(&path, LogRange::Before(80), 500).unwrap();
        assert_eq!((page.first, page.lines.len()), (0, 80));
        assert!(!page.at_tail && page.failure.is_none() && page.drvs.is_empty());
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.log");
        let err = read_dropped(&path, LogRange::Head, 10).unwrap_err();
        assert!(err.contains("gone.log"), "{err}");
    }
}
