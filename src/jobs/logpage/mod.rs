//! Reading a job's log as display lines, a page at a time: from its log file on disk (any size,
//! bounded memory), from a running job's in-memory ring, or both (the ring's dropped lines are
//! in the file). Also the whole-log seeks (search, first error) and saving a log as plain text.
//! Front ends (the TUI's log view) ask for a `LogRange` or a `LogSeek` and get a `LogPage` or a
//! display line number back; numbering is the same for ring and file lines.

mod file;
mod ring;
mod save;
mod seek;

pub use file::{read_dropped, read_page};
pub use ring::{RingPage, RingSnapshot};
pub use save::save_plain;
pub use seek::{seek_file, seek_running};

use crate::jobs::spec::FailureSummary;
use crate::nix::ansi;

/// Display lines a page around the newest (or oldest) line holds: what a log view keeps in
/// memory. Older ones are re-read from disk on demand.
pub const WINDOW_LINES: usize = 5000;
/// Lines fetched per page when scrolling above the window.
pub const PAGE_LINES: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// As nix printed it, ANSI escapes kept (the view renders the colours).
    pub text: String,
    /// The derivation whose builder printed it, when known.
    pub drv: Option<String>,
}

impl LogLine {
    pub fn new(text: impl Into<String>, drv: Option<String>) -> LogLine {
        LogLine {
            text: text.into(),
            drv,
        }
    }

    /// One display line per line of `text` (nix messages such as a hash mismatch span several).
    pub fn split(text: &str, drv: Option<String>) -> impl Iterator<Item = LogLine> + '_ {
        text.split('\n').map(move |l| LogLine::new(l, drv.clone()))
    }

    pub fn plain(&self) -> std::borrow::Cow<'_, str> {
        ansi::strip(&self.text)
    }
}

/// A page of display lines read for a log view.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPage {
    /// Display number of `lines[0]`.
    pub first: u64,
    pub lines: Vec<LogLine>,
    /// Display lines in the whole source (so far).
    pub total: u64,
    /// Every derivation the source's build state knows, in order of appearance.
    pub drvs: Vec<String>,
    /// The classified failure of the whole log, if it failed.
    pub failure: Option<FailureSummary>,
    /// Whether this page ends at the newest line (a live view then keeps appending).
    pub at_tail: bool,
    /// Raw log lines the page was read from (a live view takes event lines from here on).
    pub raw_total: u64,
}

/// Which lines of a log a view asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRange {
    /// The newest lines.
    Tail,
    /// The oldest lines.
    Head,
    /// The page just before display line N.
    Before(u64),
    /// A window of lines around display line N (a seek's result).
    Around(u64),
}

/// What a whole-log seek looks for; answered with a display line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSeek {
    /// The next (or previous) line after (before) display line `from` containing `query`
    /// (ignoring case and ANSI), wrapping around the log; only lines of `drv` when set.
    Match {
        query: String,
        from: u64,
        forward: bool,
        drv: Option<String>,
    },
    /// The first line reading as an error, else the first containing `fallback` (the
    /// classified failure's first line); only lines of `drv` when set.
    FirstError {
        fallback: Option<String>,
        drv: Option<String>,
    },
}

/// Whether `line` contains `lowercase_query`, ignoring case and ANSI escapes.
pub fn matches_query(line: &LogLine, lowercase_query: &str) -> bool {
    line.plain().to_lowercase().contains(lowercase_query)
}

/// Whether `line` reads as an error (`error:` from nix or a compiler).
pub fn is_error_line(line: &LogLine) -> bool {
    let p = line.plain();
    let t = p.trim_start();
    t.starts_with("error:") || t.starts_with("error ") || t.contains(" error:")
}

/// Display lines [start, end) of a window centred on line `n` of a log of `total` lines.
fn around(n: u64, total: u64) -> (u64, u64) {
    let start = n.saturating_sub(WINDOW_LINES as u64 / 2);
    (start, (start + WINDOW_LINES as u64).min(total.max(start)))
}

/// The older lines a page needs are not yet flushed to the log file.
const NOT_YET_ON_DISK: &str = "the older lines are still being written to disk: try again";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_become_several_lines() {
        let parts: Vec<_> =
            LogLine::split("error: hash mismatch\n  specified: a\n  got: b", None).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2].text, "  got: b");
    }

    #[test]
    fn error_lines_are_told_apart_from_lines_that_mention_errors() {
        let is = |t: &str| is_error_line(&LogLine::new(t, None));
        assert!(is("error: builder failed"));
        assert!(is("\u{1b}[31;1merror:\u{1b}[0m hash mismatch"));
        assert!(is("src/main.rs:3: error: expected `;`"));
        assert!(!is("checking for strerror... yes"));
        assert!(!is("errors: 0"));
    }

    #[test]
    fn a_window_around_a_line_centres_it_and_stays_inside_the_log() {
        let half = WINDOW_LINES as u64 / 2;
        assert_eq!(around(10, 100), (0, 100));
        assert_eq!(around(50_000, 60_000), (50_000 - half, 50_000 + half));
        assert_eq!(around(59_999, 60_000), (59_999 - half, 60_000));
    }
}
