//! Whole-log seeks (the next search match, the first error) streamed over a log file and a
//! running job's ring, keeping only a few line numbers.

use std::path::Path;

use super::file::for_each_display;
use super::{LogLine, LogSeek, NOT_YET_ON_DISK, RingSnapshot, is_error_line, matches_query};

/// Folds display lines, in order, into the answer of a `LogSeek`; keeps a few numbers only.
struct Seeker<'a> {
    seek: &'a LogSeek,
    query: String,
    /// Match: the first hit after `from` (forward) or the last before it (backward).
    beyond: Option<u64>,
    /// Match: the first (forward) or last (backward) hit anywhere, for wrapping around.
    /// FirstError: the first line containing the fallback.
    anywhere: Option<u64>,
    /// FirstError: the first error line.
    error: Option<u64>,
}

impl<'a> Seeker<'a> {
    fn new(seek: &'a LogSeek) -> Seeker<'a> {
        let query = match seek {
            LogSeek::Match { query, .. } => query.to_lowercase(),
            LogSeek::FirstError { fallback, .. } => {
                fallback.as_deref().unwrap_or("").trim().to_string()
            }
        };
        Seeker {
            seek,
            query,
            beyond: None,
            anywhere: None,
            error: None,
        }
    }

    fn offer(&mut self, n: u64, line: &LogLine) {
        let (LogSeek::Match { drv, .. } | LogSeek::FirstError { drv, .. }) = self.seek;
        if drv.as_ref().is_some_and(|d| line.drv.as_ref() != Some(d)) {
            return;
        }
        match self.seek {
            LogSeek::Match { from, forward, .. } => {
                if self.query.is_empty()
                    || (*forward && self.beyond.is_some() && self.anywhere.is_some())
                    || !matches_query(line, &self.query)
                {
                    return;
                }
                if *forward {
                    self.anywhere.get_or_insert(n);
                    if n > *from {
                        self.beyond.get_or_insert(n);
                    }
                } else {
                    self.anywhere = Some(n);
                    if n < *from {
                        self.beyond = Some(n);
                    }
                }
            }
            LogSeek::FirstError { .. } => {
                if self.error.is_none() && is_error_line(line) {
                    self.error = Some(n);
                }
                if self.anywhere.is_none()
                    && !self.query.is_empty()
                    && line.plain().contains(self.query.as_str())
                {
                    self.anywhere = Some(n);
                }
            }
        }
    }

    fn answer(self) -> Option<u64> {
        match self.seek {
            LogSeek::Match { .. } => self.beyond.or(self.anywhere),
            LogSeek::FirstError { .. } => self.error.or(self.anywhere),
        }
    }
}

/// Streams a log file's display lines through a `Seeker`: constant memory for any size.
pub fn seek_file(path: &Path, seek: &LogSeek) -> std::io::Result<Option<u64>> {
    let mut seeker = Seeker::new(seek);
    for_each_display(path, |n, l| seeker.offer(n, l))?;
    Ok(seeker.answer())
}

/// A whole-log seek over a running job: the file's lines the ring dropped, then the ring.
pub fn seek_running(
    file: Option<&Path>,
    snap: &RingSnapshot,
    seek: &LogSeek,
) -> Result<Option<u64>, String> {
    let mut seeker = Seeker::new(seek);
    if let Some(path) = file {
        let read = for_each_display(path, |n, l| {
            if n < snap.first_display {
                seeker.offer(n, l);
            }
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
        if read < snap.first_display {
            return Err(NOT_YET_ON_DISK.into());
        }
    }
    for (i, l) in snap.lines.iter().enumerate() {
        seeker.offer(snap.first_display + i as u64, l);
    }
    Ok(seeker.answer())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<LogLine> {
        texts.iter().map(|t| LogLine::new(*t, None)).collect()
    }

    fn seek_in(texts: &[&str], seek: &LogSeek) -> Option<u64> {
        let mut s = Seeker::new(seek);
        for (n, l) in lines(texts).iter().enumerate() {
            s.offer(n as u64, l);
        }
        s.answer()
    }

    fn find(query: &str, from: u64, forward: bool) -> LogSeek {
        LogSeek::Match {
            query: query.into(),
            from,
            forward,
            drv: None,
        }
    }

    const LOG: [&str; 5] = ["Foo", "bar", "foo again", "baz", "FOO end"];

    #[test]
    fn a_match_search_goes_past_from_and_wraps_around() {
        assert_eq!(seek_in(&LOG, &find("foo", 0, true)), Some(2));
        assert_eq!(
            seek_in(&LOG, &find("foo", 4, true)),
            Some(0),
            "wraps to the start"
        );
        assert_eq!(seek_in(&LOG, &find("foo", 4, false)), Some(2));
        assert_eq!(
            seek_in(&LOG, &find("foo", 0, false)),
            Some(4),
            "wraps to the end"
        );
        assert_eq!(seek_in(&LOG, &find("qux", 0, true)), None);
        assert_eq!(seek_in(&LOG, &find("", 0, true)), None);
    }

    #[test]
    fn the_first_error_wins_over_the_fallback_which_wins_over_nothing() {
        let seek = |fallback: Option<&str>| LogSeek::FirstError {
            fallback: fallback.map(str::to_owned),
            drv: None,
        };
        let log = ["building", "cc: boom", "error: builder failed", "done"];
        assert_eq!(seek_in(&log, &seek(Some("boom"))), Some(2));
        let log = ["building", "cc: boom", "done"];
        assert_eq!(seek_in(&log, &seek(Some("  boom "))), Some(1));
        assert_eq!(seek_in(&log, &seek(None)), None);
    }

    #[test]
    fn a_derivation_filter_skips_other_derivations_lines() {
        let seek = LogSeek::Match {
            query: "foo".into(),
            from: 0,
            forward: true,
            drv: Some("/nix/store/b.drv".into()),
        };
        let mut s = Seeker::new(&seek);
        s.offer(1, &LogLine::new("foo", Some("/nix/store/a.drv".into())));
        s.offer(2, &LogLine::new("foo", Some("/nix/store/b.drv".into())));
        assert_eq!(s.answer(), Some(2));
    }

    #[test]
    fn a_running_seek_reads_the_dropped_lines_from_the_file_then_the_ring() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.log");
        std::fs::write(&path, "early foo\nsecond\nthird\n").unwrap();
        let snap = RingSnapshot {
            lines: lines(&["third", "late foo"]),
            first_display: 2,
            ..Default::default()
        };
        let back = find("foo", 3, false);
        assert_eq!(seek_running(Some(&path), &snap, &back), Ok(Some(0)));
        let fwd = find("foo", 0, true);
        assert_eq!(seek_running(Some(&path), &snap, &fwd), Ok(Some(3)));
        let snap = RingSnapshot {
            first_display: 10,
            ..snap
        };
        assert_eq!(
            seek_running(Some(&path), &snap, &fwd),
            Err(NOT_YET_ON_DISK.into())
        );
    }
}
