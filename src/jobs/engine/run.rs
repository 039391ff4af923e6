//! One job's life: wait for a slot, start nix, supervise it, build and record the result.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio_util::sync::CancellationToken;

use super::lines::{LineReader, LineSink};
use super::result::{self, cancelled_before_start, not_run};
use super::supervise::{Running, supervise};
use super::{Inner, JobState};
use crate::jobs::interpret::{LineInterpreter, TreeSetup};
use crate::jobs::logstore::LogRing;
use crate::jobs::process;
use crate::jobs::spec::{JobEvent, JobId, JobKind, JobResult, JobSpec, Outcome};
use crate::jobs::store::{RunRecord, RunningRecord};
use crate::nix::classify::{ErrorClass, Failure};
use crate::nix::command::{NixAction, NixOptions, command_line, drv_build_line};
use crate::nix::drv_closure;

pub(super) async fn run_job(
    inner: &Arc<Inner>,
    id: JobId,
    spec: JobSpec,
    cancel: CancellationToken,
    ring: Arc<Mutex<LogRing>>,
    (gate, my_turn): (
        Option<oneshot::Receiver<JobSpec>>,
        oneshot::Receiver<OwnedSemaphorePermit>,
    ),
) -> JobResult {
    let cfg = &inner.cfg;
    let mut spec = spec;
    if let Some(gate) = gate {
        tokio::select! {
            biased;
            () = cancel.cancelled() => {}
            s = gate => if let Ok(s) = s {
                inner.update(id, |i| i.spec = s.clone());
                spec = s;
            },
        }
    }
    let cancelled = || {
        not_run(
            id,
            spec.clone(),
            Outcome::Cancelled,
            Some(cancelled_before_start()),
        )
    };
    let permit = tokio::select! {
        biased;
        () = cancel.cancelled() => return cancelled(),
        p = my_turn => match p {
            Ok(p) => p,
            // The dispatcher skipped us (cancelled) or is gone (engine dropped).
            Err(_) => return cancelled(),
        },
    };
    let started_at = crate::time::unix_now();
    let t0 = Instant::now();
    let fingerprint_now = || match (&cfg.store, spec.kind) {
        (Some(store), JobKind::Build | JobKind::Test) => store.fingerprint(&spec.package),
        _ => None,
    };
    // Taken right after nix is spawned (nix reads the files later, while it evaluates), so
    // hashing the package's files overlaps nix's start instead of delaying it. The store notes
    // the run as started then too: if this atwb is killed, the next one records the run as
    // interrupted and stops the nix group it finds left.
    let mut fingerprint = None;
    let result = run_nix(inner, id, &spec, &cancel, &ring, t0, &mut |pid, log| {
        let fp = fingerprint_now();
        if let (Some(store), JobKind::Build | JobKind::Test) = (&cfg.store, spec.kind) {
            let running = RunningRecord::started_here(
                &spec.package,
                spec.kind,
                &spec.installable.attr,
                pid,
                Some(log.to_path_buf()),
                fp.clone(),
            );
            if let Err(e) = store.begin(running) {
                tracing::error!("noting the start of {}: {e:#}", spec.package);
            }
        }
        fingerprint = Some(fp);
    })
    .await;
    // nix has exited: the next job may start while this one is recorded (the permit bounds
    // nix processes, not atwb's bookkeeping).
    drop(permit);
    // nix never started (cancelled, spawn failed): the files as they are now.
    let fingerprint = fingerprint.unwrap_or_else(fingerprint_now);
    let mut result = match result {
        Ok(r) => r,
        Err(failure) => not_run(id, spec.clone(), Outcome::Failed, Some(failure)),
    };
    result.started_at = started_at;
    result.duration = t0.elapsed();
    if let (Some(store), JobKind::Build | JobKind::Test) = (&cfg.store, spec.kind)
        && let Err(e) = store.record_built(
            &spec.package,
            RunRecord::from_result(&result, fingerprint),
            &result.tree.built,
        )
    {
        tracing::error!("recording the status of {}: {e:#}", spec.package);
    }
    result
}

/// Start nix, supervise it until it has exited, and say how it went. Err: nix could not be
/// started (no log directory, no nix).
async fn run_nix(
    inner: &Arc<Inner>,
    id: JobId,
    spec: &JobSpec,
    cancel: &CancellationToken,
    ring: &Mutex<LogRing>,
    t0: Instant,
    on_spawned: &mut (dyn FnMut(u32, &Path) + Send),
) -> Result<JobResult, Failure> {
    let Some((running, log_file)) = start(inner, id, spec, cancel, ring, t0, on_spawned).await?
    else {
        // Cancelled (or the engine dropped) while the log file was being set up.
        return Ok(not_run(
            id,
            spec.clone(),
            Outcome::Cancelled,
            Some(cancelled_before_start()),
        ));
    };
    let cfg = &inner.cfg;
    let ended = supervise(running, cancel, cfg.timeout, cfg.grace).await;
    Ok(result::finished(id, spec, t0, ended, log_file))
}

/// Create the job's log file, spawn nix in its own process group (unless the job was cancelled
/// meanwhile: None), mark the job running and start reading nix's stdout and stderr.
async fn start<'a>(
    inner: &'a Inner,
    id: JobId,
    spec: &JobSpec,
    cancel: &CancellationToken,
    ring: &'a Mutex<LogRing>,
    t0: Instant,
    on_spawned: &mut (dyn FnMut(u32, &Path) + Send),
) -> Result<Option<(Running<'a>, PathBuf)>, Failure> {
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

    let action = if spec.kind == JobKind::Eval {
        NixAction::Eval
    } else {
        NixAction::Build
    };
    let facts = inner.nix_facts().await;
    let nix_opts = NixOptions {
        rebuild: spec.rebuild,
        build_hook: facts.build_hook.clone(),
        ..cfg.nix.clone()
    };
    let local_store = facts.local_store;
    let line = match &spec.drv {
        Some(drv) if action == NixAction::Build => {
            drv_build_line(drv, inner.drv_outputs().await, &nix_opts)
        }
        _ => command_line(action, &spec.installable, &nix_opts),
    };
    if cancel.is_cancelled() {
        return Ok(None);
    }
    let mut child = process::spawn(&line).map_err(|e| Failure::spawn_failed(e.kind()))?;
    let pid = child.id().unwrap_or(0);
    on_spawned(pid, &log_path);
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
    let stdout = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s).await;
        s
    });
    let stderr = child.stderr.take().expect("piped stderr");
    process::enlarge_pipe(&stderr);
    // After the spawn: nix starts while the plan is read (its stderr waits in the pipe).
    let setup = tree_setup(inner, spec, local_store);
    let mut sink = LineSink::new(inner, id, ring, log, LineInterpreter::with_setup(setup));
    // The plan at once, before nix's first line: with only the counter, the first picture
    // would come when the first build has started.
    sink.send_seeded_tree();
    let running = Running {
        child,
        pid,
        stderr: LineReader::new(stderr),
        sink,
        stdout,
    };
    Ok(Some((running, log_path)))
}

/// What the job's tree starts with: the store's per-derivation history, and the derivations
/// nix will build when the job builds a derivation the batch evaluation named: read from its
/// `.drv` files when the store is local (see `nix::drv_closure`), else (or when that file cannot
/// be read) the job's own drv when the evaluation's outputs are not in the store.
fn tree_setup(inner: &Inner, spec: &JobSpec, local_store: bool) -> TreeSetup {
    if spec.kind == JobKind::Eval {
        return TreeSetup::default();
    }
    let store = inner.cfg.store.as_ref();
    let history = store.map(|s| s.drv_history()).filter(|h| !h.is_empty());
    let Some(drv) = spec.drv.as_ref().filter(|_| !spec.rebuild) else {
        return TreeSetup {
            history,
            planned: Vec::new(),
        };
    };
    let planned = match local_store.then(|| read_plan(drv)).flatten() {
        Some(plan) => plan,
        None => store
            .and_then(|s| s.evaluation(&spec.package))
            .filter(|e| &e.drv_path == drv && e.outputs_missing())
            .map(|e| drv_closure::MissingDrv {
                drv: drv.clone(),
                outputs: e.out_paths,
            })
            .into_iter()
            .collect(),
    };
    TreeSetup { history, planned }
}

/// The derivations under `drv` whose outputs are missing, timed for the log; None when `drv`
/// itself could not be read.
fn read_plan(drv: &str) -> Option<Vec<drv_closure::MissingDrv>> {
    let t0 = Instant::now();
    let closure = drv_closure::missing_closure(drv, drv_closure::Limits::default());
    tracing::debug!(
        "plan of {drv}: {} to build, {} .drv read, {} skipped{}, {} ms",
        closure.missing.len(),
        closure.read,
        closure.skipped,
        if closure.truncated {
            ", stopped at the cap"
        } else {
            ""
        },
        t0.elapsed().as_millis()
    );
    if let Some(e) = &closure.first_error {
        tracing::debug!("plan of {drv}: skipped {e}");
    }
    let root_unread = closure.read == 1 && closure.skipped == 1;
    (!root_unread).then_some(closure.missing)
}

/// Create `<label>-<timestamp>.log` in `dir`, never truncating an existing log (two jobs of the
/// same package in the same millisecond, or two atwb processes, get distinct files).
///
/// Plain `std::fs`, called from the job's task: creating a file in the page cache takes
/// microseconds, while `tokio::fs` sends every call to the blocking pool (a thread to start,
/// two wakeups per call), which showed up in the fixed cost of every job.
fn create_log_file(dir: &Path, label: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
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
    let stamp = crate::time::file_stamp();
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
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 suffixes exhausted")
}
