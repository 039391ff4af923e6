//! Bounded job logs: the last N lines in memory ([`LogRing`]) and the full raw log on disk, read
//! back a page at a time ([`LogPager`]), so a 1 GB log never costs more than a few MiB.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::nix::logfile::MAX_LINE;

/// Default number of lines a job keeps in memory.
pub const DEFAULT_RING_LINES: usize = 10_000;

/// The newest `capacity` lines, addressed by absolute line number (0 = first line ever pushed),
/// so a viewer can tell which older lines it must fetch from disk.
#[derive(Debug, Clone)]
pub struct LogRing {
    lines: VecDeque<String>,
    /// Display lines each kept raw line makes (see `Interpreted::display_lines`).
    display: VecDeque<u32>,
    capacity: usize,
    /// Lines pushed in total, including those already dropped.
    total: u64,
    /// Display lines of the dropped raw lines: the display number of the ring's first one, so
    /// a viewer numbers ring and file lines alike.
    dropped_display: u64,
}

impl LogRing {
    pub fn new(capacity: usize) -> Self {
        LogRing {
            lines: VecDeque::with_capacity(capacity.min(1024)),
            display: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
            total: 0,
            dropped_display: 0,
        }
    }

    /// A plain line (one display line).
    pub fn push(&mut self, line: String) {
        self.push_counted(line, 1);
    }

    /// A raw line that makes `display` display lines.
    pub fn push_counted(&mut self, line: String, display: u32) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.dropped_display += u64::from(self.display.pop_front().unwrap_or(0));
        }
        self.lines.push_back(line);
        self.display.push_back(display);
        self.total += 1;
    }

    /// Display number of the first display line of the kept raw lines.
    pub fn first_display(&self) -> u64 {
        self.dropped_display
    }

    /// Lines pushed so far (the next line's number).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Number of the oldest line still in memory.
    pub fn first_kept(&self) -> u64 {
        self.total - self.lines.len() as u64
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line by absolute number, if still in memory.
    pub fn get(&self, n: u64) -> Option<&str> {
        let i = n.checked_sub(self.first_kept())?;
        self.lines.get(usize::try_from(i).ok()?).map(String::as_str)
    }

    /// The in-memory lines with the display lines each makes, oldest first.
    pub fn iter_counted(&self) -> impl Iterator<Item = (&str, u32)> {
        self.lines
            .iter()
            .map(String::as_str)
            .zip(self.display.iter().copied())
    }

    /// The in-memory lines, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.lines.iter().map(String::as_str)
    }
}

impl Default for LogRing {
    fn default() -> Self {
        LogRing::new(DEFAULT_RING_LINES)
    }
}

/// Lines per index checkpoint: the index costs 8 bytes per this many lines (a 1 GB log of
/// 100-byte lines: 10M lines -> 20k checkpoints -> 160 KB).
const CHECKPOINT_EVERY: u64 = 512;

/// Random access by line number to a log file on disk, possibly still growing. Keeps only a
/// sparse index of byte offsets; `refresh` indexes what was appended since the last call.
#[derive(Debug)]
pub struct LogPager {
    path: PathBuf,
    /// Byte offset of line `i * CHECKPOINT_EVERY`.
    checkpoints: Vec<u64>,
    /// Complete lines indexed so far, and the byte offset just after the last one.
    lines: u64,
    indexed_to: u64,
}

impl LogPager {
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut p = LogPager {
            path: path.into(),
            checkpoints: vec![0],
            lines: 0,
            indexed_to: 0,
        };
        p.refresh()?;
        Ok(p)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Index lines appended since the last call; returns the new line count. A trailing line
    /// without its newline is not counted until it is complete.
    pub fn refresh(&mut self) -> io::Result<u64> {
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(self.indexed_to))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut pos = self.indexed_to;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            for i in memchr::memchr_iter(b'\n', &buf[..n]) {
                self.lines += 1;
                self.indexed_to = pos + i as u64 + 1;
                if self.lines.is_multiple_of(CHECKPOINT_EVERY) {
                    self.checkpoints.push(self.indexed_to);
                }
            }
            pos += n as u64;
        }
        Ok(self.lines)
    }

    pub fn line_count(&self) -> u64 {
        self.lines
    }

    /// Up to `count` complete lines starting at line `start` (lossy UTF-8, newline removed).
    pub fn lines(&self, start: u64, count: usize) -> io::Result<Vec<String>> {
        if start >= self.lines || count == 0 {
            return Ok(Vec::new());
        }
        let cp = (start / CHECKPOINT_EVERY) as usize;
        let mut r = BufReader::new(File::open(&self.path)?);
        r.seek(SeekFrom::Start(self.checkpoints[cp]))?;
        let mut n = cp as u64 * CHECKPOINT_EVERY;
        let end = (start + count as u64).min(self.lines);
        let mut out = Vec::with_capacity((end - start) as usize);
        let mut buf = Vec::new();
        while n < end {
            buf.clear();
            if read_line_capped(&mut r, &mut buf, MAX_LINE)? == 0 {
                break;
            }
            if n >= start {
                out.push(String::from_utf8_lossy(&buf).into_owned());
            }
            n += 1;
        }
        Ok(out)
    }
}

/// Read one line (newline consumed, not kept) into `buf`, keeping at most `cap` bytes of it: the
/// file keeps huge lines whole, but a page of them must not take unbounded memory. Returns the
/// bytes consumed, 0 at the end of the file.
fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok(consumed);
        }
        let newline = memchr::memchr(b'\n', available);
        let text = newline.unwrap_or(available.len());
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&available[..text.min(room)]);
        let used = newline.map_or(available.len(), |i| i + 1);
        r.consume(used);
        consumed += used;
        if newline.is_some() {
            return Ok(consumed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn ring_keeps_newest_lines_with_absolute_numbers() {
        let mut r = LogRing::new(3);
        for i in 0..5 {
            r.push(format!("l{i}"));
        }
        assert_eq!(r.total(), 5);
        assert_eq!(r.first_kept(), 2);
        assert_eq!(r.iter().collect::<Vec<_>>(), ["l2", "l3", "l4"]);
        assert_eq!(r.get(1), None);
        assert_eq!(r.get(4), Some("l4"));
    }

    #[test]
    fn ring_counts_the_display_lines_it_dropped() {
        let mut r = LogRing::new(2);
        r.push_counted("msg of three lines".into(), 3);
        r.push_counted("bookkeeping".into(), 0);
        assert_eq!(r.first_display(), 0);
        r.push_counted("build line".into(), 1);
        assert_eq!(
            r.first_display(),
            3,
            "the dropped message made 3 display lines"
        );
        r.push_counted("another".into(), 1);
        assert_eq!(
            r.first_display(),
            3,
            "the dropped bookkeeping line made none"
        );
        assert_eq!(
            r.iter_counted().collect::<Vec<_>>(),
            [("build line", 1), ("another", 1)]
        );
    }

    #[test]
    fn pager_cuts_a_huge_line_to_max_line() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.log");
        let mut f = File::create(&p).unwrap();
        f.write_all(&vec![b'x'; MAX_LINE * 3]).unwrap();
        writeln!(f).unwrap();
        writeln!(f, "after").unwrap();
        let pager = LogPager::open(&p).unwrap();
        let lines = pager.lines(0, 2).unwrap();
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "after");
    }

    #[test]
    fn pager_reads_any_page_and_follows_growth() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.log");
        let mut f = File::create(&p).unwrap();
        for i in 0..2000 {
            writeln!(f, "line {i}").unwrap();
        }
        write!(f, "partial").unwrap();
        f.flush().unwrap();
        let mut pager = LogPager::open(&p).unwrap();
        assert_eq!(pager.line_count(), 2000);
        assert_eq!(
            pager.lines(1023, 3).unwrap(),
            ["line 1023", "line 1024", "line 1025"]
        );
        assert_eq!(pager.lines(1998, 10).unwrap(), ["line 1998", "line 1999"]);
        writeln!(f, " done").unwrap();
        writeln!(f, "last").unwrap();
        assert_eq!(pager.refresh().unwrap(), 2002);
        assert_eq!(pager.lines(2000, 5).unwrap(), ["partial done", "last"]);
    }
}
