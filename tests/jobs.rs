//! The job engine against real nix 2.8 and the fixture flakes in `tests/fixtures/flakes/`.
//! Each test copies its fixture to a temporary directory with a unique salt, so every build is
//! fresh and leftover processes can be found by that salt in /proc.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atwb::jobs::{Engine, EngineConfig, JobEvent, JobId, JobResult, JobSpec, Outcome, StatusStore};
use atwb::nix::classify::ErrorClass;
use atwb::nix::command::Installable;

struct Fixture {
    dir: tempfile::TempDir,
    salt: String,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let (dir, salt) = common::salted_flake(name, "atwb-jobs-");
        Fixture { dir, salt }
    }

    fn flake(&self) -> PathBuf {
        self.dir.path().join("flake")
    }

    fn installable(&self, attr: &str) -> Installable {
        Installable::new(self.flake().to_string_lossy(), attr)
    }

    fn config(&self, max_parallel: usize) -> EngineConfig {
        let mut c = EngineConfig::new(self.dir.path().join("state/logs"));
        c.max_parallel = max_parallel;
        c
    }
}

/// Events of one job, each with its arrival time, up to and including `Finished`.
async fn collect(
    rx: &mut tokio::sync::mpsc::Receiver<JobEvent>,
    id: JobId,
) -> (Vec<(Instant, JobEvent)>, JobResult) {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("job did not finish in 60 s")
            .unwrap();
        if ev.id() != id {
            continue;
        }
        if let JobEvent::Finished(r) = &ev {
            let r = (**r).clone();
            events.push((Instant::now(), ev));
            return (events, r);
        }
        events.push((Instant::now(), ev));
    }
}

async fn run_one(engine: &Engine, spec: JobSpec) -> (Vec<(Instant, JobEvent)>, JobResult) {
    let mut rx = engine.subscribe();
    let id = engine.submit(spec);
    collect(&mut rx, id).await
}

fn log_texts(events: &[(Instant, JobEvent)]) -> Vec<String> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            JobEvent::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Neither the fixture's builder (found by its salt) nor its nix (found by the flake path) runs.
fn assert_no_builder_or_nix_left(f: &Fixture) {
    assert_eq!(
        common::leftover_processes(&f.salt),
        Vec::<String>::new(),
        "builder left running"
    );
    assert_eq!(
        common::leftover_processes(&f.flake().to_string_lossy()),
        Vec::<String>::new(),
        "nix left running"
    );
}

/// Wait (bounded) for the builder to print `tick`, i.e. to be really running.
async fn wait_for_tick(rx: &mut tokio::sync::mpsc::Receiver<JobEvent>, id: JobId) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("no tick in 30 s")
            .unwrap()
        {
            JobEvent::Log { id: i, text, .. } if i == id && text.contains("tick") => return,
            JobEvent::Finished(r) if r.id == id => panic!("slow job ended early: {r:?}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_reports_paths_log_and_drv_attribution() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let (events, r) = run_one(&engine, JobSpec::build("ok", f.installable("ok"))).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert!(r.drv_path.as_deref().unwrap().ends_with("-ok.drv"));
    assert!(Path::new(&r.out_paths[0]).exists());
    let log = std::fs::read_to_string(r.log_file.as_ref().unwrap()).unwrap();
    assert!(
        log.lines().all(|l| l.starts_with("@nix ")),
        "raw internal-json on disk"
    );
    assert!(log.contains("building ok"));
    let attributed = events.iter().any(|(_, e)| {
        matches!(e, JobEvent::Log { text, drv: Some(d), .. } if text == "building ok" && d.ends_with("-ok.drv"))
    });
    assert!(attributed, "{events:?}");
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e, JobEvent::Started { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_failure_is_classified_with_exit_code_and_last_line() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let (events, r) = run_one(&engine, JobSpec::build("fail", f.installable("fail"))).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.exit_code, Some(1));
    let fail = r.failure.unwrap();
    assert_eq!(fail.class.name(), "builder_failed", "{fail:?}");
    assert!(fail.first_line.contains("exit code 3"), "{fail:?}");
    match &fail.class {
        ErrorClass::BuilderFailed {
            exit_code,
            last_lines,
            ..
        } => {
            assert_eq!(*exit_code, Some(3));
            assert_eq!(
                last_lines.last().map(String::as_str),
                Some("last words"),
                "{fail:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(log_texts(&events).iter().any(|t| t == "about to fail"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_errors_and_missing_attributes_are_classified() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let (_, r) = run_one(&engine, JobSpec::build("evalerr", f.installable("evalerr"))).await;
    let fail = r.failure.unwrap();
    assert_eq!(
        (r.outcome, fail.class.name()),
        (Outcome::Failed, "eval_error"),
        "{fail:?}"
    );
    assert!(
        fail.first_line
            .contains("cannot add a string to an integer"),
        "{fail:?}"
    );
    assert!(fail.first_line.contains("flake.nix:"), "position: {fail:?}");

    let (_, r) = run_one(&engine, JobSpec::build("nosuch", f.installable("nosuch"))).await;
    assert_eq!(r.failure.unwrap().class.name(), "missing_attribute");

    let (_, r) = run_one(
        &engine,
        JobSpec::eval("answer", f.installable("lib.answer")),
    )
    .await;
    assert_eq!((r.outcome, r.value.as_deref()), (Outcome::Ok, Some("42")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_stream_before_the_build_ends() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let mut cfg = f.config(2);
    cfg.ring_lines = 1000;
    let engine = Engine::new(cfg);
    let (events, r) = run_one(&engine, JobSpec::build("stream", f.installable("stream"))).await;
    assert_eq!(r.outcome, Outcome::Ok);
    let first = events
        .iter()
        .find(|(_, e)| matches!(e, JobEvent::Log { text, .. } if text == "stream line 0"))
        .expect("stream line 0")
        .0;
    let finished = events.last().unwrap().0;
    // The builder sleeps 1.5 s after its last line: a line delivered only at exit would be late.
    assert!(
        finished - first >= Duration::from_secs(1),
        "lines arrived {:?} before the end",
        finished - first
    );
    assert_eq!(
        log_texts(&events)
            .iter()
            .filter(|t| t.starts_with("stream line"))
            .count(),
        30
    );
    // Memory keeps the newest 1000 lines; the file on disk keeps all of them.
    let ring = engine.log_ring(r.id).unwrap();
    let ring = ring.lock().unwrap();
    assert_eq!(ring.len(), 1000);
    assert!(ring.total() > 20_030);
    assert!(ring.iter().any(|l| l.contains("stream line 29")));
    let pager = atwb::jobs::LogPager::open(r.log_file.as_ref().unwrap()).unwrap();
    assert_eq!(pager.line_count(), ring.total());
    let bulk: Vec<String> = (0..pager.line_count())
        .step_by(4096)
        .flat_map(|n| pager.lines(n, 4096).unwrap())
        .filter(|l| l.contains("bulk line"))
        .collect();
    assert_eq!(bulk.len(), 20_000);
    assert!(
        bulk[12_345].contains(r#""bulk line 12345""#),
        "{}",
        bulk[12_345]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_build_leaves_no_process() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let mut rx = engine.subscribe();
    let id = engine.submit(JobSpec::build("slow", f.installable("slow")));
    wait_for_tick(&mut rx, id).await;
    assert!(
        !common::live_processes_with(&f.salt).is_empty(),
        "the builder should be running"
    );
    engine.cancel(id);
    let (_, r) = collect(&mut rx, id).await;
    assert_eq!(r.outcome, Outcome::Cancelled);
    assert!(
        r.duration < Duration::from_secs(5),
        "SIGINT should be enough: {:?}",
        r.duration
    );
    assert_no_builder_or_nix_left(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_engine_cancels_running_builds() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let mut rx = engine.subscribe();
    let id = engine.submit(JobSpec::build("slow", f.installable("slow")));
    wait_for_tick(&mut rx, id).await;
    drop(engine);
    assert_no_builder_or_nix_left(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_cancels_and_reports_timed_out() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let mut cfg = f.config(2);
    cfg.timeout = Some(Duration::from_secs(2));
    let engine = Engine::new(cfg);
    let (_, r) = run_one(&engine, JobSpec::build("slow", f.installable("slow"))).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    assert_eq!(r.failure.unwrap().class.name(), "timeout");
    assert_eq!(common::leftover_processes(&f.salt), Vec::<String>::new());
}

/// (start, end) of two nap jobs run under `max_parallel`.
async fn two_naps(max_parallel: usize) -> [(Instant, Instant); 2] {
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(max_parallel));
    let mut rx = engine.subscribe();
    let a = engine.submit(JobSpec::build("nap1", f.installable("nap1")));
    let b = engine.submit(JobSpec::build("nap2", f.installable("nap2")));
    let mut times: [(Option<Instant>, Option<Instant>); 2] = Default::default();
    while times.iter().any(|t| t.1.is_none()) {
        let ev = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let slot = &mut times[usize::from(ev.id() == b)];
        assert!(ev.id() == a || ev.id() == b);
        match ev {
            JobEvent::Started { .. } => slot.0 = Some(Instant::now()),
            JobEvent::Finished(r) => {
                assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
                slot.1 = Some(Instant::now());
            }
            _ => {}
        }
    }
    times.map(|(s, e)| (s.unwrap(), e.unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_jobs_run_in_parallel() {
    if !common::nix_env() {
        return;
    }
    let [a, b] = two_naps(2).await;
    assert!(
        b.0 < a.1 && a.0 < b.1,
        "the two builds should overlap: {a:?} {b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_parallel_one_serialises() {
    if !common::nix_env() {
        return;
    }
    let [a, b] = two_naps(1).await;
    assert!(
        a.1 <= b.0 || b.1 <= a.0,
        "the two builds must not overlap: {a:?} {b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_mismatch_is_fixed_in_the_catalog_and_the_rebuild_succeeds() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("hashfix");
    let catalog = f.flake().join("catalog");
    let toml = catalog.join("pkgs/fixtures/demo/package.toml");
    let original = std::fs::read_to_string(&toml).unwrap();
    let mut cfg = f.config(1);
    let store = Arc::new(StatusStore::open_in(&catalog, &f.dir.path().join("state")).unwrap());
    cfg.store = Some(store.clone());
    let engine = Engine::new(cfg);

    // Two wrong hashes (source and deps): nix reports one mismatch per build.
    let mut fixed = Vec::new();
    let r = loop {
        let (_, r) = run_one(&engine, JobSpec::build("demo", f.installable("demo"))).await;
        if r.outcome == Outcome::Ok || fixed.len() == 2 {
            break r;
        }
        let failure = r.failure.clone().unwrap();
        assert_eq!(failure.class.name(), "hash_mismatch", "{failure:?}");
        assert_eq!(
            store.status("demo").unwrap().last.failure.unwrap().class,
            "hash_mismatch"
        );
        let report = atwb::catalog::edit::fix_hash_mismatch(&catalog, "demo", &failure).unwrap();
        assert_eq!(report.files, vec![toml.clone()]);
        fixed.push(report);
    };
    assert_eq!(r.outcome, Outcome::Ok, "rebuild after the fixes: {r:?}");
    assert_eq!(fixed.len(), 2);

    // Only the fixed fields changed; comments survive.
    let now = std::fs::read_to_string(&toml).unwrap();
    let deps = fixed
        .iter()
        .find(|r| r.field.as_str() == "build.deps_hash")
        .unwrap();
    let src = fixed
        .iter()
        .find(|r| r.field.as_str() == "source.hash")
        .unwrap();
    let mut changed: Vec<(&str, &str)> = original
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .collect();
    changed.sort_unstable();
    assert_eq!(original.lines().count(), now.lines().count());
    let expected_lines = [
        format!("deps_hash = \"{}\"   # fixed by atwb", deps.new),
        format!("hash = \"{}\" # wrong on purpose", src.new),
        "verified = true".to_string(),
    ];
    for want in &expected_lines {
        assert!(
            changed.iter().any(|(_, b)| b == want),
            "missing {want:?} in {changed:?}"
        );
    }
    assert!(
        changed
            .iter()
            .any(|(_, b)| b.starts_with("provenance = \"got: from nix build"))
    );
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert!(now.contains("# Vendored dependencies;"));
    let st = store.status("demo").unwrap();
    assert_eq!(st.last.outcome, Outcome::Ok);
    assert_eq!(st.history.len(), 3);
}

/// The source's builder prints nix's mismatch message with its own `got:` first; the fix must
/// take nix's, mark it verified, and the rebuild then succeeds (it would not with the forged one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_hash_mismatch_is_not_what_the_fix_writes() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("forgedhash");
    let catalog = f.flake().join("catalog");
    let toml = catalog.join("pkgs/fixtures/demo/package.toml");
    let engine = Engine::new(f.config(1));
    let (_, r) = run_one(&engine, JobSpec::build("demo", f.installable("demo"))).await;
    let failure = r.failure.clone().unwrap();
    let ErrorClass::HashMismatch { drv, got, .. } = &failure.class else {
        panic!("{failure:?}")
    };
    assert!(!got.contains("FAKE"), "the builder's hash: {got}");
    assert!(!drv.contains("00000000000000000000000000000000"), "{drv}");
    let summary = atwb::jobs::spec::FailureSummary::from(&failure);
    assert!(
        summary.hash_mismatch.unwrap().confirmed,
        "reported by nix itself"
    );
    atwb::catalog::edit::fix_hash_mismatch(&catalog, "demo", &failure).unwrap();
    let now = std::fs::read_to_string(&toml).unwrap();
    assert!(
        now.contains(&format!("hash = \"{got}\"")) && now.contains("verified = true"),
        "{now}"
    );
    let (_, r) = run_one(&engine, JobSpec::build("demo", f.installable("demo"))).await;
    assert_eq!(r.outcome, Outcome::Ok, "rebuild with nix's hash: {r:?}");
}

#[test]
fn headless_build_prints_json_and_junit_and_fails_on_any_failure() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let junit = f.dir.path().join("report.xml");
    let catalog = f.dir.path().join("catalog");
    std::fs::create_dir_all(catalog.join("pkgs")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .args([
            "--catalog",
            catalog.to_str().unwrap(),
            "build",
            "--flake",
            f.flake().to_str().unwrap(),
        ])
        .args(["ok", "fail", "--json", "--junit", junit.to_str().unwrap()])
        .env("XDG_STATE_HOME", f.dir.path().join("xdg-state"))
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let by = |n: &str| results.iter().find(|r| r["package"] == n).unwrap().clone();
    assert_eq!(by("ok")["outcome"], "ok");
    assert_eq!(by("fail")["outcome"], "failed");
    assert_eq!(by("fail")["failure"]["class"], "builder_failed");
    assert_eq!(json["summary"]["failed"], 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert!(
        xml.contains(r#"<failure message="builder_failed: "#),
        "{xml}"
    );
    assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
    assert!(
        stderr.contains("ok") && stderr.contains("fail"),
        "progress on stderr: {stderr}"
    );
    let status = std::fs::read_dir(f.dir.path().join("xdg-state/atwb/catalogs"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join("status.json"))
        .find(|p| p.exists())
        .expect("status store written");
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(status).unwrap()).unwrap();
    assert_eq!(status["packages"]["fail"][0]["outcome"], "failed");
}

/// Start `atwb build --flake <fixture> slow` and wait until its builder runs.
fn start_headless_slow(f: &Fixture) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .args([
            "build",
            "--flake",
            f.flake().to_str().unwrap(),
            "slow",
            "--json",
        ])
        .env("XDG_STATE_HOME", f.dir.path().join("xdg-state"))
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while common::live_processes_with(&f.salt).is_empty() {
        assert!(Instant::now() < deadline, "the slow builder never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn ctrl_c_of_headless_build_cancels_cleanly() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let child = start_headless_slow(&f);
    // What a terminal's Ctrl-c does to atwb (nix, in its own process group, gets nothing).
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["outcome"], "cancelled", "{stderr}");
    assert_no_builder_or_nix_left(&f);
}

#[test]
fn killed_atwb_leaves_no_builder_behind() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let mut child = start_headless_slow(&f);
    // SIGKILL gives atwb no chance to cancel: nix's parent-death signal (SIGINT) must do it.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_no_builder_or_nix_left(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_all_stops_running_and_queued_jobs() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(1));
    let mut rx = engine.subscribe();
    let running = engine.submit(JobSpec::build("slow", f.installable("slow")));
    let queued = engine.submit(JobSpec::build("ok", f.installable("ok")));
    wait_for_tick(&mut rx, running).await;
    assert!(matches!(
        engine.job(queued).unwrap().state,
        atwb::jobs::JobState::Queued
    ));
    let pids = engine.cancel_all();
    assert_eq!(pids.len(), 1, "one nix was running");
    let mut outcomes = std::collections::HashMap::new();
    let mut queued_started = false;
    while outcomes.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            JobEvent::Started { id, .. } if id == queued => queued_started = true,
            JobEvent::Finished(r) => {
                outcomes.insert(r.id, r.outcome);
            }
            _ => {}
        }
    }
    assert_eq!(outcomes[&running], Outcome::Cancelled);
    assert_eq!(outcomes[&queued], Outcome::Cancelled);
    assert!(
        !queued_started,
        "a cancelled queued job must never start nix"
    );
    assert_eq!(common::leftover_processes(&f.salt), Vec::<String>::new());
}

/// A temporary git repository holding the `catalogrepo` fixture (flake + catalog), committed so
/// nix's git fetcher sees the files.
fn catalog_repo() -> Fixture {
    let f = Fixture::new("catalogrepo");
    common::commit_all(&f.flake(), "fixture");
    f
}

fn atwb_in(f: &Fixture, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    atwb_with_catalog(f, &f.flake().join("catalog"), args)
}

/// Run the atwb binary with private XDG dirs; returns (exit code, stdout JSON, stderr).
fn atwb_with_catalog(
    f: &Fixture,
    catalog: &Path,
    args: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(catalog)
        .args(args)
        .env("XDG_STATE_HOME", f.dir.path().join("xdg-state"))
        .env("XDG_CONFIG_HOME", f.dir.path().join("xdg-config"))
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_default(),
        stderr,
    )
}

#[test]
fn headless_build_of_catalog_packages_selects_records_and_goes_stale() {
    if !common::nix_env() {
        return;
    }
    let f = catalog_repo();
    let (code, json, stderr) = atwb_in(&f, &["build", "--org", "fixtures", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{json}");
    assert_eq!(results[0]["package"], "demo");
    assert!(
        results[0]["installable"]
            .as_str()
            .unwrap()
            .ends_with("#packages.x86_64-linux.demo")
    );

    let (code, json, stderr) = atwb_in(&f, &["build", "--tier", "2", "--json"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json["results"][0]["package"], "broken");
    assert_eq!(json["results"][0]["failure"]["class"], "builder_failed");

    let (code, json, stderr) = atwb_in(&f, &["build", "--test", "demo", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["results"][0]["kind"], "test");
    assert!(
        json["results"][0]["installable"]
            .as_str()
            .unwrap()
            .ends_with("#checks.x86_64-linux.demo-smoke")
    );

    let (code, _, stderr) = atwb_in(&f, &["build", "nosuch"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no package named nosuch"), "{stderr}");

    // The status store the TUI reads: results, history, and staleness after a lib edit.
    let catalog = f.flake().join("catalog");
    let state = std::fs::read_dir(f.dir.path().join("xdg-state/atwb/catalogs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let store = StatusStore::open_in(&catalog, &state).unwrap();
    let demo = store.status("demo").unwrap();
    assert_eq!(
        (demo.history.len(), demo.last.kind),
        (2, atwb::jobs::JobKind::Test)
    );
    assert_eq!(demo.last_build.as_ref().unwrap().outcome, Outcome::Ok);
    assert!(!demo.stale);
    assert_eq!(
        store.status("broken").unwrap().last.outcome,
        Outcome::Failed
    );
    std::fs::write(catalog.join("lib/README.md"), "changed\n").unwrap();
    assert!(store.status("demo").unwrap().stale);
}

/// `atwb build` whose status store cannot be written: the build itself succeeds, but the result
/// is lost, so the run says so and exits non-zero instead of printing "1 ok" and exiting 0.
#[test]
fn headless_build_fails_when_its_result_cannot_be_recorded() {
    if !common::nix_env() {
        return;
    }
    let f = catalog_repo();
    let (code, _, stderr) = atwb_in(&f, &["build", "demo"]);
    assert_eq!(code, Some(0), "{stderr}");
    let state = std::fs::read_dir(f.dir.path().join("xdg-state/atwb/catalogs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let lock = state.join("status.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let (code, json, stderr) = atwb_in(&f, &["build", "demo", "--json"]);
    assert_eq!(
        json["summary"]["ok"], 1,
        "the build itself succeeded: {stderr}"
    );
    assert_eq!(code, Some(1), "a lost result is a failure: {stderr}");
    assert!(
        stderr.contains("the result of demo was not recorded") && stderr.contains("status.lock"),
        "{stderr}"
    );
}

#[test]
fn config_max_jobs_reaches_nix() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let config = f.dir.path().join("xdg-config/atwb");
    std::fs::create_dir_all(&config).unwrap();
    // max-jobs = 0 and no builders: nix must refuse to build locally, proving the flag arrived.
    std::fs::write(
        config.join("config.toml"),
        "[jobs]\nmax_jobs = 0\nbuilders = \"\"\n",
    )
    .unwrap();
    let catalog = f.dir.path().join("catalog");
    std::fs::create_dir_all(catalog.join("pkgs")).unwrap();
    let (code, json, stderr) = atwb_with_catalog(
        &f,
        &catalog,
        &[
            "build",
            "--flake",
            f.flake().to_str().unwrap(),
            "ok",
            "--json",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let line = json["results"][0]["failure"]["first_line"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(line.contains("max-jobs"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_line_is_cut_into_pieces_and_kept_whole_on_disk() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("basic");
    let engine = Engine::new(f.config(2));
    let (events, r) = run_one(&engine, JobSpec::build("huge", f.installable("huge"))).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert!(log_texts(&events).iter().any(|t| t == "after"));
    let ring = engine.log_ring(r.id).unwrap();
    let longest = ring.lock().unwrap().iter().map(str::len).max().unwrap();
    assert!(longest <= 1 << 20, "a piece of {longest} bytes");
    let log = std::fs::read_to_string(r.log_file.as_ref().unwrap()).unwrap();
    assert!(
        log.contains(&"x".repeat(3_000_000)),
        "the log file keeps the line whole"
    );
}
