//! Results never silently lost: a status store that cannot be written, or whose lock another
//! process holds, ends the job anyway and tells the user (the TUI through a notice, the CLI
//! through a message and a non-zero exit), against real nix 2.8 and the `basic` fixture flake.

mod common;

use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use atwb::jobs::{Engine, EngineConfig, JobEvent, JobResult, JobSpec, Outcome, StatusStore};
use atwb::nix::command::Installable;
use atwb::tui::action::Feedback;
use atwb::tui::effects::Effects;

/// The `basic` flake in `dir/flake` with a fresh salt, so the build really runs.
fn flake_in(dir: &Path) -> String {
    let flake = dir.join("flake");
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/flakes/basic"),
        &flake,
    );
    std::fs::write(
        flake.join("salt.txt"),
        format!("storeerr{}", std::process::id()),
    )
    .unwrap();
    flake.to_string_lossy().into_owned()
}

/// Build `ok` with `store`; the job must finish (within 60 s) whatever the store does.
async fn build_ok(dir: &Path, flake: &str, store: Arc<StatusStore>) -> JobResult {
    let mut cfg = EngineConfig::new(dir.join("state/logs"));
    cfg.store = Some(store);
    let engine = Engine::new(cfg);
    let mut rx = engine.subscribe_lifecycle();
    // A name the store can record (the engine records any package name).
    engine.submit(JobSpec::build("ok", Installable::new(flake, "ok")));
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the job never finished: it shows `running` forever")
            .unwrap();
        if let JobEvent::Finished(r) = ev {
            return *r;
        }
    }
}

/// The notice the TUI gets after a job, from the status refresh that follows it.
async fn notices_after_refresh(dir: &Path, store: Arc<StatusStore>) -> Vec<String> {
    let engine = Engine::new(EngineConfig::new(dir.join("state/logs")));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let effects = Effects::new(
        engine.handle(),
        store,
        dir.into(),
        Err("no flake".into()),
        tx,
    );
    effects.refresh_statuses(vec!["ok".into()]);
    let mut notices = Vec::new();
    loop {
        let fb = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("no feedback")
            .unwrap();
        match fb {
            Feedback::Notice(n) if n.error => notices.push(n.text),
            Feedback::Statuses(_) => return notices,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_written_is_a_notice_in_the_tui() {
    if !common::nix_env() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flake = flake_in(dir.path());
    let state = dir.path().join("state");
    let store = Arc::new(StatusStore::open_in(dir.path(), &state).unwrap());
    std::fs::create_dir(state.join("status.lock")).unwrap();
    let r = build_ok(dir.path(), &flake, store.clone()).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    let notices = notices_after_refresh(dir.path(), store).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("the result of ok was not recorded")
            && notices[0].contains("status.lock"),
        "{notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_store_lock_does_not_keep_a_finished_job_running() {
    if !common::nix_env() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flake = flake_in(dir.path());
    let state = dir.path().join("state");
    let store = Arc::new(
        StatusStore::open_in(dir.path(), &state)
            .unwrap()
            .with_lock_timeout(Duration::from_millis(500)),
    );
    // Another process's lock: a separate open file description of the lock file.
    let held = std::fs::File::create(state.join("status.lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let r = build_ok(dir.path(), &flake, store.clone()).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    let notices = notices_after_refresh(dir.path(), store.clone()).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    let pid = std::process::id().to_string();
    assert!(
        notices[0].contains("locked by pid") && notices[0].contains(&pid),
        "the holder is named: {notices:?}"
    );
    assert!(store.status("ok").is_none(), "nothing was recorded");
}
