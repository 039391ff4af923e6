//! Asking the binary caches without building, with real nix and a real HTTP substituter on
//! 127.0.0.1: `atwb cache` (rows for cached, not cached and a target that throws), the answer
//! kept in the status store for `show`/`list --json` while the package is unchanged, and the
//! TUI's key through the engine to a ☁ on a package that was never built.

mod common;
mod http_stub;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use http_stub::{Response, serve};

/// A narinfo for `out` when it is one of `cached`, else 404.
fn substituter(cached: Vec<String>) -> http_stub::Stub {
    serve(move |req| {
        let hit = cached.iter().find(|p| {
            let hash = atwb::jobs::cache::hash_part(p).unwrap();
            req.path == format!("/{hash}.narinfo")
        });
        match hit {
            Some(p) => Response {
                status: 200,
                body: format!("StorePath: {p}\nURL: nar/x.nar.xz\nCompression: xz\n").into_bytes(),
                ..Response::default()
            },
            None => Response {
                status: 404,
                ..Response::default()
            },
        }
    })
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// `name` from tests/fixtures/flakes, salted (fresh store paths each run); with `git`, a
    /// committed git repository (nix then sees only tracked files, as in the real repository).
    fn new(name: &str, git: bool) -> Fixture {
        let (dir, _) = common::salted_flake(name, "atwb-cachecheck-");
        let f = Fixture { dir };
        if git {
            f.commit("fixture");
        }
        f
    }

    fn flake(&self) -> PathBuf {
        self.dir.path().join("flake")
    }

    fn commit(&self, message: &str) {
        common::commit_all(&self.flake(), message);
    }

    /// `ghost`, a catalog package (a copy of `broken`) the fixture flake has no attribute for,
    /// committed; returns its package.toml.
    fn add_ghost(&self) -> std::path::PathBuf {
        let root = self.flake().join("catalog");
        let toml = root.join("pkgs/other/ghost/package.toml");
        let broken = std::fs::read_to_string(root.join("pkgs/other/broken/package.toml")).unwrap();
        std::fs::create_dir_all(toml.parent().unwrap()).unwrap();
        std::fs::write(
            &toml,
            broken.replace("name = \"broken\"", "name = \"ghost\""),
        )
        .unwrap();
        self.commit("a package the flake does not build");
        toml
    }

    fn substituters(&self, urls: &[&str]) {
        let dir = self.dir.path().join("xdg-config/atwb");
        std::fs::create_dir_all(&dir).unwrap();
        let list: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
        let text = format!("[jobs]\nsubstituters = [{}]\n", list.join(", "));
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }

    fn atwb(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
            .args(args)
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("NIX_CONFIG", common::NIX_CONFIG)
            .env_remove("ATWB_CATALOG")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn out_path(&self, attr: &str) -> String {
        common::out_path(&self.flake(), attr)
    }
}

/// A real engine recording into `store` and the TUI's effects on it, as the TUI runs them.
struct Tui {
    _engine: atwb::jobs::Engine,
    events: tokio::sync::mpsc::Receiver<atwb::jobs::JobEvent>,
    effects: atwb::tui::effects::Effects,
    feedback: tokio::sync::mpsc::UnboundedReceiver<atwb::tui::action::Feedback>,
}

impl Fixture {
    fn tui(
        &self,
        store: &std::sync::Arc<atwb::jobs::StatusStore>,
        root: &Path,
        substituters: Vec<String>,
    ) -> Tui {
        let mut cfg = atwb::jobs::EngineConfig::new(self.dir.path().join("state/logs"));
        cfg.store = Some(store.clone());
        cfg.substituters = Some(substituters);
        let engine = atwb::jobs::Engine::new(cfg);
        let events = engine.subscribe();
        let (tx, feedback) = tokio::sync::mpsc::unbounded_channel();
        let effects = atwb::tui::effects::Effects::new(
            engine.handle(),
            store.clone(),
            root.to_path_buf(),
            Ok(self.flake().display().to_string()),
            tx,
        );
        Tui {
            _engine: engine,
            events,
            effects,
            feedback,
        }
    }
}

/// The app drawn on a `width` x `height` test terminal.
fn screen(app: &atwb::tui::App, width: u16, height: u16) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    term.draw(|frame| atwb::tui::views::draw(frame, app))
        .unwrap();
    format!("{}", term.backend())
}

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn row<'a>(rows: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
}

#[test]
fn cache_rows_for_cached_not_cached_and_a_target_that_throws() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("evalonce", false);
    let a = f.out_path("a");
    let b = f.out_path("b");
    let cache = substituter(vec![a.clone()]);
    f.substituters(&[&cache.base]);
    let flake = f.flake().display().to_string();
    let (code, stdout, stderr) =
        f.atwb(&["cache", "--flake", &flake, "a", "b", "broken", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let rows = lines(&stdout);
    assert_eq!(rows.len(), 3, "{stdout}");
    let ra = row(&rows, "a");
    assert_eq!(ra["cached"], true, "{ra}");
    assert_eq!(ra["cache_url"], cache.base.as_str());
    assert_eq!(ra["out_path"], a.as_str());
    let rb = row(&rows, "b");
    assert_eq!(rb["cached"], false, "{rb}");
    assert_eq!(rb["state"], "not_cached");
    assert!(rb["cache_url"].is_null());
    assert_eq!(rb["out_path"], b.as_str());
    let broken = row(&rows, "broken");
    assert_eq!(broken["state"], "eval_error", "{broken}");
    assert!(broken["cached"].is_null());
    let why = broken["why"].as_str().unwrap();
    assert!(why.contains("broken is marked as broken"), "{why}");
    // Both evaluated outputs were asked about, and nothing was built.
    let seen: Vec<String> = cache
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    for p in [&a, &b] {
        let hash = atwb::jobs::cache::hash_part(p).unwrap();
        assert!(seen.contains(&format!("/{hash}.narinfo")), "{seen:?}");
    }
    assert!(
        !Path::new(&a).exists() && !Path::new(&b).exists(),
        "nothing is built"
    );

    // The table says the same.
    let (code, stdout, stderr) = f.atwb(&["cache", "--flake", &flake, "a", "b", "broken"]);
    assert_eq!(code, Some(0), "{stderr}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
            .to_string()
    };
    assert!(
        line("a").contains("yes") && line("a").contains(&cache.base),
        "{stdout}"
    );
    assert!(
        line("b").contains(" no ") && line("b").contains(&b),
        "{stdout}"
    );
    assert!(
        line("broken").contains("evaluation error: broken is marked"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 cached, 1 not cached, 1 evaluation error"),
        "{stderr}"
    );
}

/// The answer is recorded: `show --json` and `list --json` carry it for a package never built,
/// until its files change.
#[test]
fn the_answer_is_kept_while_the_package_is_unchanged() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("catalogrepo", true);
    let demo = f.out_path("demo");
    let cache = substituter(vec![demo.clone()]);
    f.substituters(&[&cache.base]);
    let catalog = f.flake().join("catalog").display().to_string();
    let (code, stdout, stderr) = f.atwb(&["cache", "--catalog", &catalog, "demo", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        lines(&stdout)[0]["cache_url"],
        cache.base.as_str(),
        "{stdout}"
    );

    let (code, stdout, stderr) = f.atwb(&["show", "--catalog", &catalog, "demo", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(shown["last_build"].is_null(), "never built: {shown}");
    assert_eq!(shown["cache"]["state"], "cached", "{shown}");
    assert_eq!(shown["cache"]["url"], cache.base.as_str());
    assert_eq!(shown["cache"]["out_paths"][0], demo.as_str());
    assert_eq!(shown["cache"]["substituters"][0], cache.base.as_str());
    let (_, stdout, _) = f.atwb(&["list", "--catalog", &catalog, "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let item = listed.iter().find(|p| p["name"] == "demo").unwrap();
    assert_eq!(item["cache"]["state"], "cached", "{item}");

    // A change to the package: the old answer is about another evaluation, so unknown.
    let toml = f.flake().join("catalog/pkgs/fixtures/demo/package.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("# a comment\n{text}")).unwrap();
    f.commit("comment");
    let (_, stdout, _) = f.atwb(&["show", "--catalog", &catalog, "demo", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["cache"]["state"], "unknown", "{shown}");
}

/// `atwb cache` on a package that does not evaluate keeps nix's message; `show` says so (text and
/// JSON) until the package changes.
#[test]
fn show_says_the_last_ask_could_not_evaluate() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("catalogrepo", true);
    let toml = f.add_ghost();
    let root = f.flake().join("catalog");
    f.substituters(&[]);
    let catalog = root.display().to_string();
    let (_, stdout, stderr) = f.atwb(&["cache", "--catalog", &catalog, "ghost", "--json"]);
    let row = &lines(&stdout)[0];
    assert_eq!(row["state"], "eval_error", "{stdout}{stderr}");

    let (code, stdout, stderr) = f.atwb(&["show", "--catalog", &catalog, "ghost", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["cache"]["state"], "unknown", "{shown}");
    let kept = shown["cache_failure"]["error"].as_str().unwrap();
    assert!(kept.starts_with("error"), "{shown}");
    let (_, text, _) = f.atwb(&["show", "--catalog", &catalog, "ghost"]);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("cache"))
        .unwrap();
    assert!(
        line.contains("the last ask could not evaluate it: ")
            && line.ends_with("(`atwb cache ghost` asks again)"),
        "{line}"
    );

    let body = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("# a comment\n{body}")).unwrap();
    let (_, stdout, _) = f.atwb(&["show", "--catalog", &catalog, "ghost", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        shown.get("cache_failure").is_none(),
        "stale after an edit: {shown}"
    );
}

/// The TUI's key, the engine's check and its events, folded into the state and drawn: `p` on a
/// package never built gives the command, the engine evaluates and asks, and the tree shows ☁.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_key_runs_through_the_engine_to_a_cloud_in_the_tree() {
    if !common::require_tool("nix") {
        return;
    }
    // SAFETY: this test binary sets NIX_CONFIG to the same value wherever it does.
    unsafe { std::env::set_var("NIX_CONFIG", common::NIX_CONFIG) };
    let f = Fixture::new("catalogrepo", true);
    let demo = f.out_path("demo");
    let cache = substituter(vec![demo]);
    let root = f.flake().join("catalog");
    let loaded = atwb::catalog::load(&root).unwrap();
    let mut app = atwb::tui::App::new(
        loaded.catalog,
        "catalog/".into(),
        0,
        atwb::tui::KeyMap::default(),
    );
    atwb::tui::update(
        &mut app,
        atwb::tui::Action::Resize {
            width: 100,
            height: 30,
        },
    );
    let at = app
        .rows
        .iter()
        .position(|r| matches!(r, atwb::tui::app::Row::Package { index } if app.catalog.packages[*index].name == "demo"))
        .unwrap();
    app.selected = at;
    let commands = atwb::tui::update(&mut app, atwb::tui::Action::CheckCache);
    assert_eq!(
        commands,
        vec![atwb::tui::Command::CheckCaches(vec!["demo".into()])]
    );

    let store = std::sync::Arc::new(
        atwb::jobs::StatusStore::open_in(&root, &f.dir.path().join("state")).unwrap(),
    );
    let Tui {
        _engine,
        mut events,
        effects,
        ..
    } = f.tui(&store, &root, vec![cache.base.clone()]);
    let draw = |app: &atwb::tui::App| screen(app, 100, 30);
    assert!(!draw(&app).contains('☁'), "nothing known before the check");
    effects.check_caches(&["demo".to_string()]);
    let (saw_stage, refresh) = until_the_check_ends(&mut events, &mut app).await;
    assert!(saw_stage, "the status bar had the check's progress");
    assert!(app.cache_check.is_none());
    assert_eq!(
        refresh,
        vec![atwb::tui::Command::RefreshStatus(vec!["demo".into()])]
    );
    assert_eq!(app.caches["demo"].cached_in(), Some(cache.base.as_str()));
    // Recorded for the next start, too.
    assert_eq!(
        store.cache_status("demo").unwrap().cached_in(),
        Some(cache.base.as_str())
    );
    let screen = draw(&app);
    let tree_line = screen
        .lines()
        .find(|l| l.contains("◌ demo"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        tree_line.contains("demo ☁"),
        "never built, and cached: {screen}"
    );
    assert!(
        screen.contains(&format!("☁ cached ({}", cache.base)),
        "{screen}"
    );
}

/// The TUI's state on the catalog at `root`, `width`x`height`, with `name` selected.
fn catalog_app(root: &Path, name: &str, width: u16, height: u16) -> atwb::tui::App {
    let loaded = atwb::catalog::load(root).unwrap();
    let mut app = atwb::tui::App::new(
        loaded.catalog,
        "catalog/".into(),
        0,
        atwb::tui::KeyMap::default(),
    );
    atwb::tui::update(&mut app, atwb::tui::Action::Resize { width, height });
    app.selected = app
        .rows
        .iter()
        .position(|r| matches!(r, atwb::tui::app::Row::Package { index } if app.catalog.packages[*index].name == name))
        .unwrap();
    app
}

/// Folds the engine's events into `app` until the cache check ends: whether the status bar had
/// the check's progress meanwhile, and the commands the last event gave.
async fn until_the_check_ends(
    events: &mut tokio::sync::mpsc::Receiver<atwb::jobs::JobEvent>,
    app: &mut atwb::tui::App,
) -> (bool, Vec<atwb::tui::Command>) {
    let mut saw_stage = false;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(120), events.recv())
            .await
            .expect("the check ends")
            .unwrap();
        let done = matches!(
            &ev,
            atwb::jobs::JobEvent::CacheCheck { event, .. }
                if matches!(**event, atwb::jobs::cache_check::CheckEvent::Done(_))
        );
        let commands = atwb::tui::update::on_job_event(app, ev);
        if done {
            return (saw_stage, commands);
        }
        saw_stage |= app.cache_check.is_some();
    }
}

/// A check that cannot evaluate a package (the flake has no attribute for it) is kept in the
/// status store and drawn in the detail pane with nix's message, instead of "p asks the
/// caches"; an edit of its package.toml makes it stale, and the refresh that follows brings the
/// plain unknown back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_is_kept_and_shown_until_the_package_changes() {
    if !common::require_tool("nix") {
        return;
    }
    // SAFETY: this test binary sets NIX_CONFIG to the same value wherever it does.
    unsafe { std::env::set_var("NIX_CONFIG", common::NIX_CONFIG) };
    let f = Fixture::new("catalogrepo", true);
    let ghost = f.add_ghost();
    let root = f.flake().join("catalog");
    let mut app = catalog_app(&root, "ghost", 140, 40);
    let store = std::sync::Arc::new(
        atwb::jobs::StatusStore::open_in(&root, &f.dir.path().join("state")).unwrap(),
    );
    let Tui {
        _engine,
        mut events,
        effects,
        mut feedback,
    } = f.tui(&store, &root, Vec::new());
    let cache_line = |app: &atwb::tui::App| {
        let screen = screen(app, 140, 40);
        let at = screen.find("cache  ").unwrap_or_else(|| panic!("{screen}"));
        screen[at..].lines().next().unwrap().to_string()
    };
    assert!(cache_line(&app).contains("unknown · p asks the caches"));

    let commands = atwb::tui::update(&mut app, atwb::tui::Action::CheckCache);
    assert_eq!(
        commands,
        vec![atwb::tui::Command::CheckCaches(vec!["ghost".into()])]
    );
    effects.check_caches(&["ghost".to_string()]);
    until_the_check_ends(&mut events, &mut app).await;
    let kept = store
        .cache_failure("ghost")
        .expect("the failure is recorded");
    assert!(
        kept.error.contains("ghost") && kept.error.starts_with("error"),
        "nix's message: {kept:?}"
    );
    app.unix_now = kept.at + 5;
    let line = cache_line(&app);
    assert!(
        line.contains("unknown · the last ask failed 5s ago: "),
        "{line}"
    );
    assert!(!line.contains("p asks the caches"), "{line}");
    // The next start reads it from the file.
    let again = atwb::jobs::StatusStore::open_in(&root, &f.dir.path().join("state")).unwrap();
    assert_eq!(again.cache_failure("ghost"), Some(kept));

    // An edit of the package: stale, and the refresh forgets it in the TUI too.
    std::fs::write(
        &ghost,
        format!("# a comment\n{}", std::fs::read_to_string(&ghost).unwrap()),
    )
    .unwrap();
    assert_eq!(store.cache_failure("ghost"), None);
    effects.refresh_statuses(vec!["ghost".into()]);
    loop {
        let fb = tokio::time::timeout(Duration::from_secs(30), feedback.recv())
            .await
            .expect("the refresh answers")
            .unwrap();
        let last = matches!(fb, atwb::tui::action::Feedback::CacheFailures(_));
        atwb::tui::update::on_feedback(&mut app, fb);
        if last {
            break;
        }
    }
    let line = cache_line(&app);
    assert!(line.contains("unknown · p asks the caches"), "{line}");
}
