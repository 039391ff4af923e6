//! Pages of a running job's in-memory ring: its newest raw lines, numbered like the whole log
//! (the older ones are on disk, read with `read_dropped`).

use std::sync::Mutex;

use crate::jobs::interpret::LineInterpreter;
use crate::jobs::logstore::LogRing;

use super::file::drvs_of;
use super::{LogLine, LogPage, LogRange, PAGE_LINES, WINDOW_LINES, around};

/// A running job's ring, interpreted.
#[derive(Debug, Clone, Default)]
pub struct RingSnapshot {
    pub lines: Vec<LogLine>,
    pub drvs: Vec<String>,
    pub raw_total: u64,
    /// Display number of `lines[0]` (display lines of the raw lines the ring dropped).
    pub first_display: u64,
}

/// The answer for a range of a running job's log.
// The page is the usual answer and is moved out at once; boxing it buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingPage {
    Page(LogPage),
    /// The range is above the ring: read the file, whose first `first_display` display lines
    /// the ring dropped.
    OnDisk {
        first_display: u64,
    },
}

impl RingSnapshot {
    /// Interprets the ring's lines as they are now (the lock is held only while reading them).
    pub fn of(ring: &Mutex<LogRing>) -> Result<RingSnapshot, String> {
        let ring = ring.lock().map_err(|_| "log ring poisoned".to_string())?;
        let mut interp = LineInterpreter::default();
        let mut lines = Vec::new();
        for (raw, display) in ring.iter_counted() {
            // A piece of an overlong line makes no display line (see engine::on_line), but
            // still goes through the interpreter to keep its state.
            let m = interp.feed(raw, display > 0);
            if let Some(text) = m.text {
                lines.extend(LogLine::split(&text, m.drv));
            }
        }
        Ok(RingSnapshot {
            lines,
            drvs: drvs_of(&interp),
            raw_total: ring.total(),
            first_display: ring.first_display(),
        })
    }

    /// The ring's lines as plain text (ANSI stripped), for saving.
    pub fn plain_lines(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.plain().into_owned()).collect()
    }

    /// A page of the ring, like `read_page` does for files; lines the ring dropped are left to
    /// `read_dropped`.
    pub fn page(self, range: LogRange) -> RingPage {
        let base = self.first_display;
        let total = base + self.lines.len() as u64;
        let (start, end) = match range {
            LogRange::Tail => (total.saturating_sub(WINDOW_LINES as u64), total),
            LogRange::Head => (0, total.min(WINDOW_LINES as u64)),
            LogRange::Before(n) => (n.saturating_sub(PAGE_LINES as u64), n.min(total)),
            LogRange::Around(n) => around(n, total),
        };
        let start = start.min(end);
        let on_disk = match range {
            LogRange::Tail => false,
            LogRange::Head => base > 0,
            LogRange::Before(n) => base > 0 && n <= base,
            LogRange::Around(n) => n < base,
        };
        if on_disk {
            return RingPage::OnDisk {
                first_display: base,
            };
        }
        // A page straddling the ring's start keeps to the ring (the rest is a page further up).
        let start = start.max(base);
        let end = end.max(start);
        RingPage::Page(LogPage {
            first: start,
            lines: self.lines[(start - base) as usize..(end - base) as usize].to_vec(),
            total,
            drvs: self.drvs,
            failure: None,
            at_tail: end == total,
            raw_total: self.raw_total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring of `capacity` lines that has seen `pushed` plain lines.
    fn ring(capacity: usize, pushed: usize) -> Mutex<LogRing> {
        let mut r = LogRing::new(capacity);
        for i in 0..pushed {
            r.push(format!("line {i}"));
        }
        Mutex::new(r)
    }

    fn page(snap: &RingSnapshot, range: LogRange) -> LogPage {
        match snap.clone().page(range) {
            RingPage::Page(p) => p,
            RingPage::OnDisk { .. } => panic!("{range:?} should be in the ring"),
        }
    }

    #[test]
    fn ring_lines_are_numbered_like_the_whole_log() {
        let snap = RingSnapshot::of(&ring(100, 250)).unwrap();
        assert_eq!((snap.first_display, snap.lines.len()), (150, 100));
        assert_eq!(snap.raw_total, 250);
        let tail = page(&snap, LogRange::Tail);
        assert_eq!((tail.first, tail.total), (150, 250));
        assert!(tail.at_tail);
        assert_eq!(tail.lines[0].text, "line 150");
    }

    #[test]
    fn ranges_above_the_ring_are_left_to_the_file() {
        let snap = RingSnapshot::of(&ring(100, 250)).unwrap();
        for range in [LogRange::Head, LogRange::Before(150), LogRange::Around(10)] {
            assert_eq!(
                snap.clone().page(range),
                RingPage::OnDisk { first_display: 150 },
                "{range:?}"
            );
        }
    }

    #[test]
    fn a_page_straddling_the_ring_start_keeps_to_the_ring() {
        let snap = RingSnapshot::of(&ring(100, 250)).unwrap();
        let p = page(&snap, LogRange::Before(200));
        assert_eq!((p.first, p.lines.len()), (150, 50));
        assert!(!p.at_tail);
        assert_eq!(p.lines.last().unwrap().text, "line 199");
    }

    #[test]
    fn a_ring_that_dropped_nothing_serves_the_head_itself() {
        let snap = RingSnapshot::of(&ring(100, 30)).unwrap();
        let head = page(&snap, LogRange::Head);
        assert_eq!((head.first, head.lines.len(), head.total), (0, 30, 30));
        assert_eq!(snap.plain_lines()[29], "line 29");
    }
}
