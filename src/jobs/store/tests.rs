use super::*;

fn run(kind: JobKind, outcome: Outcome, secs: f64, fp: Option<&str>) -> RunRecord {
    RunRecord {
        kind,
        target: "t".into(),
        outcome,
        failure: None,
        duration_secs: secs,
        finished_at: 1,
        drv_path: None,
        out_paths: vec![],
        log_file: None,
        fingerprint: fp.map(str::to_string),
    }
}

#[test]
fn records_trims_history_and_persists() {
    let t = tempfile::tempdir().unwrap();
    let s = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
    for i in 0..25 {
        s.record("a", run(JobKind::Build, Outcome::Ok, f64::from(i), None))
            .unwrap();
    }
    let again = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
    let st = again.status("a").unwrap();
    assert_eq!(st.history.len(), HISTORY_LEN);
    assert_eq!(st.last.duration_secs, 24.0);
    assert_eq!(st.estimate(), Some(Duration::from_secs_f64(14.5)));
    assert!(again.status("b").is_none());
}

#[test]
fn logs_of_runs_leaving_the_history_are_deleted() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    std::fs::create_dir_all(state.join("logs")).unwrap();
    let outside = t.path().join("elsewhere.log");
    std::fs::write(&outside, "x").unwrap();
    let mut logs = Vec::new();
    for i in 0..=HISTORY_LEN {
        let log = if i == 1 {
            outside.clone()
        } else {
            state.join(format!("logs/a-{i}.log"))
        };
        std::fs::write(&log, "x").unwrap();
        let mut r = run(JobKind::Build, Outcome::Ok, 1.0, None);
        r.log_file = Some(log.clone());
        s.record("a", r).unwrap();
        logs.push(log);
    }
    assert!(!logs[0].exists(), "oldest run's log removed");
    assert!(logs[2].exists() && logs[HISTORY_LEN].exists());
    s.record("a", run(JobKind::Build, Outcome::Ok, 1.0, None))
        .unwrap();
    assert!(
        outside.exists(),
        "files outside the logs directory are never removed"
    );
}

#[test]
fn stale_when_package_files_change_after_build() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("pkgs/o/a");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package.toml"), "name = \"a\"\n").unwrap();
    let s = StatusStore::open_in(t.path(), &t.path().join("state")).unwrap();
    let fp = s.fingerprint("a").unwrap();
    s.record("a", run(JobKind::Build, Outcome::Failed, 1.0, Some(&fp)))
        .unwrap();
    assert!(!s.status("a").unwrap().stale);
    std::fs::write(dir.join("package.toml"), "name = \"a\"\nversion = \"2\"\n").unwrap();
    assert!(s.status("a").unwrap().stale);
}

#[test]
fn median_ignores_failures_and_other_kinds() {
    let h = vec![
        run(JobKind::Build, Outcome::Ok, 10.0, None),
        run(JobKind::Build, Outcome::Failed, 99.0, None),
        run(JobKind::Test, Outcome::Ok, 50.0, None),
        run(JobKind::Build, Outcome::Ok, 30.0, None),
        run(JobKind::Build, Outcome::Ok, 20.0, None),
    ];
    assert_eq!(estimate(&h, JobKind::Build), Some(Duration::from_secs(20)));
    assert_eq!(estimate(&h, JobKind::Eval), None);
}

/// Runs `f` on a thread and fails (instead of hanging the test run) when it takes longer than
/// `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("still waiting: the call blocked on the store's lock")
}

#[test]
fn a_held_lock_is_waited_for_with_a_timeout_and_a_message_naming_the_holder() {
    use std::os::fd::AsRawFd;
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let s = StatusStore::open_in(t.path(), &state)
        .unwrap()
        .with_lock_timeout(Duration::from_millis(300));
    // Another holder of the lock (another open file description, so flock excludes us).
    let held = std::fs::File::create(state.join("status.lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let s = std::sync::Arc::new(s);
    let s2 = s.clone();
    let err = within(Duration::from_secs(5), move || {
        s2.record("a", run(JobKind::Build, Outcome::Ok, 1.0, None))
    })
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("locked by pid") && msg.contains(&std::process::id().to_string()),
        "{msg}"
    );
    assert!(msg.contains("not recorded"), "{msg}");
    let seen = s.take_write_errors();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].contains("the result of a was not recorded"),
        "{seen:?}"
    );
    drop(held);
    s.record("a", run(JobKind::Build, Outcome::Ok, 1.0, None))
        .unwrap();
    assert!(s.take_write_errors().is_empty());
}

#[test]
fn a_store_that_cannot_be_written_is_an_error_kept_for_the_user() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    // The lock file cannot be opened for writing: a directory is in its place.
    std::fs::create_dir(state.join("status.lock")).unwrap();
    let err = s
        .record("a", run(JobKind::Build, Outcome::Ok, 1.0, None))
        .unwrap_err();
    assert!(format!("{err:#}").contains("status.lock"), "{err:#}");
    let errors = s.take_write_errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("was not recorded"), "{errors:?}");
    assert!(s.status("a").is_none());
}

#[test]
fn a_newer_status_file_is_read_but_never_rewritten() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let file = state.join("status.json");
    let newer = r#"{"version": 99, "packages": {"a": [{"kind": "build", "target": "t",
        "outcome": "ok", "duration_secs": 1.0, "finished_at": 5, "new_field": [1, 2]}]},
        "added_later": {"x": 1}}"#;
    std::fs::write(&file, newer).unwrap();
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    assert_eq!(s.status("a").unwrap().last.finished_at, 5, "still read");
    let why = s.read_only().expect("read-only");
    assert!(
        why.contains("newer atwb") && why.contains("format 99"),
        "{why}"
    );
    assert_eq!(s.take_write_errors(), vec![why.clone()], "a notice at open");
    let err = s
        .record("a", run(JobKind::Build, Outcome::Failed, 2.0, None))
        .unwrap_err();
    assert!(format!("{err:#}").contains("newer atwb"), "{err:#}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        newer,
        "never rewritten"
    );
    // A newer file whose records this atwb cannot even parse opens too, read-only.
    std::fs::write(&file, r#"{"version": 7, "packages": {"a": "a new shape"}}"#).unwrap();
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    assert!(s.read_only().is_some() && s.status("a").is_none());
}

#[test]
fn temp_files_a_killed_atwb_left_are_removed_at_open() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    std::fs::create_dir_all(state.join("logs")).unwrap();
    // Named as write_atomic names them, by a pid that cannot exist (above pid_max's 2^22).
    let left = state.join(".status.json.atwb-99999999.tmp");
    std::fs::write(&left, "{\"version\": 1, \"pack").unwrap();
    let keep = state.join("notes.tmp");
    std::fs::write(&keep, "x").unwrap();
    StatusStore::open_in(t.path(), &state).unwrap();
    assert!(!left.exists(), "stale temp file removed");
    assert!(keep.exists(), "only our own naming pattern is touched");
}

/// A pid that no process has now: a child that has been reaped.
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// Live (not zombie) members of process group `pgid`.
fn group_size(pgid: u32) -> usize {
    group_members(pgid).len()
}

/// The live members of group `pgid`, each with its start time.
fn group_members(pgid: u32) -> Vec<(u32, u64)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            crate::jobs::process::stat(*p).is_some_and(|s| s.pgrp == pgid && s.state != 'Z')
        })
        .filter_map(|p| Some((p, crate::jobs::process::start_time(p)?)))
        .collect()
}

fn running_entry(owner_pid: u32, owner_start: u64, pgid: u32, log: &Path) -> RunningRecord {
    RunningRecord {
        package: "a".into(),
        kind: JobKind::Build,
        target: "packages.x.a".into(),
        owner_pid,
        owner_start,
        pgid,
        pgid_start: crate::jobs::process::start_time(pgid),
        started_at: crate::time::unix_now().saturating_sub(3),
        log_file: Some(log.to_path_buf()),
        fingerprint: None,
    }
}

#[test]
fn a_run_of_a_dead_atwb_is_recorded_interrupted_and_its_group_stopped() {
    use std::os::unix::process::CommandExt;
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let log = state.join("logs/a.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "line before the kill\n").unwrap();
    // What a killed atwb leaves: a group that ignores SIGTERM (only the SIGKILL after the grace
    // ends it), with a child in the same group.
    let mut group = std::process::Command::new("sh")
        .args(["-c", "trap '' TERM; sleep 60 & sleep 60; wait"])
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = group.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while group_size(pgid) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the group did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let members = group_members(pgid);
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    s.begin(running_entry(dead_pid(), 1, pgid, &log)).unwrap();
    // A run of a live atwb (this process) is not touched.
    let mine = RunningRecord {
        package: "b".into(),
        ..RunningRecord::started_here("b", JobKind::Build, "t", dead_pid(), None, None)
    };
    s.begin(mine.clone()).unwrap();
    assert_eq!(s.running().len(), 2);

    let again = StatusStore::open_in(t.path(), &state).unwrap();
    let a = again.status("a").expect("recorded");
    assert_eq!(a.last.outcome, Outcome::Interrupted);
    assert_eq!(a.last.log_file.as_deref(), Some(log.as_path()));
    let why = &a.last.failure.as_ref().unwrap().first_line;
    assert!(why.contains("was stopped"), "{why}");
    assert_eq!(again.running(), vec![mine], "the live owner's entry stays");
    assert!(again.status("b").is_none());
    // The leader was killed (a zombie until reaped here) and its group has no one left.
    let status = group.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    // Every member seen at the start is gone (checked by pid and start time: in a parallel
    // suite the group's number may already belong to a new process of another test).
    // A SIGKILLed process needs the CPU once more to die: on a loaded machine, give it time.
    let left = || -> Vec<u32> {
        members
            .iter()
            .filter(|(p, start)| crate::jobs::process::is_same_running(*p, *start))
            .map(|(p, _)| *p)
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !left().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(left().is_empty(), "group {pgid} left running: {:?}", left());
    // Recorded once: opening again finds nothing more to do.
    let third = StatusStore::open_in(t.path(), &state).unwrap();
    assert_eq!(third.status("a").unwrap().history.len(), 1);
}

#[test]
fn a_finished_run_removes_its_running_entry_and_a_reused_pid_is_not_the_owner() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let log = state.join("logs/a.log");
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    let entry = RunningRecord::started_here(
        "a",
        JobKind::Build,
        "t",
        dead_pid(),
        Some(log.clone()),
        None,
    );
    assert!(!entry.owner_gone(), "this process owns it");
    s.begin(entry.clone()).unwrap();
    let mut r = run(JobKind::Build, Outcome::Ok, 1.0, None);
    r.log_file = Some(log);
    s.record("a", r).unwrap();
    assert!(s.running().is_empty());
    // Our pid with another start time: a later process that got the pid, not the owner.
    let reused = RunningRecord {
        owner_start: entry.owner_start + 1,
        ..entry
    };
    assert!(reused.owner_gone());
}
