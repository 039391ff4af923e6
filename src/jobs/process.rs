//! Starting nix in its own process group and stopping it the way nix 2.8 cleans up after
//! itself: SIGINT to the group makes nix kill its builders and exit in
//! milliseconds; SIGKILL would orphan the builder, so it is only the last resort.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::nix::command::NixCommandLine;

/// How long nix gets after SIGINT, then after SIGTERM, before the next signal.
pub const GRACE: Duration = Duration::from_secs(5);

/// Spawn `line` with stdout and stderr piped, in a new process group whose id is the child pid.
pub fn spawn(line: &NixCommandLine) -> std::io::Result<Child> {
    let mut cmd = Command::new(&line.program);
    cmd.args(&line.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own group: a terminal Ctrl-c reaches atwb only, which then cancels nix properly.
        .process_group(0)
        // Not kill_on_drop: that is SIGKILL, which orphans builders. The engine cancels instead.
        .kill_on_drop(false);
    // SAFETY: prctl and signal are async-signal-safe; they run in the forked child before exec.
    unsafe {
        cmd.pre_exec(|| {
            // If atwb dies without cancelling (SIGKILL, abort), nix still gets SIGINT and cleans
            // up its builders. The signal follows the spawning thread, so that thread must live
            // as long as the engine: a runtime worker (TUI), or the main thread running a
            // current-thread runtime (`atwb build` of one target); never a blocking-pool thread,
            // which exits after 10 s idle.
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGINT as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // A shell starts background commands with SIGINT and SIGQUIT ignored, and exec keeps
            // an ignored disposition: nix would then ignore the cancel's SIGINT. Cancel must work
            // however atwb itself was started.
            for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM] {
                if libc::signal(sig, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Ask for a 1 MiB pipe buffer (the default is 64 KiB), so nix can keep writing log lines while
/// the engine batches its reads. Best effort: the kernel caps it at `fs.pipe-max-size`.
pub fn enlarge_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: fcntl on a pipe fd we own; failure only leaves the default size.
    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
}

/// Send `sig` to the process group `pgid`. Errors (the group is gone) are ignored.
pub fn signal_group(pgid: u32, sig: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: killpg with a positive group id we created.
        unsafe { libc::killpg(pgid, sig) };
    }
}

/// SIGINT, wait `grace`, SIGTERM, wait `grace`, SIGKILL; returns once the child has exited.
pub async fn stop(child: &mut Child, grace: Duration) -> std::io::Result<std::process::ExitStatus> {
    let Some(pid) = child.id() else {
        return child.wait().await;
    };
    for sig in [libc::SIGINT, libc::SIGTERM] {
        signal_group(pid, sig);
        if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
            return status;
        }
        tracing::warn!(pid, sig, "nix did not exit within {grace:?} of the signal");
    }
    kill_tree(pid);
    child.wait().await
}

/// Every descendant of `pid` (children first found through /proc/PID/task/TID/children).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(t.path().join("children")) else {
                continue;
            };
            for c in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                if !out.contains(&c) {
                    out.push(c);
                    todo.push(c);
                }
            }
        }
    }
    out
}

/// Last resort: SIGKILL nix's group and every process below it, including builders that nix
/// moved into their own sessions (which a group signal to nix never reaches).
pub fn kill_tree(pid: u32) {
    // Collect first: once nix dies its children are re-parented and no longer found from it.
    let below = descendants(pid);
    signal_group(pid, libc::SIGKILL);
    for p in below {
        if let Ok(p) = libc::pid_t::try_from(p) {
            // SAFETY: plain kill(2) of a pid found under our own child; the group kill covers
            // the builder's own children (nix makes the builder a group leader).
            unsafe {
                libc::kill(p, libc::SIGKILL);
                if libc::getpgid(p) == p {
                    libc::killpg(p, libc::SIGKILL);
                }
            }
        }
    }
}

/// Whether `pid` still runs (exists and is not a zombie), from /proc.
pub fn is_running(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z')
}

/// What `/proc/PID/stat` says about a process that a record outlives: whether it still runs,
/// its group, and its start time, which tells it from a later process given the same pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub pgrp: u32,
    /// Clock ticks after boot (field 22).
    pub start_time: u64,
}

pub fn stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after `(comm)`, which may itself contain spaces or parentheses: state is
    // field 3, pgrp field 5, starttime field 22.
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// The start time of `pid`, if it runs (see [`ProcStat::start_time`]).
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).filter(|s| s.state != 'Z').map(|s| s.start_time)
}

/// Whether the process `pid` that started at `start_time` still runs (not a later process
/// that got the same pid).
pub fn is_same_running(pid: u32, start_time: u64) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z' && s.start_time == start_time)
}

/// Live members of process group `pgid` that started no earlier than `since`: the group a
/// dead atwb left, told from a group that a later process made with the same number.
fn group_members(pgid: u32, since: u64) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            stat(*p).is_some_and(|s| s.pgrp == pgid && s.state != 'Z' && s.start_time >= since)
        })
        .collect()
}

/// Stops what is left of the nix process group `pgid` whose leader started at `start_time`,
/// after the atwb that ran it died without stopping it: SIGTERM to the group, then, after
/// `grace`, SIGKILL to the group and to every process found below its leader. A group whose
/// number now belongs to a later process is left alone. Returns whether anything was found.
pub fn stop_leftover_group(pgid: u32, start_time: u64, grace: Duration) -> bool {
    let leader_is_ours = is_same_running(pgid, start_time);
    if !leader_is_ours && stat(pgid).is_some_and(|s| s.state != 'Z') {
        // The number was reused: that process and its group are someone else's.
        return false;
    }
    if !leader_is_ours && group_members(pgid, start_time).is_empty() {
        return false;
    }
    signal_group(pgid, libc::SIGTERM);
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline && !group_members(pgid, start_time).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    if is_same_running(pgid, start_time) {
        kill_tree(pgid);
    } else if !group_members(pgid, start_time).is_empty() {
        signal_group(pgid, libc::SIGKILL);
    }
    true
}

/// Synchronous stop for `Drop` paths, where no runtime may be left to await on: SIGINT the
/// group, give nix up to `grace` to clean up, then SIGTERM, and finally kill the whole tree.
pub fn stop_blocking(pids: &[u32], grace: Duration) {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let alive: Vec<u32> = pids.iter().copied().filter(|p| is_running(*p)).collect();
        if alive.is_empty() {
            return;
        }
        for p in &alive {
            signal_group(*p, sig);
        }
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline && alive.iter().any(|p| is_running(*p)) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    for p in pids.iter().copied().filter(|p| is_running(*p)) {
        kill_tree(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for nix ignoring signals: a process group leader that traps INT and TERM, with
    /// a "builder" in its own session below it, as nix arranges it.
    #[tokio::test]
    async fn stop_escalates_and_kill_tree_reaches_other_sessions() {
        let marker = format!("atwb-kill-tree-{}", std::process::id());
        let script = format!(
            "trap '' INT TERM; setsid sh -c 'while :; do sleep 0.05; done # {marker}' & sleep 30 # {marker}"
        );
        let line = NixCommandLine {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        };
        let mut child = spawn(&line).unwrap();
        let pid = child.id().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while descendants(pid).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "tree did not start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let below = descendants(pid);
        let status = stop(&mut child, Duration::from_millis(200)).await.unwrap();
        assert!(!status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while below.iter().any(|p| is_running(*p)) {
            assert!(
                std::time::Instant::now() < deadline,
                "left running: {below:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
