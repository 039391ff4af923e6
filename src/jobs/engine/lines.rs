//! nix's stderr, line by line: read in lines of at most [`MAX_LINE`] bytes ([`LineReader`]), in
//! batches while nix writes in bursts ([`Batching`]), and delivered to the log file, the ring,
//! the job's state and the subscribers ([`LineSink`]); the log file is flushed each time the pipe
//! is drained, and at most [`FLUSH_EVERY`] after a line otherwise ([`PeriodicFlush`]), so a
//! SIGKILL of atwb loses no line it had read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::time::Sleep;

use super::Inner;
use crate::jobs::interpret::LineInterpreter;
use crate::jobs::logstore::LogRing;
use crate::jobs::spec::{JobEvent, JobId, TREE_EVERY, TREE_ROWS};
// Longest line kept as one: a builder printing megabytes without a newline (a progress bar
// redrawn with `\r`, a binary dump) is handled in pieces of this size instead of being buffered
// whole. The log file still gets every byte. It is the log file reader's limit, so that the live
// view and the file cut a long line at the same place.
use crate::nix::logfile::MAX_LINE;

/// How long the reader waits after draining nix's stderr before reading again.
const BATCH_PAUSE: Duration = Duration::from_millis(2);
/// How far (in time) the log file may lag the ring while a job runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A pipe read in lines of at most [`MAX_LINE`] bytes, without losing a byte to a cancelled read.
pub(super) struct LineReader<R> {
    reader: BufReader<R>,
    /// The line being read; a read cancelled by `select!` leaves its part here.
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(super) fn new(pipe: R) -> Self {
        LineReader {
            reader: BufReader::with_capacity(64 * 1024, pipe),
            buf: Vec::with_capacity(1024),
        }
    }

    /// Waits for the next line (or piece of an overlong one); 0 at the end of the pipe.
    /// Cancel-safe, like `read_line_capped`.
    pub(super) async fn read(&mut self) -> std::io::Result<usize> {
        read_line_capped(&mut self.reader, &mut self.buf, MAX_LINE).await
    }

    /// The line just read, then every complete line already buffered, into `sink`; returns
    /// whether the buffer is now empty (the pipe was drained).
    pub(super) fn deliver(&mut self, sink: &mut LineSink<'_>) -> bool {
        sink.line(&self.buf);
        self.buf.clear();
        // The complete lines already buffered need no I/O: handle them here rather than one
        // select! round each (every round re-registers the exit, cancel and timer wakers, which
        // cost more than the line).
        while let Some(line) = buffered_line(self.reader.buffer()) {
            sink.line(line);
            let n = line.len();
            self.reader.consume(n);
        }
        let drained = self.reader.buffer().is_empty();
        // Drained: every line nix wrote so far is now in the buffer, and a kill of atwb would
        // lose all of it (bytes still in the pipe are lost to a kill anyway). One write(2) per
        // drained batch: during a burst, batching bounds that to one per BATCH_PAUSE.
        if drained {
            sink.flush();
        } else {
            sink.flush_if_due();
        }
        drained
    }

    /// A last piece read by a call that was then interrupted by the exit.
    pub(super) fn finish(self, sink: &mut LineSink<'_>) {
        if !self.buf.is_empty() {
            sink.line(&self.buf);
        }
    }
}

/// nix writes one line per write(2); during a burst, waking for each line costs more than
/// handling it. Pausing once the pipe is drained lets lines accumulate (the pipe was enlarged,
/// so nix does not block meanwhile) and bounds wakeups to ~1/BATCH_PAUSE. Only during bursts: a
/// quiet build's lines are seen at once. The pause is a branch of the supervisor's select, not
/// a plain sleep, so nix's exit (which follows its last burst of result lines) ends it at once
/// instead of up to BATCH_PAUSE later: that sleep was ~1 ms of every short build's fixed cost.
pub(super) struct Batching {
    pause: Pin<Box<Sleep>>,
    pausing: bool,
    last_drain: Instant,
}

impl Batching {
    pub(super) fn new() -> Self {
        Batching {
            pause: super::unarmed_timer(),
            pausing: false,
            last_drain: Instant::now(),
        }
    }

    /// Whether reading waits for the pause to end.
    pub(super) fn pausing(&self) -> bool {
        self.pausing
    }

    /// The pipe was just drained: pause reading if the previous drain was less than
    /// BATCH_PAUSE ago (a burst).
    pub(super) fn drained(&mut self) {
        let burst = self.last_drain.elapsed() < BATCH_PAUSE;
        self.last_drain = Instant::now();
        if burst {
            self.pause
                .as_mut()
                .reset(tokio::time::Instant::now() + BATCH_PAUSE);
            self.pausing = true;
        }
    }

    /// Completes when the pause is over (only meaningful while `pausing`).
    pub(super) async fn pause_over(&mut self) {
        self.pause.as_mut().await;
    }

    pub(super) fn resume(&mut self) {
        self.pausing = false;
    }
}

/// Where each stderr line goes: the log file (every byte), the interpreter, the ring, the
/// job's progress and the subscribers.
pub(super) struct LineSink<'a> {
    inner: &'a Inner,
    id: JobId,
    ring: &'a Mutex<LogRing>,
    /// Written synchronously from the job's task: a 64 KiB write(2) into the page cache is
    /// cheaper than a round trip through tokio's blocking pool (what `tokio::fs::File` does
    /// per write).
    log: BufWriter<File>,
    interp: LineInterpreter,
    /// The previous piece was not a whole line (it was cut at MAX_LINE).
    after_partial: bool,
    last_flush: Instant,
    /// Lines written to `log` since the last flush.
    unflushed: bool,
    last_tree: Instant,
}

impl<'a> LineSink<'a> {
    pub(super) fn new(
        inner: &'a Inner,
        id: JobId,
        ring: &'a Mutex<LogRing>,
        log: File,
        interp: LineInterpreter,
    ) -> Self {
        LineSink {
            inner,
            id,
            ring,
            log: BufWriter::with_capacity(64 * 1024, log),
            interp,
            after_partial: false,
            last_flush: Instant::now(),
            unflushed: false,
            // Due at the first line: the tree seeded with estimates is known before nix talks
            // much (a quiet builder may print nothing more for minutes).
            last_tree: Instant::now()
                .checked_sub(TREE_EVERY)
                .unwrap_or_else(Instant::now),
        }
    }

    /// One stderr line (with its newline), or a piece of an overlong one.
    fn line(&mut self, raw: &[u8]) {
        let _ = self.log.write_all(raw);
        self.unflushed = true;
        self.on_line(raw);
    }

    /// Into the state, the ring and the subscribers.
    fn on_line(&mut self, raw: &[u8]) {
        let inner = self.inner;
        let id = self.id;
        // The rest of a line longer than MAX_LINE: kept in the ring (and whole in the file),
        // but like the file reader, which cuts lines at MAX_LINE, it makes no display line of
        // its own; so display numbers agree between the live view, the ring and the file.
        let continuation = std::mem::replace(&mut self.after_partial, !raw.ends_with(b"\n"));
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let text = String::from_utf8_lossy(raw).into_owned();
        if continuation {
            self.ring.lock().expect("ring").push_counted(text, 0);
            return;
        }
        let streaming = inner.streaming();
        let meaning = self.interp.feed(&text, streaming);
        let line_no = {
            let mut r = self.ring.lock().expect("ring");
            r.push_counted(text, meaning.display_lines);
            r.total() - 1
        };
        if let Some((progress, phase)) = meaning.progress {
            inner.update(id, |i| {
                i.progress = progress;
                i.phase = phase.clone();
            });
            if streaming {
                inner.emit_droppable(JobEvent::Progress {
                    id,
                    progress,
                    phase,
                });
            }
        }
        if let (true, Some(text)) = (streaming, meaning.text) {
            inner.emit_droppable(JobEvent::Log {
                id,
                line_no,
                drv: meaning.drv,
                text,
            });
        }
        if self.last_tree.elapsed() >= TREE_EVERY {
            self.send_tree(false);
        }
    }

    /// The tree the job starts with (its plan), if it has one: to the job's info (the CLI's
    /// time left) and to streaming subscribers.
    pub(super) fn send_seeded_tree(&mut self) {
        if !self.interp.tree().nodes().is_empty() {
            self.send_tree(false);
        }
    }

    /// The tree's totals into the job's info and the tree to streaming subscribers, if it
    /// changed (`force`: in any case). Without such a subscriber only the totals are taken.
    fn send_tree(&mut self, force: bool) {
        self.last_tree = Instant::now();
        let (id, at) = (self.id, self.last_tree);
        if !self.inner.streaming() {
            if let Some(totals) = self.interp.tree_totals(force) {
                self.inner.update(id, |i| i.tree = Some((at, totals)));
            }
            return;
        }
        if let Some(tree) = self.interp.tree_snapshot(TREE_ROWS, force) {
            let totals = tree.totals;
            self.inner.update(id, |i| i.tree = Some((at, totals)));
            self.inner.emit_droppable(JobEvent::Tree {
                id: self.id,
                tree: Box::new(tree),
            });
        }
    }

    /// The log view pages lines the ring dropped from the file: keep the file at most
    /// FLUSH_EVERY behind while the pipe stays full (a drained pipe is flushed at once).
    fn flush_if_due(&mut self) {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// Puts every line written so far into the file (the page cache): what a kill of atwb, which
    /// loses the buffer, cannot take away.
    pub(super) fn flush(&mut self) {
        if self.unflushed {
            let _ = self.log.flush();
            self.unflushed = false;
        }
        self.last_flush = Instant::now();
    }

    /// Flushes the log file; the interpreter knows how the build went.
    pub(super) fn finish(mut self) -> LineInterpreter {
        let _ = self.log.flush();
        if self.inner.streaming() {
            self.send_tree(false);
        }
        self.interp
    }
}

/// Flushes lines that were written but not flushed FLUSH_EVERY after the last flush, also when
/// nix goes quiet after them (flushes otherwise happen only when a line arrives, so the last
/// lines before a long silence, e.g. a builder that hangs, would sit in the buffer).
pub(super) struct PeriodicFlush {
    timer: Pin<Box<Sleep>>,
    armed: bool,
}

impl PeriodicFlush {
    pub(super) fn new() -> Self {
        PeriodicFlush {
            timer: super::unarmed_timer(),
            armed: false,
        }
    }

    /// After a delivery: arm the timer if `sink` holds unflushed lines and it is not armed yet.
    pub(super) fn arm(&mut self, sink: &LineSink<'_>) {
        if sink.unflushed && !self.armed {
            let at = tokio::time::Instant::from_std(sink.last_flush + FLUSH_EVERY);
            self.timer.as_mut().reset(at);
            self.armed = true;
        }
    }

    pub(super) fn armed(&self) -> bool {
        self.armed
    }

    /// Completes when a flush is due (only meaningful while `armed`); the caller then flushes.
    pub(super) async fn due(&mut self) {
        self.timer.as_mut().await;
        self.armed = false;
    }
}

/// Like `read_until(b'\n')`, but stops after `max` bytes in `buf`. Cancel-safe in `select!`:
/// bytes are moved from the reader into `buf` only between awaits, so a cancelled call loses
/// nothing and the next call continues the same line.
async fn read_line_capped<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    let start = buf.len();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(buf.len() - start);
        }
        let room = max.saturating_sub(buf.len()).max(1);
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) if i < room => (i + 1, true),
            _ => (available.len().min(room), available.len() >= room),
        };
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(buf.len() - start);
        }
    }
}

/// The first complete line (with its newline) in `available`, if it is shorter than MAX_LINE;
/// anything else (a partial or overlong line) is left to `read_line_capped`.
fn buffered_line(available: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b'\n', available)?;
    (end < MAX_LINE).then(|| &available[..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(data: &[u8], cap: usize) -> Vec<String> {
        let mut r = BufReader::with_capacity(4, data);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while read_line_capped(&mut r, &mut buf, cap).await.unwrap() > 0 {
            out.push(String::from_utf8_lossy(&buf).into_owned());
            buf.clear();
        }
        out
    }

    #[test]
    fn buffered_line_takes_only_complete_lines() {
        assert_eq!(buffered_line(b"ab\ncd"), Some(&b"ab\n"[..]));
        assert_eq!(buffered_line(b"\nx"), Some(&b"\n"[..]));
        assert_eq!(buffered_line(b"partial"), None);
        assert_eq!(buffered_line(b""), None);
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_nothing_is_lost() {
        assert_eq!(
            lines(b"ab\ncdefgh\nij", 100).await,
            ["ab\n", "cdefgh\n", "ij"]
        );
        assert_eq!(
            lines(b"abcdefghij\nk\n", 4).await,
            ["abcd", "efgh", "ij\n", "k\n"]
        );
        assert_eq!(lines(b"abc\n", 4).await, ["abc\n"]);
        assert_eq!(lines(b"abcd\n", 4).await, ["abcd", "\n"]);
        assert!(lines(b"", 4).await.is_empty());
    }
}
