//! The job engine: a queue of nix jobs run at most `max_parallel` at a time (a semaphore), one
//! nix process per target, each in its own process group, its stderr streamed line by line to
//! a log file, an in-memory ring and the subscribers.
//!
//! Dropping the [`Engine`] cancels every job and waits for nix to clean up its builders, so
//! quitting the TUI, a panic or Ctrl-c of `atwb build` never leaves a builder running.
//!
//! This file holds the queue and the handles; one job's life is in the submodules:
//! `run` starts nix, `supervise` watches it (cancel, timeout, escalation), `lines` moves
//! its stderr into the log file, the ring and the subscribers, and `result` says how it ended.

pub mod batch;
pub mod cache_check;
mod lines;
mod nix_version;
mod result;
mod run;
mod supervise;

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;

use super::logstore::{DEFAULT_RING_LINES, LogRing};
use super::process;
use super::spec::{JobEvent, JobId, JobSpec, Outcome, Progress};
use super::store::StatusStore;
use crate::nix::command::NixOptions;

/// Events buffered per subscriber before log lines start being dropped for it.
const SUBSCRIBER_CAPACITY: usize = 4096;
/// Finished jobs whose ring stays available to the log view.
const KEEP_FINISHED: usize = 200;
/// How far away a timer that is not armed yet fires.
const NOT_ARMED: Duration = Duration::from_secs(86_400 * 365);

/// A timer for a `select!` branch that must not fire until `reset` arms it: the branch stays in
/// place (no `Option` to juggle) and arming it is one reset.
fn unarmed_timer() -> Pin<Box<Sleep>> {
    Box::pin(tokio::time::sleep(NOT_ARMED))
}

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
    /// The binary caches a batch's outputs are looked up in; None: nix's `substituters`.
    pub substituters: Option<Vec<String>>,
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
            substituters: None,
        }
    }

    /// From `[jobs]` of the config, logging under the catalog's state dir.
    pub fn from_config(jobs: &crate::config::JobsConfig, catalog_root: &std::path::Path) -> Self {
        let mut c = EngineConfig::new(crate::paths::catalog_state_dir(catalog_root).join("logs"));
        c.max_parallel = jobs.max_parallel.max(1);
        c.nix.builders = jobs.builders.clone();
        c.nix.max_jobs = jobs.max_jobs;
        c.timeout = jobs.timeout_secs.map(Duration::from_secs);
        c.substituters.clone_from(&jobs.substituters);
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
    /// The derivation tree's totals (with the time left from the estimates) and when they were
    /// taken, at most every `TREE_EVERY` while nix talks, also without a streaming subscriber:
    /// what `atwb build`'s status lines show.
    pub tree: Option<(Instant, crate::nix::drvtree::Totals)>,
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
    /// Batch evaluations under way (cancelled with the jobs).
    evaluations: Mutex<Vec<CancellationToken>>,
    /// Whether any subscriber wants log and progress events (skip building them otherwise).
    streaming: std::sync::atomic::AtomicBool,
    runtime: tokio::runtime::Handle,
    /// How this nix names all outputs of a drv; asked once, at the first build by drv.
    nix_facts: tokio::sync::OnceCell<nix_version::NixFacts>,
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
            evaluations: Mutex::new(Vec::new()),
            streaming: std::sync::atomic::AtomicBool::new(false),
            runtime: tokio::runtime::Handle::current(),
            nix_facts: tokio::sync::OnceCell::new(),
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
        self.submit_gated(spec, None)
    }

    /// Queue a job that, before it takes its turn, waits for `gate` to give its final spec
    /// (a batch's evaluation adds the drv); a gate closed without a spec keeps the spec as is.
    fn submit_gated(&self, spec: JobSpec, gate: Option<oneshot::Receiver<JobSpec>>) -> JobId {
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
            tree: None,
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
            let result = run::run_job(&inner, id, spec, cancel, ring, (gate, my_turn)).await;
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
        for e in self.inner.evaluations.lock().expect("evaluations").iter() {
            e.cancel();
        }
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

/// Hands out permits in submission order: a job starts when a slot is free and every job
/// submitted before it has started or been cancelled.
async fn dispatch(mut queue: mpsc::UnboundedReceiver<Admission>, semaphore: Arc<Semaphore>) {
    while let Some(job) = queue.recv().await {
        if job.cancel.is_cancelled() {
            continue;
        }
        let permit = tokio::select! {
            p = semaphore.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = job.cancel.cancelled() => continue,
        };
        // If the job gave up meanwhile, the permit comes back with the error and is dropped.
        let _ = job.turn.send(permit);
    }
}
