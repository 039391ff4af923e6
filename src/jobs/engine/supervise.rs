//! Watching a started nix: its stderr into the [`LineSink`], its exit, and stopping it when the
//! job is cancelled or times out (SIGINT to its group, SIGTERM, then a kill of the whole tree).

use std::pin::Pin;
use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::{Child, ChildStderr};
use tokio::task::JoinHandle;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;

use super::lines::{Batching, LineReader, LineSink, PeriodicFlush};
use crate::jobs::interpret::LineInterpreter;
use crate::jobs::process;

/// How long stderr is still read after nix exited (a grandchild may hold it open), and how long
/// its stdout may take to close.
const AFTER_EXIT: Duration = Duration::from_secs(2);

/// A nix process as `run::start` hands it over.
pub(super) struct Running<'a> {
    pub(super) child: Child,
    /// Also its process group.
    pub(super) pid: u32,
    pub(super) stderr: LineReader<ChildStderr>,
    pub(super) sink: LineSink<'a>,
    /// Collects stdout (the build's JSON, the evaluated value).
    pub(super) stdout: JoinHandle<String>,
}

/// Why the job is being stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum StopReason {
    Cancelled,
    TimedOut,
}

/// How a supervised nix ended.
pub(super) struct Ended {
    pub(super) status: std::io::Result<ExitStatus>,
    /// Set if atwb stopped it.
    pub(super) stop: Option<StopReason>,
    /// What its stderr said.
    pub(super) interp: LineInterpreter,
    pub(super) stdout: String,
}

/// Watch `running` until it has exited and its output is read: every stderr line to its sink,
/// and a stop (see [`Supervisor`]) on cancel or after `timeout`.
pub(super) async fn supervise(
    running: Running<'_>,
    cancel: &CancellationToken,
    timeout: Option<Duration>,
    grace: Duration,
) -> Ended {
    let Running {
        mut child,
        pid,
        mut stderr,
        mut sink,
        stdout,
    } = running;
    let mut supervisor = Supervisor::new(pid, timeout, grace);
    let mut batching = Batching::new();
    let mut flush = PeriodicFlush::new();
    let mut drain = super::unarmed_timer();
    let mut exit = None;
    loop {
        tokio::select! {
            r = stderr.read(), if !batching.pausing() => match r {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if stderr.deliver(&mut sink) && exit.is_none() {
                        batching.drained();
                    }
                    flush.arm(&sink);
                }
            },
            () = batching.pause_over(), if batching.pausing() => batching.resume(),
            () = flush.due(), if flush.armed() => sink.flush(),
            s = child.wait(), if exit.is_none() => {
                exit = Some(s);
                batching.resume();
                // A grandchild may still hold stderr open; read what is buffered, then stop.
                drain.as_mut().reset(tokio::time::Instant::now() + AFTER_EXIT);
            }
            () = drain.as_mut() => break,
            // Stopping nix (cancel, timeout): what it said so far goes to disk first.
            () = supervisor.act(cancel, exit.is_some()) => sink.flush(),
        }
    }
    stderr.finish(&mut sink);
    let interp = sink.finish();
    let status = match exit {
        Some(s) => s,
        None => child.wait().await,
    };
    // Bounded: a stray grandchild holding stdout open must not hang the job.
    let stdout = match tokio::time::timeout(AFTER_EXIT, stdout).await {
        Ok(Ok(s)) => s,
        _ => String::new(),
    };
    Ended {
        status,
        stop: supervisor.stop,
        interp,
        stdout,
    }
}

/// Stops nix the way nix 2.8 cleans up after itself: SIGINT to its process group on cancel or
/// timeout; then, each time nix lets `grace` pass without exiting, SIGTERM, and at last a kill
/// of the whole tree.
struct Supervisor {
    pid: u32,
    grace: Duration,
    stop: Option<StopReason>,
    signals_sent: u32,
    timeout: Pin<Box<Sleep>>,
    next_signal: Pin<Box<Sleep>>,
}

impl Supervisor {
    fn new(pid: u32, timeout: Option<Duration>, grace: Duration) -> Self {
        Supervisor {
            pid,
            grace,
            stop: None,
            signals_sent: 0,
            timeout: Box::pin(tokio::time::sleep(timeout.unwrap_or(super::NOT_ARMED))),
            next_signal: super::unarmed_timer(),
        }
    }

    /// Waits for a reason to signal nix, and signals it; never completes once there is nothing
    /// left to do. Cancel-safe: the signal is sent in the same poll as its reason is seen.
    async fn act(&mut self, cancel: &CancellationToken, exited: bool) {
        tokio::select! {
            () = cancel.cancelled(), if self.stop.is_none() => self.interrupt(StopReason::Cancelled),
            () = self.timeout.as_mut(), if self.stop.is_none() => self.interrupt(StopReason::TimedOut),
            () = self.next_signal.as_mut(), if !exited && self.signals_sent > 0 => self.escalate(),
            else => std::future::pending().await,
        }
    }

    fn interrupt(&mut self, why: StopReason) {
        self.stop = Some(why);
        process::signal_group(self.pid, libc::SIGINT);
        self.signals_sent = 1;
        self.rearm();
    }

    fn escalate(&mut self) {
        let (pid, signals_sent) = (self.pid, self.signals_sent);
        tracing::warn!(
            pid,
            signals_sent,
            "nix ignored the previous signal for {:?}",
            self.grace
        );
        if signals_sent == 1 {
            process::signal_group(pid, libc::SIGTERM);
        } else {
            // SIGKILL leaves nix no chance to kill its builders (they run in their own
            // sessions), so kill them too.
            process::kill_tree(pid);
        }
        self.signals_sent += 1;
        self.rearm();
    }

    fn rearm(&mut self) {
        self.next_signal
            .as_mut()
            .reset(tokio::time::Instant::now() + self.grace);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;
    use crate::nix::command::NixCommandLine;

    fn sh(script: &str) -> Child {
        process::spawn(&NixCommandLine {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        })
        .unwrap()
    }

    /// Drive the supervisor alone until `child` exits, as `supervise` does (bounded, so a
    /// supervisor that stops signalling fails the test instead of hanging it).
    async fn until_exit(
        sup: &mut Supervisor,
        child: &mut Child,
        cancel: &CancellationToken,
    ) -> ExitStatus {
        let watch = async {
            loop {
                tokio::select! {
                    s = child.wait() => return s.unwrap(),
                    () = sup.act(cancel, false) => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), watch)
            .await
            .expect("the process outlived the supervisor's signals")
    }

    #[tokio::test]
    async fn cancel_sends_sigint_once_and_nothing_after_the_exit() {
        // `sleep` itself, not `sh -c 'sleep 30'`: dash run with -c catches SIGINT from its
        // start until it execs its last command, and exec drops a SIGINT caught in that window
        // (sleep then runs on and gets SIGTERM). A cancel sent at once landed there about one
        // time in ten under load. `spawn` returns only once exec succeeded, so `sleep` has
        // SIGINT at its default from the first moment a signal can reach it.
        let mut child = process::spawn(&NixCommandLine {
            program: "sleep".into(),
            args: vec!["30".into()],
        })
        .unwrap();
        // Only ever waited out in virtual time (below), or if SIGINT failed to stop the child.
        let grace = Duration::from_secs(5);
        let mut sup = Supervisor::new(child.id().unwrap(), None, grace);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let status = until_exit(&mut sup, &mut child, &cancel).await;
        assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
        assert_eq!(
            (sup.stop, sup.signals_sent),
            (Some(StopReason::Cancelled), 1)
        );
        // Once nix has exited its group id may be reused: no SIGTERM must follow. Virtual time
        // from here, so three graces pass at once.
        tokio::time::pause();
        let later = tokio::time::timeout(grace * 3, sup.act(&cancel, true)).await;
        assert!(later.is_err(), "the supervisor acted after the exit");
        assert_eq!(sup.signals_sent, 1);
    }

    /// A stand-in for a nix that ignores SIGINT and SIGTERM, with a "builder" in its own session
    /// below it, as nix arranges it.
    #[tokio::test]
    async fn a_timeout_escalates_to_sigterm_and_then_kills_the_whole_tree() {
        let marker = format!("atwb-supervise-{}", std::process::id());
        let mut child = sh(&format!(
            "trap '' INT TERM; setsid sh -c 'while :; do sleep 0.05; done # {marker}' & sleep 30 # {marker}"
        ));
        let pid = child.id().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while process::descendants(pid).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "tree did not start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let below = process::descendants(pid);
        let timeout = Duration::from_millis(50);
        let mut sup = Supervisor::new(pid, Some(timeout), Duration::from_millis(100));
        let t0 = std::time::Instant::now();
        let status = until_exit(&mut sup, &mut child, &CancellationToken::new()).await;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(
            (sup.stop, sup.signals_sent),
            (Some(StopReason::TimedOut), 3)
        );
        assert!(t0.elapsed() >= timeout + 2 * sup.grace, "escalated early");
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while below.iter().any(|p| process::is_running(*p)) {
            assert!(
                std::time::Instant::now() < deadline,
                "left running: {below:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
