//! The batch evaluation with real nix: one `nix eval` for N targets, builds by drv, errors
//! attributed to their target, drvs in the status store, and the binary-cache lookup against
//! real HTTP servers on 127.0.0.1 (`atwb build --skip-cached`).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use atwb::jobs::cache::{self, CacheState};
use atwb::jobs::evaluate::{self, TargetEval};
use atwb::jobs::{JobSpec, StatusStore};
use atwb::nix::command::Installable;

struct Fixture {
    dir: tempfile::TempDir,
    salt: String,
}

impl Fixture {
    /// `name` from tests/fixtures/flakes, salted (fresh derivations each run), with a `nix` on
    /// PATH that logs its arguments before running the real one.
    fn new(name: &str) -> Fixture {
        let (dir, salt) = common::salted_flake(name, "atwb-evalonce-");
        common::logging_nix(dir.path(), "");
        Fixture { dir, salt }
    }

    fn flake(&self) -> PathBuf {
        self.dir.path().join("flake")
    }

    fn calls(&self) -> Vec<String> {
        common::nix_calls(self.dir.path())
    }

    fn config(&self, text: &str) {
        let dir = self.dir.path().join("xdg-config/atwb");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }

    /// `atwb build --flake FLAKE ARGS --json` with the logging nix first on PATH.
    fn build(&self, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
            .args(["build", "--json", "--flake"])
            .arg(self.flake())
            .args(args)
            .env("PATH", path)
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
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

    fn out_path(&self, attr: &str) -> String {
        common::out_path(&self.flake(), attr)
    }
}

fn count(calls: &[String], pred: impl Fn(&str) -> bool) -> usize {
    calls.iter().filter(|c| pred(c)).count()
}

fn result<'a>(json: &'a serde_json::Value, package: &str) -> &'a serde_json::Value {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["package"] == package)
        .unwrap_or_else(|| panic!("no result for {package}: {json}"))
}

#[test]
fn one_evaluation_for_all_targets_and_a_build_by_drv_each() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce");
    let (code, json, stderr) = f.build(&["a", "b", "c", "d"]);
    assert_eq!(code, Some(0), "{stderr}");
    let calls = f.calls();
    assert_eq!(count(&calls, |c| c.contains(" eval ")), 1, "{calls:#?}");
    let drv_builds = count(&calls, |c| {
        c.contains(" build /nix/store/") && c.contains(".drv ")
    });
    assert_eq!(drv_builds, 4, "{calls:#?}");
    assert_eq!(
        count(&calls, |c| c.contains(" build ") && c.contains('#')),
        0
    );
    for p in ["a", "b", "c", "d"] {
        let r = result(&json, p);
        assert_eq!(r["outcome"], "ok", "{r}");
        assert!(
            r["drv_path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("-{p}.drv"))
        );
    }
    assert!(
        stderr.contains("evaluated 4 of 4 targets in 1 nix evaluation"),
        "{stderr}"
    );

    // The route before batching, for comparison: one evaluating build per target.
    let before = f.calls().len();
    let (code, _, stderr) = f.build(&["a", "b", "--eval-per-target"]);
    assert_eq!(code, Some(0), "{stderr}");
    let calls = &f.calls()[before..];
    assert_eq!(count(calls, |c| c.contains(" eval ")), 0, "{calls:#?}");
    assert_eq!(
        count(calls, |c| c.contains(" build ") && c.contains("#a ")),
        1
    );
}

#[test]
fn a_throwing_attribute_fails_only_its_target_with_its_message() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce");
    let (code, json, stderr) = f.build(&["a", "broken", "notdrv", "b"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(result(&json, "a")["outcome"], "ok");
    assert_eq!(result(&json, "b")["outcome"], "ok");
    let broken = result(&json, "broken");
    assert_eq!(broken["outcome"], "failed");
    let msg = broken["failure"]["first_line"].as_str().unwrap();
    assert!(msg.contains("broken is marked as broken"), "{broken}");
    assert_eq!(result(&json, "notdrv")["outcome"], "failed");
    let calls = f.calls();
    // One batch evaluation; the failing targets evaluate in their own builds (for their message).
    assert_eq!(count(&calls, |c| c.contains(" eval ")), 1, "{calls:#?}");
    assert_eq!(count(&calls, |c| c.contains(".drv ")), 2, "{calls:#?}");
    assert!(calls.iter().any(|c| c.contains("#broken ")), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.contains("#a ")), "{calls:#?}");
}

#[test]
fn an_error_try_eval_cannot_catch_sets_aside_only_its_target() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce");
    // `typeerr` sorts between the others: nix forces attributes in name order, so the ones
    // before it were evaluated when it ended the first evaluation, the one after was not.
    let (code, json, stderr) = f.build(&["a", "typeerr", "b", "d"]);
    assert_eq!(code, Some(1), "{stderr}");
    for ok in ["a", "b", "d"] {
        assert_eq!(result(&json, ok)["outcome"], "ok", "{ok}: {json}");
    }
    let bad = result(&json, "typeerr");
    assert_eq!(bad["failure"]["class"], "eval_error", "{bad}");
    let msg = bad["failure"]["first_line"].as_str().unwrap();
    assert!(msg.contains("cannot add a string to an integer"), "{bad}");
    assert!(
        stderr.contains("typeerr: evaluated by its own build: evaluating typeerr failed"),
        "{stderr}"
    );
    assert!(stderr.contains("in 2 nix evaluation(s)"), "{stderr}");
    let calls = f.calls();
    // The first evaluation dies in typeerr, the second has the other three; they are built by
    // drv and only typeerr evaluates again, in its own build (for its log).
    assert_eq!(count(&calls, |c| c.contains(" eval ")), 2, "{calls:#?}");
    assert_eq!(count(&calls, |c| c.contains(".drv ")), 3, "{calls:#?}");
    assert!(calls.iter().any(|c| c.contains("#typeerr ")), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.contains("#a ")), "{calls:#?}");
}

/// A minimal HTTP/1.1 server on 127.0.0.1: `routes` maps a request path to (status, body,
/// delay before answering); anything else is a 404.
fn serve(routes: Vec<(String, u16, String, Duration)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
                let (code, body, delay) = routes
                    .iter()
                    .find(|r| r.0 == path)
                    .map_or((404, String::new(), Duration::ZERO), |r| {
                        (r.1, r.2.clone(), r.3)
                    });
                std::thread::sleep(delay);
                let _ = write!(
                    s,
                    "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

fn narinfo(path: &str) -> String {
    format!("StorePath: {path}\nURL: nar/x.nar.xz\nCompression: xz\nNarSize: 1\n")
}

const PATH_A: &str = "/nix/store/0c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d-a";
const PATH_B: &str = "/nix/store/1c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d-b";

fn route(path: &str, code: u16, body: String, delay: Duration) -> (String, u16, String, Duration) {
    let hash = cache::hash_part(path).unwrap();
    (format!("/{hash}.narinfo"), code, body, delay)
}

#[tokio::test]
async fn narinfo_answers_200_404_slow_and_garbage() {
    let good = serve(vec![route(PATH_A, 200, narinfo(PATH_A), Duration::ZERO)]);
    let slow = serve(vec![
        route(PATH_A, 200, narinfo(PATH_A), Duration::from_secs(5)),
        route(PATH_B, 404, String::new(), Duration::from_secs(5)),
    ]);
    let garbage = serve(vec![route(
        PATH_A,
        200,
        "<html>nope</html>".into(),
        Duration::ZERO,
    )]);
    let targets = vec![vec![PATH_A.to_string()], vec![PATH_B.to_string()]];
    let timeout = Duration::from_millis(400);
    let t0 = std::time::Instant::now();
    let states = cache::query(&targets, &[slow.clone(), good.clone()], timeout).await;
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "a slow cache must not hold the query"
    );
    assert_eq!(states[0], CacheState::Cached { url: good.clone() });
    // B: the good cache says 404, the slow one never answered: unknown, naming the slow one.
    match &states[1] {
        CacheState::Unknown { why } => {
            assert!(why.contains(&slow) && why.contains("timed out"), "{why}");
        }
        s => panic!("{s:?}"),
    }
    let states = cache::query(&targets, std::slice::from_ref(&garbage), timeout).await;
    match &states[0] {
        CacheState::Unknown { why } => assert!(why.contains("not a narinfo"), "{why}"),
        s => panic!("{s:?}"),
    }
    assert_eq!(
        cache::query(&targets[1..], std::slice::from_ref(&good), timeout).await,
        vec![CacheState::NotCached]
    );
    // Nobody listens on a port just closed: a connection failure, quickly.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    match &cache::query(&targets[..1], std::slice::from_ref(&closed), timeout).await[0] {
        CacheState::Unknown { why } => assert!(why.contains("did not answer"), "{why}"),
        s => panic!("{closed}: {s:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let hash = cache::hash_part(PATH_A).unwrap();
    std::fs::write(dir.path().join(format!("{hash}.narinfo")), narinfo(PATH_A)).unwrap();
    let file = format!("file://{}", dir.path().display());
    let states = cache::query(&targets, std::slice::from_ref(&file), timeout).await;
    assert_eq!(
        states,
        vec![CacheState::Cached { url: file }, CacheState::NotCached]
    );
}

#[test]
fn skip_cached_builds_only_what_no_cache_has() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce");
    let a = f.out_path("a");
    let good = serve(vec![route(&a, 200, narinfo(&a), Duration::ZERO)]);
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    f.config(&format!(
        "[jobs]\nsubstituters = [\"{closed}\", \"{good}\"]\n"
    ));
    let (code, json, stderr) = f.build(&["a", "b", "--skip-cached"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["summary"]["skipped"], 1, "{json}");
    assert_eq!(json["skipped"][0]["package"], "a");
    assert_eq!(json["skipped"][0]["cached_in"], good.as_str());
    assert_eq!(json["results"].as_array().unwrap().len(), 1);
    assert_eq!(result(&json, "b")["outcome"], "ok");
    assert!(stderr.contains("cached in"), "{stderr}");
    assert!(
        stderr.contains("did not answer"),
        "the dead cache is named: {stderr}"
    );
    assert!(
        !f.calls().iter().any(|c| c.contains("-a.drv")),
        "a was not built"
    );
}

/// The drv in the status store: a build is stale once the package evaluates to another drv,
/// even with its files unchanged, and not stale after an edit that leaves the drv as it was.
#[tokio::test]
async fn staleness_follows_the_drv() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("catalogrepo");
    let git = |args: &[&str]| common::git_in(&f.flake(), args);
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "fixture"]);
    let catalog = f.flake().join("catalog");
    let store = StatusStore::open_in(&catalog, &f.dir.path().join("state")).unwrap();
    let spec = JobSpec::build(
        "demo",
        Installable::new(f.flake().to_string_lossy(), "packages.x86_64-linux.demo"),
    );
    let eval_and_record = || async {
        let cancel = tokio_util::sync::CancellationToken::new();
        let specs = [spec.clone()];
        let e = evaluate::evaluate(&specs, &cancel, Duration::from_secs(5))
            .await
            .unwrap();
        atwb::jobs::engine::batch::record_evaluations(&store, &specs, &e);
        match &e.targets[0] {
            TargetEval::Drv { drv_path, .. } => drv_path.clone(),
            t @ TargetEval::Own(_) => panic!("{t:?}"),
        }
    };
    let drv = eval_and_record().await;
    assert_eq!(store.evaluation("demo").unwrap().drv_path, drv);
    // A build of that drv, as the engine records it.
    let mut run = built(&drv);
    run.fingerprint = store.fingerprint("demo");
    store.record("demo", run).unwrap();
    assert!(!store.status("demo").unwrap().stale);

    // Outside the catalog (the fingerprint does not see it): the drv changes.
    std::fs::write(f.flake().join("salt.txt"), "another salt").unwrap();
    git(&["commit", "-qam", "salt"]);
    assert!(
        !store.status("demo").unwrap().stale,
        "not known before an evaluation"
    );
    let newer = eval_and_record().await;
    assert_ne!(newer, drv);
    assert!(store.status("demo").unwrap().stale, "the drv changed");

    // Back to the built drv, then a package.toml edit that leaves the drv as it is.
    std::fs::write(f.flake().join("salt.txt"), &f.salt).unwrap();
    let toml = catalog.join("pkgs/fixtures/demo/package.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("# a comment\n{text}")).unwrap();
    git(&["commit", "-qam", "comment"]);
    assert!(
        store.status("demo").unwrap().stale,
        "files changed, no evaluation yet"
    );
    assert_eq!(eval_and_record().await, drv);
    assert!(!store.status("demo").unwrap().stale, "same drv: not stale");
}

fn built(drv: &str) -> atwb::jobs::RunRecord {
    atwb::jobs::RunRecord {
        kind: atwb::jobs::JobKind::Build,
        target: "packages.x86_64-linux.demo".into(),
        outcome: atwb::jobs::Outcome::Ok,
        failure: None,
        duration_secs: 1.0,
        finished_at: 1,
        drv_path: Some(drv.to_string()),
        out_paths: vec![],
        log_file: None,
        fingerprint: None,
    }
}

/// The engine's batch (what the TUI submits): queued at once, one evaluation, built by drv; the
/// evaluation and the outcome are in the status store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_batch_builds_by_drv_and_records_the_evaluation() {
    if !common::nix_env() {
        return;
    }
    let f = Fixture::new("evalonce");
    let store = std::sync::Arc::new(
        StatusStore::open_in(f.dir.path(), &f.dir.path().join("state")).unwrap(),
    );
    let mut cfg = atwb::jobs::EngineConfig::new(f.dir.path().join("state/logs"));
    cfg.store = Some(store.clone());
    cfg.substituters = Some(Vec::new());
    let engine = atwb::jobs::Engine::new(cfg);
    let mut rx = engine.subscribe_lifecycle();
    let flake = f.flake().to_string_lossy().into_owned();
    let specs: Vec<JobSpec> = ["a", "broken", "b"]
        .iter()
        .map(|n| JobSpec::build(*n, Installable::new(flake.clone(), *n)))
        .collect();
    let ids = engine.submit_batch(specs);
    assert_eq!(engine.jobs().len(), 3, "all queued at once");
    let mut results = std::collections::HashMap::new();
    while results.len() < ids.len() {
        let ev = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("the batch finishes")
            .unwrap();
        if let atwb::jobs::JobEvent::Finished(r) = ev {
            results.insert(r.spec.package.clone(), r);
        }
    }
    for p in ["a", "b"] {
        let r = &results[p];
        assert_eq!(r.outcome, atwb::jobs::Outcome::Ok, "{r:?}");
        let drv = r.spec.drv.as_deref().expect("built by drv");
        assert_eq!(r.drv_path.as_deref(), Some(drv));
        assert_eq!(store.evaluation(p).unwrap().drv_path, drv);
        assert!(!store.status(p).unwrap().stale);
    }
    let broken = &results["broken"];
    assert_eq!(broken.outcome, atwb::jobs::Outcome::Failed);
    assert!(broken.spec.drv.is_none());
    assert!(store.evaluation("broken").is_none());
}

#[test]
fn builds_answer_the_build_hook_themselves_only_with_no_remote_builder() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce");
    let (code, json, stderr) = f.build(&["a", "b"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(result(&json, "a")["outcome"], "ok", "{json}");
    let link = f.dir.path().join("xdg-state/atwb/bin/atwb-nix-build-hook");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::path::Path::new(env!("CARGO_BIN_EXE_atwb"))
    );
    let builds: Vec<_> = f
        .calls()
        .into_iter()
        .filter(|c| c.contains(" build "))
        .collect();
    assert_eq!(builds.len(), 2, "{builds:#?}");
    let option = format!("--option build-hook {}", link.display());
    assert!(builds.iter().all(|c| c.contains(&option)), "{builds:#?}");

    // A remote builder in atwb's config: nix's own hook decides (this one declines, as the
    // machine is for another system, and the build runs here).
    let f = Fixture::new("evalonce");
    f.config("[jobs]\nbuilders = \"ssh://nobody@127.0.0.1 aarch64-linux\"\n");
    let (code, json, stderr) = f.build(&["a"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(result(&json, "a")["outcome"], "ok", "{json}");
    let calls = f.calls();
    assert!(
        !calls.iter().any(|c| c.contains("build-hook")),
        "{calls:#?}"
    );
    assert!(calls.iter().any(|c| c.contains("--builders")), "{calls:#?}");
}
