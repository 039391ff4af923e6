//! The job engine: a queue of nix jobs run at most `max_parallel` at a time (a semaphore), one
//! nix process per target, each in its own process group, its stderr streamed line by line to
//! a log file, an in-memory ring and the subscribers.
//!
//! Dropping the [`Engine`] cancels every job and waits for nix to clean up its builders, so
//! quitting the TUI, a panic or Ctrl-c of `atwb build` never leaves a builder running.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::io::Write;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::interpret::LineInterpreter;
use super::logstore::{DEFAULT_RING_LINES, LogRing};
use super::process;
use super::spec::{JobEvent, JobId, JobKind, JobResult, JobSpec, Outcome, Progress};
use super::store::{RunRecord, StatusStore};
use crate::nix::classify::{ErrorClass, ExitInfo, Failure};
use crate::nix::command::{NixAction, NixOptions, command_line};

/// Longest line kept as one: a builder printing megabytes without a newline (a progress bar
/// redrawn with `\r`, a binary dump) is handled in pieces of this size instead of being
/// buffered whole. The log file still gets every byte.
const MAX_LINE: usize = 1 << 20;
/// How long the reader waits after draining nix's stderr before reading again.
const BATCH_PAUSE: Duration = Duration::from_millis(2);
/// How far (in time) the log file may lag the ring while a job runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Events buffered per subscriber before log lines start being dropped for it.
const SUBSCRIBER_CAPACITY: usize = 4096;
/// Finished jobs whose ring stays available to the log view.
const KEEP_FINISHED: usize = 200;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub max_parallel: usize,
    pub nix: NixOptions,
    /// A job running longer is cancelled and reported as timed out.
    pub timeout: Option<Duration>,
    /// Where full raw logs go (`<state>/logs`).
    pub log_dir: PathBuf,
    pub ring_lines: usize,
    /// Time nix gets after SIGINT (and again after SIGTERM) before the next signal.
    pub grace: Duration,
    /// Where results are recorded (build and test jobs); None records nothing.
    pub store: Option<Arc<StatusStore>>,
}

impl EngineConfig {
    pub fn new(log_dir: PathBuf) -> Self {
        EngineConfig {
            max_parallel: 2,
            nix: NixOptions::default(),
            timeout: None,
            log_dir,
            ring_lines: DEFAULT_RING_LINES,
            grace: process::GRACE,
            store: None,
        }
    }

    /// From `[jobs]` of the config, logging under the catalog's state dir.
    pub fn from_config(jobs: &crate::config::JobsConfig, catalog_root: &std::path::Path) -> Self {
        let mut c = EngineConfig::new(crate::paths::catalog_state_dir(catalog_root).join("logs"));
        c.max_parallel = jobs.max_parallel.max(1);
        c.nix.builders = jobs.builders.clone();
        c.nix.max_jobs = jobs.max_jobs;
        c.timeout = jobs.timeout_secs.map(Duration::from_secs);
        c
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Queued,
    Running { pid: u32, started: Instant },
    Finished { outcome: Outcome },
}

/// A job as the jobs view sees it.
#[derive(Debug, Clone)]
pub struct JobInfo {
    pub id: JobId,
    pub spec: JobSpec,
    pub state: JobState,
    pub progress: Progress,
    pub phase: Option<String>,
    pub log_file: Option<PathBuf>,
}

struct JobEntry {
    info: JobInfo,
    cancel: CancellationToken,
    ring: Arc<Mutex<LogRing>>,
}

struct Subscriber {
    tx: mpsc::Sender<JobEvent>,
    /// Log and progress events too, not only queued / started / finished.
    streaming: bool,
}

/// A job waiting for its turn: the dispatcher hands it a permit through `turn`.
struct Admission {
    cancel: CancellationToken,
    turn: oneshot::Sender<OwnedSemaphorePermit>,
}

struct Inner {
    cfg: EngineConfig,
    /// Jobs in submission order, to the dispatcher (so jobs start in the order submitted).
    admissions: mpsc::UnboundedSender<Admission>,
    next_id: AtomicU64,
    jobs: Mutex<HashMap<JobId, JobEntry>>,
    subscribers: Mutex<Vec<Subscriber>>,
    /// Whether any subscriber wants log and progress events (skip building them otherwise).
    streaming: std::sync::atomic::AtomicBool,
    runtime: tokio::runtime::Handle,
}

/// Owner of the engine: dropping it cancels all jobs and waits for nix to exit.
pub struct Engine {
    handle: EngineHandle,
}

/// A cloneable handle (for the TUI runtime, signal handlers, ...).
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl Engine {
    /// Must be called inside a tokio runtime.
    pub fn new(cfg: EngineConfig) -> Self {
        let (admissions, queue) = mpsc::unbounded_channel();
        let semaphore = Arc::new(Semaphore::new(cfg.max_parallel.max(1)));
        tokio::spawn(dispatch(queue, semaphore));
        let inner = Inner {
            admissions,
            cfg,
            next_id: AtomicU64::new(1),
            jobs: Mutex::new(HashMap::new()),
            subscribers: Mutex::new(Vec::new()),
            streaming: std::sync::atomic::AtomicBool::new(false),
            runtime: tokio::runtime::Handle::current(),
        };
        Engine {
            handle: EngineHandle {
                inner: Arc::new(inner),
            },
        }
    }

    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }
}

impl std::ops::Deref for Engine {
    type Target = EngineHandle;
    fn deref(&self) -> &EngineHandle {
        &self.handle
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let pids = self.handle.cancel_all();
        // The job tasks may never run again (the runtime may be shutting down), so signal and
        // wait here, synchronously.
        process::stop_blocking(&pids, self.handle.inner.cfg.grace);
    }
}

impl EngineHandle {
    /// Events from now on. Lifecycle events are always delivered; log and progress events are
    /// dropped for a subscriber more than SUBSCRIBER_CAPACITY events behind.
    pub fn subscribe(&self) -> mpsc::Receiver<JobEvent> {
        self.add_subscriber(true)
    }

    /// Only queued / started / finished events (headless runs): no per-line work is done for
    /// a subscriber that does not want lines.
    pub fn subscribe_lifecycle(&self) -> mpsc::Receiver<JobEvent> {
        self.add_subscriber(false)
    }

    fn add_subscriber(&self, streaming: bool) -> mpsc::Receiver<JobEvent> {
        let (tx, rx) = mpsc::channel(SUBSCRIBER_CAPACITY);
        let mut subs = self.inner.subscribers.lock().expect("subscribers");
        subs.push(Subscriber { tx, streaming });
        self.inner
            .streaming
            .store(subs.iter().any(|s| s.streaming), Ordering::Relaxed);
        rx
    }

    /// Queue a job; it starts when a slot is free.
    pub fn submit(&self, spec: JobSpec) -> JobId {
        let id = JobId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let cancel = CancellationToken::new();
        let ring = Arc::new(Mutex::new(LogRing::new(self.inner.cfg.ring_lines)));
        let info = JobInfo {
            id,
            spec: spec.clone(),
            state: JobState::Queued,
            progress: Progress::default(),
            phase: None,
            log_file: None,
        };
        {
            let mut jobs = self.inner.jobs.lock().expect("jobs");
            prune_finished(&mut jobs);
            jobs.insert(
                id,
                JobEntry {
                    info,
                    cancel: cancel.clone(),
                    ring: ring.clone(),
                },
            );
        }
        let (turn, my_turn) = oneshot::channel();
        let _ = self.inner.admissions.send(Admission {
            cancel: cancel.clone(),
            turn,
        });
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            inner
                .emit(JobEvent::Queued {
                    id,
                    spec: spec.clone(),
                })
                .await;
            let result = run_job(&inner, id, spec, cancel, ring, my_turn).await;
            inner.update(id, |i| {
                i.state = JobState::Finished {
                    outcome: result.outcome,
                }
            });
            inner.emit(JobEvent::Finished(Box::new(result))).await;
        });
        id
    }

    /// Cancel one job (queued: never starts; running: SIGINT to its nix).
    pub fn cancel(&self, id: JobId) {
        if let Some(j) = self.inner.jobs.lock().expect("jobs").get(&id) {
            j.cancel.cancel();
        }
    }

    /// Cancel every job; returns the pids of the nix processes that were running.
    pub fn cancel_all(&self) -> Vec<u32> {
        let jobs = self.inner.jobs.lock().expect("jobs");
        let mut pids = Vec::new();
        for j in jobs.values() {
            j.cancel.cancel();
            if let JobState::Running { pid, .. } = j.info.state {
                pids.push(pid);
            }
        }
        pids
    }

    /// All known jobs (queued, running, recently finished), by id.
    pub fn jobs(&self) -> Vec<JobInfo> {
        let mut v: Vec<JobInfo> = self
            .inner
            .jobs
            .lock()
            .expect("jobs")
            .values()
            .map(|j| j.info.clone())
            .collect();
        v.sort_by_key(|j| j.id);
        v
    }

    pub fn job(&self, id: JobId) -> Option<JobInfo> {
        self.inner
            .jobs
            .lock()
            .expect("jobs")
            .get(&id)
            .map(|j| j.info.clone())
    }

    /// The job's in-memory tail; older lines are in `log_file` (read with `LogPager`).
    pub fn log_ring(&self, id: JobId) -> Option<Arc<Mutex<LogRing>>> {
        self.inner
            .jobs
            .lock()
            .expect("jobs")
            .get(&id)
            .map(|j| j.ring.clone())
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.cfg
    }
}

fn prune_finished(jobs: &mut HashMap<JobId, JobEntry>) {
    let mut finished: Vec<JobId> = jobs
        .values()
        .filter(|j| matches!(j.info.state, JobState::Finished { .. }))
        .map(|j| j.info.id)
        .collect();
    if finished.len() > KEEP_FINISHED {
        finished.sort();
        for id in &finished[..finished.len() - KEEP_FINISHED] {
            jobs.remove(id);
        }
    }
}

impl Inner {
    fn streaming(&self) -> bool {
        self.streaming.load(Ordering::Relaxed)
    }

    /// Log and progress events: never wait for a slow subscriber (the line is in the ring and
    /// on disk anyway); one lock, no allocation beyond the event clones.
    fn emit_droppable(&self, ev: JobEvent) {
        let mut subs = self.subscribers.lock().expect("subscribers");
        subs.retain(|s| !s.tx.is_closed());
        for s in subs.iter().filter(|s| s.streaming) {
            let _ = s.tx.try_send(ev.clone());
        }
    }

    /// Lifecycle events: delivered to every subscriber, waiting for room if need be.
    async fn emit(&self, ev: JobEvent) {
        let txs: Vec<_> = {
            let mut subs = self.subscribers.lock().expect("subscribers");
            subs.retain(|s| !s.tx.is_closed());
            self.streaming
                .store(subs.iter().any(|s| s.streaming), Ordering::Relaxed);
            subs.iter().map(|s| s.tx.clone()).collect()
        };
        for tx in txs {
            let _ = tx.send(ev.clone()).await;
        }
    }

    fn update(&self, id: JobId, f: impl FnOnce(&mut JobInfo)) {
        if let Some(j) = self.jobs.lock().expect("jobs").get_mut(&id) {
            f(&mut j.info);
        }
    }
}

fn cancelled_before_start() -> Failure {
    Failure {
        class: ErrorClass::Cancelled,
        first_line: "cancelled before it started".into(),
    }
}

/// A result for a job that never got to run nix.
fn not_run(id: JobId, spec: JobSpec, outcome: Outcome, failure: Option<Failure>) -> JobResult {
    JobResult {
        id,
        spec,
        outcome,
        failure,
        exit_code: None,
        duration: Duration::ZERO,
        started_at: super::time::unix_now(),
        drv_path: None,
        out_paths: Vec::new(),
        log_file: None,
        value: None,
    }
}

/// Create `<label>-<timestamp>.log` in `dir`, never truncating an existing log (two jobs of the
/// same package in the same millisecond, or two atwb processes, get distinct files).
///
/// Plain `std::fs`, called from the job's task: creating a file in the page cache takes
/// microseconds, while `tokio::fs` sends every call to the blocking pool (a thread to start,
/// two wakeups per call), which showed up in the fixed cost of every job.
fn create_log_file(
    dir: &std::path::Path,
    label: &str,
) -> std::io::Result<(PathBuf, std::fs::File)> {
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = super::time::file_stamp();
    for n in 0u32.. {
        let name = if n == 0 {
            format!("{safe}-{stamp}.log")
        } else {
            format!("{safe}-{stamp}-{n}.log")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 suffixes exhausted")
}

async fn run_job(
    inner: &Arc<Inner>,
    id: JobId,
    spec: JobSpec,
    cancel: CancellationToken,
    ring: Arc<Mutex<LogRing>>,
    my_turn: oneshot::Receiver<OwnedSemaphorePermit>,
) -> JobResult {
    let cfg = &inner.cfg;
    let cancelled = || {
        not_run(
            id,
            spec.clone(),
            Outcome::Cancelled,
            Some(cancelled_before_start()),
        )
    };
    let _permit = tokio::select! {
        biased;
        _ = cancel.cancelled() => return cancelled(),
        p = my_turn => match p {
            Ok(p) => p,
            // The dispatcher skipped us (cancelled) or is gone (engine dropped).
            Err(_) => return cancelled(),
        },
    };
    let started_at = super::time::unix_now();
    let t0 = Instant::now();
    let fingerprint_now = || match (&cfg.store, spec.kind) {
        (Some(store), JobKind::Build | JobKind::Test) => store.fingerprint(&spec.package),
        _ => None,
    };
    // Taken right after nix is spawned (nix reads the files later, while it evaluates), so
    // hashing the package's files overlaps nix's start instead of delaying it.
    let mut fingerprint = None;
    let result = run_nix(inner, id, &spec, &cancel, &ring, t0, &mut || {
        fingerprint = Some(fingerprint_now())
    })
    .await;
    // nix never started (cancelled, spawn failed): the files as they are now.
    let fingerprint = fingerprint.unwrap_or_else(fingerprint_now);
    let mut result = match result {
        Ok(r) => r,
        Err(failure) => not_run(id, spec.clone(), Outcome::Failed, Some(failure)),
    };
    result.started_at = started_at;
    result.duration = t0.elapsed();
    if let (Some(store), JobKind::Build | JobKind::Test) = (&cfg.store, spec.kind)
        && let Err(e) = store.record(&spec.package, RunRecord::from_result(&result, fingerprint))
    {
        tracing::error!("recording the status of {}: {e:#}", spec.package);
    }
    result
}

/// One stderr line (with its newline): into the state, the ring and the subscribers.
fn on_line(
    inner: &Inner,
    id: JobId,
    interp: &mut LineInterpreter,
    ring: &Mutex<LogRing>,
    raw: &[u8],
    after_partial: &mut bool,
) {
    // The rest of a line longer than MAX_LINE: kept in the ring (and whole in the file), but
    // like the file reader, which cuts lines at MAX_LINE, it makes no display line of its own;
    // so display numbers agree between the live view, the ring and the file.
    let continuation = std::mem::replace(after_partial, !raw.ends_with(b"\n"));
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let text = String::from_utf8_lossy(raw).into_owned();
    if continuation {
        ring.lock().expect("ring").push_counted(text, 0);
        return;
    }
    let streaming = inner.streaming();
    let meaning = interp.feed(&text, streaming);
    let line_no = {
        let mut r = ring.lock().expect("ring");
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

/// Hands out permits in submission order: a job starts when a slot is free and every job
/// submitted before it has started or been cancelled.
async fn dispatch(mut queue: mpsc::UnboundedReceiver<Admission>, semaphore: Arc<Semaphore>) {
    while let Some(job) = queue.recv().await {
        if job.cancel.is_cancelled() {
            continue;
        }
        let permit = tokio::select! {
            p = semaphore.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = job.cancel.cancelled() => continue,
        };
        // If the job gave up meanwhile, the permit comes back with the error and is dropped.
        let _ = job.turn.send(permit);
    }
}

/// Why the job is being stopped.
#[derive(Clone, Copy, PartialEq)]
enum StopReason {
    Cancelled,
    TimedOut,
}

async fn run_nix(
    inner: &Arc<Inner>,
    id: JobId,
    spec: &JobSpec,
    cancel: &CancellationToken,
    ring: &Mutex<LogRing>,
    t0: Instant,
    on_spawned: &mut (dyn FnMut() + Send),
) -> Result<JobResult, Failure> {
    let cfg = &inner.cfg;
    let io_fail = |what: &str, e: std::io::Error| Failure {
        class: ErrorClass::Other,
        first_line: format!("{what}: {e}"),
    };
    std::fs::create_dir_all(&cfg.log_dir)
        .map_err(|e| io_fail(&format!("creating {}", cfg.log_dir.display()), e))?;
    let (log_path, log) = create_log_file(&cfg.log_dir, &spec.label).map_err(|e| {
        io_fail(
            &format!("creating a log file in {}", cfg.log_dir.display()),
            e,
        )
    })?;
    // Written synchronously from this task: a 64 KiB write(2) into the page cache is cheaper
    // than a round trip through tokio's blocking pool (what `tokio::fs::File` does per write).
    let mut log = std::io::BufWriter::with_capacity(64 * 1024, log);

    let action = if spec.kind == JobKind::Eval {
        NixAction::Eval
    } else {
        NixAction::Build
    };
    let nix_opts = NixOptions {
        rebuild: spec.rebuild,
        ..cfg.nix.clone()
    };
    let line = command_line(action, &spec.installable, &nix_opts);
    if cancel.is_cancelled() {
        // Cancelled (or the engine dropped) while the log file was being set up: start nothing.
        return Ok(not_run(
            id,
            spec.clone(),
            Outcome::Cancelled,
            Some(cancelled_before_start()),
        ));
    }
    let mut child = process::spawn(&line).map_err(|e| Failure::spawn_failed(e.kind()))?;
    let pid = child.id().unwrap_or(0);
    on_spawned();
    inner.update(id, |i| {
        i.state = JobState::Running { pid, started: t0 };
        i.log_file = Some(log_path.clone());
    });
    // The log file holds nix's stderr only (pure internal-json, readable by `atwb log`); the
    // command line travels in the event.
    inner
        .emit(JobEvent::Started {
            id,
            pid,
            command: line.display(),
            log_file: log_path.clone(),
        })
        .await;

    let mut stdout = child.stdout.take().expect("piped stdout");
    let stdout_task = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });
    let stderr_pipe = child.stderr.take().expect("piped stderr");
    process::enlarge_pipe(&stderr_pipe);
    let mut stderr = BufReader::with_capacity(64 * 1024, stderr_pipe);
    let mut interp = LineInterpreter::default();
    let mut after_partial = false;
    let mut last_flush = Instant::now();
    let mut buf = Vec::with_capacity(1024);
    let mut stop: Option<StopReason> = None;
    let mut signals_sent = 0;
    let mut exit = None;
    let far = Duration::from_secs(86_400 * 365);
    let timeout = tokio::time::sleep(cfg.timeout.unwrap_or(far));
    let escalate = tokio::time::sleep(far);
    let drain = tokio::time::sleep(far);
    let pause = tokio::time::sleep(far);
    tokio::pin!(timeout, escalate, drain, pause);
    let mut drained = false;
    let mut pausing = false;
    let mut last_drain = Instant::now();
    loop {
        if drained && exit.is_none() {
            // nix writes one line per write(2); during a burst, waking for each line costs more
            // than handling it. Pausing once the pipe is drained lets lines accumulate (the pipe
            // was enlarged, so nix does not block meanwhile) and bounds wakeups to
            // ~1/BATCH_PAUSE. Only during bursts: a quiet build's lines are seen at once. The
            // pause is a branch of the select below, not a plain sleep, so nix's exit (which
            // follows its last burst of result lines) ends it at once instead of up to
            // BATCH_PAUSE later: that sleep was ~1 ms of every short build's fixed cost.
            let burst = last_drain.elapsed() < BATCH_PAUSE;
            last_drain = Instant::now();
            if burst {
                pause
                    .as_mut()
                    .reset(tokio::time::Instant::now() + BATCH_PAUSE);
                pausing = true;
            }
            drained = false;
        }
        tokio::select! {
            r = read_line_capped(&mut stderr, &mut buf, MAX_LINE), if !pausing => {
                match r {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = log.write_all(&buf);
                        on_line(inner, id, &mut interp, ring, &buf, &mut after_partial);
                        buf.clear();
                        // The complete lines already buffered need no I/O: handle them here
                        // rather than one select! round each (every round re-registers the
                        // exit, cancel and timer wakers, which cost more than the line).
                        while let Some(line) = buffered_line(stderr.buffer()) {
                            let _ = log.write_all(line);
                            on_line(inner, id, &mut interp, ring, line, &mut after_partial);
                            let n = line.len();
                            stderr.consume(n);
                        }
                        drained = stderr.buffer().is_empty();
                        // The log view pages lines the ring dropped from the file: keep the
                        // file at most FLUSH_EVERY behind (one write(2) per period, not per
                        // batch, so bursts cost nothing more).
                        if last_flush.elapsed() >= FLUSH_EVERY {
                            let _ = log.flush();
                            last_flush = Instant::now();
                        }
                    }
                }
            }
            _ = &mut pause, if pausing => pausing = false,
            s = child.wait(), if exit.is_none() => {
                exit = Some(s);
                pausing = false;
                // A grandchild may still hold stderr open; read what is buffered, then stop.
                drain.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(2));
            }
            _ = &mut drain => break,
            _ = cancel.cancelled(), if stop.is_none() => {
                stop = Some(StopReason::Cancelled);
                process::signal_group(pid, libc::SIGINT);
                signals_sent = 1;
                escalate.as_mut().reset(tokio::time::Instant::now() + cfg.grace);
            }
            _ = &mut timeout, if stop.is_none() => {
                stop = Some(StopReason::TimedOut);
                process::signal_group(pid, libc::SIGINT);
                signals_sent = 1;
                escalate.as_mut().reset(tokio::time::Instant::now() + cfg.grace);
            }
            _ = &mut escalate, if exit.is_none() && signals_sent > 0 => {
                tracing::warn!(pid, signals_sent, "nix ignored the previous signal for {:?}", cfg.grace);
                if signals_sent == 1 {
                    process::signal_group(pid, libc::SIGTERM);
                } else {
                    // SIGKILL leaves nix no chance to kill its builders (they run in their own
                    // sessions), so kill them too.
                    process::kill_tree(pid);
                }
                signals_sent += 1;
                escalate.as_mut().reset(tokio::time::Instant::now() + cfg.grace);
            }
        }
    }
    if !buf.is_empty() {
        // A last piece read by a call that was then interrupted by the exit.
        let _ = log.write_all(&buf);
        on_line(inner, id, &mut interp, ring, &buf, &mut after_partial);
    }
    let _ = log.flush();
    let status = match exit {
        Some(s) => s,
        None => child.wait().await,
    };
    let exit_code = status.as_ref().ok().and_then(|s| s.code());
    let success = status.as_ref().is_ok_and(|s| s.success());
    // Bounded: a stray grandchild holding stdout open must not hang the job.
    let stdout = match tokio::time::timeout(Duration::from_secs(2), stdout_task).await {
        Ok(Ok(s)) => s,
        _ => String::new(),
    };

    let outcome = match stop {
        Some(StopReason::Cancelled) => Outcome::Cancelled,
        Some(StopReason::TimedOut) => Outcome::TimedOut,
        None if success => Outcome::Ok,
        None => Outcome::Failed,
    };
    let exit_info = ExitInfo {
        code: exit_code,
        cancelled: outcome == Outcome::Cancelled,
        timed_out: outcome == Outcome::TimedOut,
        spawn_error: None,
        attr: Some(spec.installable.attr.clone()),
    };
    let failure = match outcome {
        Outcome::Ok => None,
        _ => interp.finish(&exit_info).or_else(|| {
            Some(Failure {
                class: ErrorClass::Other,
                first_line: format!("nix exited with {exit_code:?}"),
            })
        }),
    };
    let (drv_path, out_paths, value) = if spec.kind == JobKind::Eval {
        (None, Vec::new(), success.then(|| stdout.trim().to_string()))
    } else {
        let built = crate::nix::command::parse_build_json(&stdout);
        let drv = built.first().map(|b| b.drv_path.clone());
        (
            drv,
            built
                .into_iter()
                .flat_map(|b| b.outputs.into_values())
                .collect(),
            None,
        )
    };
    Ok(JobResult {
        id,
        spec: spec.clone(),
        outcome,
        failure,
        exit_code,
        duration: t0.elapsed(),
        started_at: 0,
        drv_path,
        out_paths,
        log_file: Some(log_path),
        value,
    })
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
