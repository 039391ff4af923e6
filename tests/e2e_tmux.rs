//! End-to-end tests of the real `atwb` binary in tmux (harness: `common::tmux`, one private
//! tmux server per test, polling of the screen instead of sleeps).
//!
//! Needs tmux: skipped with a printed reason when it is missing, a failure under `CI=true`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::tmux::{Pane, Tmux, quote, quote_str};

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const DEADLINE: Duration = Duration::from_secs(10);
const PANE: Pane = Pane {
    cols: 120,
    rows: 30,
    deadline: DEADLINE,
};

/// `atwb` on the TUI fixture catalog (see [`start_in`]).
fn start(env: &[(&str, &str)], config: Option<&str>) -> Option<Tmux> {
    let fixture = common::repo_root().join("tests/fixtures/tui-catalog");
    start_in(&fixture, env, config)
}

/// `atwb --catalog <catalog>` in a 120x30 pane (see `common::tmux`).
fn start_in(catalog: &Path, env: &[(&str, &str)], config: Option<&str>) -> Option<Tmux> {
    Tmux::start(&PANE, catalog, env, config)
}

const TREE_READY: &str = "◌ constellation";

#[test]
fn tree_and_detail_show() {
    let Some(t) = start(&[], None) else {
        return;
    };
    t.wait_all(&[
        "▾ Tier 1 · foundation (4)",
        TREE_READY,
        "▾ Tier 3 · specialized (1)",
        "status    ◌ never built",
        "7/7 shown",
    ]);
    assert_eq!(
        t.modes(),
        (true, false, true),
        "alternate screen, hidden cursor, mouse capture while running"
    );
    t.key("q");
    t.wait_text("[exit 0]");
}

#[test]
fn typing_a_search_filters_and_escape_clears() {
    let Some(t) = start(&[], None) else {
        return;
    };
    t.wait_all(&[TREE_READY, "q quit"]);
    t.key("/");
    t.wait_all(&["/▏", "esc clear"]);
    t.type_text("relay");
    t.wait_for("the filtered tree and detail", |s| {
        s.contains("/relay▏  1 match")
            && s.contains("◌ rsky-relay")
            && !s.contains("slingshot")
            && s.contains("Relay that aggregates repository event streams")
            && s.contains("1/7 shown")
    });
    t.key("Enter");
    t.wait_all(&["/relay  1 match", "q quit"]);
    t.key("Escape");
    t.wait_for("the full tree again", |s| {
        s.contains("7/7 shown") && s.contains("◌ slingshot") && !s.contains("/relay")
    });
    t.key("q");
    t.wait_text("[exit 0]");
}

#[test]
fn question_mark_shows_the_help_from_the_live_keymap() {
    let config = "[keys.main]\n\"x\" = \"quit\"\n\"q\" = \"none\"\n";
    let Some(t) = start(&[], Some(config)) else {
        return;
    };
    t.wait_all(&[TREE_READY, "x quit"]);
    t.key("?");
    let screen = t.wait_all(&["[keys.main]", "fuzzy search", "toggle help", "force_quit"]);
    // The remapped key is listed with its action, and `q` no longer is.
    assert!(
        screen
            .lines()
            .any(|l| l.contains("│  x ") && l.contains("quit")),
        "{screen}"
    );
    assert!(
        !screen
            .lines()
            .any(|l| l.contains("│  q ") && l.contains("quit")),
        "{screen}"
    );
    t.key("Escape");
    t.wait_for("help closed", |s| {
        !s.contains("[keys.main]") && s.contains("x quit")
    });
    t.key("x");
    t.wait_text("[exit 0]");
    t.assert_restored();
}

#[test]
fn q_exits_zero_and_restores_the_terminal() {
    let Some(t) = start(&[], None) else {
        return;
    };
    t.wait_all(&[TREE_READY, "q quit"]);
    t.key("q");
    let screen = t.wait_text("[exit 0]");
    t.assert_restored();
    // Tracing went to the XDG state dir, not to the terminal.
    let log = std::fs::read_to_string(t.home.path().join("state/atwb/atwb.log")).unwrap();
    assert!(log.contains("tui start"), "{log}");
    assert!(!screen.contains("INFO"), "{screen}");
}

#[test]
fn ctrl_c_quits_even_while_searching() {
    let Some(t) = start(&[], None) else {
        return;
    };
    t.wait_all(&[TREE_READY, "q quit"]);
    t.key("/");
    t.wait_all(&["/▏", "esc clear"]);
    t.key("C-c");
    t.wait_text("[exit 0]");
    t.assert_restored();
}

#[test]
fn resize_switches_to_the_narrow_layout() {
    let Some(t) = start(&[], None) else {
        return;
    };
    t.wait_all(&[TREE_READY, "status    ◌ never built", "q quit"]);
    let resized = t
        .cmd()
        .args(["resize-window", "-t", "app", "-x", "50", "-y", "20"])
        .status()
        .unwrap();
    assert!(resized.success());
    let screen = t.wait_for("narrow layout", |s| {
        !s.contains("status    ◌ never built") && s.contains("◌ goat") && s.contains("7/7 shown")
    });
    assert!(screen.lines().all(|l| l.chars().count() <= 50), "{screen}");
    t.key("Tab");
    t.wait_all(&["version   0-unstable", "7/7 shown"]);
    t.key("q");
    t.wait_text("[exit 0]");
}

#[test]
fn a_bad_keymap_is_reported_before_the_terminal_changes_mode() {
    let Some(t) = start(&[], Some("[keys.main]\n\"x\" = \"qiut\"\n")) else {
        return;
    };
    let screen = t.wait_text("[exit 2]");
    assert!(
        screen.contains("unknown action `qiut`") && screen.contains("did you mean `quit`"),
        "{screen}"
    );
    assert!(screen.contains("config.toml"), "{screen}");
    t.assert_restored();
}

/// `ATWB_TEST_PANIC=1` is honoured by debug builds only (see `src/tui/mod.rs`).
#[test]
fn a_panic_restores_the_terminal() {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: ATWB_TEST_PANIC only exists in debug builds");
        return;
    }
    let Some(t) = start(&[("ATWB_TEST_PANIC", "1")], None) else {
        return;
    };
    let screen = t.wait_text("[exit 101]");
    assert!(
        screen.contains("ATWB_TEST_PANIC: deliberate panic"),
        "{screen}"
    );
    t.assert_restored();
}

/// A temp copy of the TUI fixture flake (fresh salt, so nix really builds) and of a two-package
/// catalog (`demo` streams 30 lines over ~2 s, `broken` fails), and a config pointing at them.
struct BuildFixture {
    dir: tempfile::TempDir,
    salt: String,
}

impl BuildFixture {
    fn new() -> BuildFixture {
        BuildFixture::with_flake("tui")
    }

    /// The catalog of `catalogrepo` built from the fixture flake `flakes/<flake>`.
    fn with_flake(flake: &str) -> BuildFixture {
        let dir = tempfile::tempdir().unwrap();
        let root = common::repo_root().join("tests/fixtures");
        common::copy_dir(&root.join("flakes").join(flake), &dir.path().join("flake"));
        common::copy_dir(
            &root.join("flakes/catalogrepo/catalog"),
            &dir.path().join("catalog"),
        );
        let salt = format!(
            "atwb-tui-e2e-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        std::fs::write(dir.path().join("flake/salt.txt"), &salt).unwrap();
        BuildFixture { dir, salt }
    }

    fn catalog(&self) -> std::path::PathBuf {
        self.dir.path().join("catalog")
    }

    fn config(&self) -> String {
        format!(
            "[jobs]\nflake = \"path:{}\"\n",
            self.dir.path().join("flake").display()
        )
    }

    fn start(&self) -> Option<Tmux> {
        self.start_with(&[])
    }

    fn start_with(&self, env: &[(&str, &str)]) -> Option<Tmux> {
        // Before tmux: under CI=true a missing nix must fail, not skip.
        if !common::require_tool("nix") {
            return None;
        }
        let nix_config = quote_str(common::NIX_CONFIG);
        let mut vars = vec![("NIX_CONFIG", nix_config.as_str())];
        vars.extend_from_slice(env);
        start_in(&self.catalog(), &vars, Some(&self.config()))
    }

    /// No builder of this fixture (its command line holds the salt) is alive after the short
    /// settling time SIGKILL needs.
    fn assert_no_builder_left(&self) {
        assert_eq!(
            common::leftover_processes(&self.salt),
            Vec::<String>::new(),
            "builder left running"
        );
    }

    /// This fixture's builders running right now.
    fn running_builders(&self) -> Vec<String> {
        common::live_processes_with(&self.salt)
    }
}

/// A build started from the TUI with `b` streams its lines live into the log
/// view and ends with its status in the tree; a failing build shows ✘ and its error class.
/// Real nix, real builders (fixture flake, builder /bin/sh).
#[test]
fn a_build_started_with_b_streams_live_and_ends_with_its_status() {
    let fx = BuildFixture::new();
    let Some(t) = fx.start() else {
        return;
    };
    t.wait_all(&["◌ demo", "◌ broken", "◌ 2 never", "q quit"]);
    // demo is the last line of the tree.
    t.key("G");
    t.wait_all(&["demo  fixtures · tier 3", "status    ◌ never built"]);
    t.key("b");
    t.wait_all(&["⟳ demo", "⟳ 1 building"]);
    t.key("L");
    // Lines arrive while the build still runs: the view says so and has not seen the last one.
    let screen = t.wait_all(&["demo #1", "live", "⟳ running", "demo step 3 of 30"]);
    assert!(!screen.contains("demo step 30 of 30"), "{screen}");
    let mid = t.wait_all(&["live", "demo step 12 of 30"]);
    assert!(
        !mid.contains("demo step 30 of 30"),
        "streamed, not dumped at the end: {mid}"
    );
    // Then it ends: the header says ok and the last line is there.
    t.wait_all(&["✔ ok", "demo step 30 of 30"]);
    t.key("q");
    t.wait_all(&["✔ demo", "✔ 1 ok", "status    ✔ ok", "history"]);

    // The failing package: top of the tree, then tier 2 -> other -> broken.
    t.key("g");
    t.key("j");
    t.key("j");
    t.wait_all(&["broken  other · tier 2"]);
    t.key("b");
    t.wait_all(&[
        "✘ broken",
        "✘ 1 failed",
        "status    ✘ failed · builder failed",
    ]);
    t.key("Enter"); // a package with a log: Enter opens it
    t.wait_all(&["✘ builder failed", "error: this fixture fails on purpose"]);
    t.key("e");
    t.wait_all(&["✘ builder failed", "error: this fixture fails on purpose"]);
    t.key("q");
    t.key("q");
    t.wait_text("[exit 0]");
    t.assert_restored();
    fx.assert_no_builder_left();
}

/// `q` while a build runs asks first; yes cancels it, and no builder is left running.
#[test]
fn q_with_a_running_build_asks_then_cancels_it() {
    let fx = BuildFixture::new();
    let Some(t) = fx.start() else {
        return;
    };
    t.wait_all(&["◌ demo", "q quit"]);
    t.key("G");
    t.key("b");
    t.wait_all(&["⟳ demo", "⟳ 1 building"]);
    // Wait until the builder itself runs (its salt is on its command line).
    let start = Instant::now();
    while fx.running_builders().is_empty() {
        assert!(start.elapsed() < DEADLINE, "the builder never started");
        std::thread::sleep(Duration::from_millis(25));
    }
    t.key("q");
    t.wait_all(&["1 job is still running or queued", "y yes"]);
    t.key("y");
    t.wait_text("[exit 0]");
    t.assert_restored();
    fx.assert_no_builder_left();
}

/// A fixed-output hash mismatch shows its `got:` hash, `f` writes it
/// into package.toml (format kept) and offers a rebuild, `y` rebuilds, until the build is ✔.
/// Real nix: the flake of tests/fixtures/flakes/hashfix reads the hashes from the catalog beside
/// it; the catalog is the valid two-package one of `catalogrepo` (demo's hashes are wrong).
#[test]
fn f_fixes_a_hash_mismatch_and_the_rebuild_succeeds() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flake = dir.path().join("flake");
    let fixtures = common::repo_root().join("tests/fixtures/flakes");
    std::fs::create_dir_all(&flake).unwrap();
    std::fs::copy(fixtures.join("hashfix/flake.nix"), flake.join("flake.nix")).unwrap();
    common::copy_dir(
        &fixtures.join("catalogrepo/catalog"),
        &flake.join("catalog"),
    );
    let salt = format!(
        "atwb-tui-fix-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    std::fs::write(flake.join("salt.txt"), &salt).unwrap();
    let catalog = flake.join("catalog");
    let toml = catalog.join("pkgs/fixtures/demo/package.toml");
    let before = std::fs::read_to_string(&toml).unwrap();
    let config = format!("[jobs]\nflake = \"path:{}\"\n", flake.display());
    let Some(t) = start_in(
        &catalog,
        &[("NIX_CONFIG", &quote_str(common::NIX_CONFIG))],
        Some(&config),
    ) else {
        return;
    };
    t.wait_all(&["◌ demo", "◌ broken", "q quit"]);
    t.key("G");
    t.wait_all(&["demo  fixtures · tier 3", "status    ◌ never built"]);
    t.key("b");
    // Two wrong hashes (source, then the vendored deps): one mismatch per build.
    for round in 0..2 {
        let screen = t.wait_all(&["✘ demo", "hash mismatch", "got sha256-", "f fixes"]);
        let got = screen
            .lines()
            .find_map(|l| l.split("got sha256-").nth(1))
            .map(|rest| format!("sha256-{}", rest.split_whitespace().next().unwrap()))
            .unwrap();
        t.key("f");
        t.wait_all(&["Confirm", "now?", "y yes"]);
        let written = std::fs::read_to_string(&toml).unwrap();
        assert!(
            written.contains(&got),
            "round {round}: {got} not in\n{written}"
        );
        t.key("y");
        t.wait_all(&["⟳ demo"]);
    }
    t.wait_all(&["✔ demo", "status    ✔ ok"]);
    let fixed = std::fs::read_to_string(&toml).unwrap();
    assert!(!fixed.contains("\"unknown\""), "{fixed}");
    // Only the hash fields (and the source's provenance) changed.
    let changed: Vec<&str> = fixed
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .collect();
    assert!(
        changed.iter().all(|l| l.starts_with("hash = ")
            || l.starts_with("deps_hash = ")
            || l.starts_with("verified = ")
            || l.starts_with("provenance = ")),
        "{changed:?}"
    );
    t.key("q");
    t.wait_text("[exit 0]");
}

/// `E` hands the terminal to `$EDITOR` on the selected package.toml and takes it back; the
/// catalog is reloaded, so the edit shows at once.
#[test]
fn e_edits_package_toml_in_the_editor_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/flakes/catalogrepo/catalog"),
        &catalog,
    );
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^description = .*/description = \"Edited in the editor\"/' \"$1\"\necho \"$1\" > \"$(dirname \"$0\")/edited\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let editor_var = quote(&editor);
    let Some(t) = start_in(&catalog, &[("EDITOR", &editor_var), ("VISUAL", "")], None) else {
        return;
    };
    t.wait_all(&["◌ demo", "q quit"]);
    t.key("G");
    t.wait_all(&[
        "demo  fixtures · tier 3",
        "Fixture package for the build command tests",
    ]);
    t.key("E");
    t.wait_all(&["demo  fixtures · tier 3", "Edited in the editor", "q quit"]);
    let edited = std::fs::read_to_string(dir.path().join("edited")).unwrap();
    assert!(
        edited
            .trim_end()
            .ends_with("pkgs/fixtures/demo/package.toml"),
        "{edited}"
    );
    assert_eq!(
        t.modes(),
        (true, false, true),
        "the UI has the terminal back"
    );
    t.key("q");
    t.wait_text("[exit 0]");
    t.assert_restored();
}

/// A panic while a build runs still stops nix (no builder left) and restores the terminal.
#[test]
fn a_panic_during_a_build_stops_nix_and_restores_the_terminal() {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: ATWB_TEST_PANIC only exists in debug builds");
        return;
    }
    let fx = BuildFixture::new();
    let Some(t) = fx.start_with(&[("ATWB_TEST_PANIC", "running")]) else {
        return;
    };
    t.wait_all(&["◌ demo", "q quit"]);
    t.key("G");
    t.key("b");
    let screen = t.wait_text("[exit 101]");
    assert!(
        screen.contains("deliberate panic while a build runs"),
        "{screen}"
    );
    t.assert_restored();
    fx.assert_no_builder_left();
}

/// The pid of the atwb process (not its `sh` wrapper) that runs on `catalog`.
fn atwb_pid(catalog: &Path) -> u32 {
    let binary = env!("CARGO_BIN_EXE_atwb");
    let catalog = catalog.to_string_lossy();
    let found: Vec<u32> = common::live_processes_with(&catalog)
        .iter()
        .filter_map(|p| {
            let (pid, cmd) = p.split_once(": ")?;
            cmd.starts_with(&format!("{binary} "))
                .then(|| pid.parse().ok())?
        })
        .collect();
    assert_eq!(found.len(), 1, "one atwb on {catalog}: {found:?}");
    found[0]
}

/// The status store of the only catalog a test's HOME has state for.
fn status_store(home: &Path, catalog: &Path) -> atwb::jobs::StatusStore {
    let state = std::fs::read_dir(home.join("state/atwb/catalogs"))
        .unwrap()
        .next()
        .expect("a catalog state directory")
        .unwrap()
        .path();
    atwb::jobs::StatusStore::open_in(catalog, &state).unwrap()
}

/// SIGTERM, SIGHUP or SIGQUIT while a build runs behave as Ctrl-c: the build is cancelled (no
/// builder left, recorded as cancelled, its log lines on disk), the terminal is restored, and atwb
/// exits with 128 + the signal's number, as a shell reports a process killed by it.
fn a_signal_during_a_build_cancels_restores_and_records(signal: libc::c_int) {
    let fx = BuildFixture::with_flake("endless");
    let Some(t) = fx.start() else {
        return;
    };
    t.wait_all(&["◌ demo", "q quit"]);
    t.key("G");
    t.wait_all(&["demo  fixtures · tier 3"]);
    t.key("b");
    t.wait_all(&["⟳ demo", "⟳ 1 building"]);
    let start = Instant::now();
    while fx.running_builders().is_empty() {
        assert!(start.elapsed() < DEADLINE, "the builder never started");
        std::thread::sleep(Duration::from_millis(25));
    }
    // The burst has reached atwb (its log view shows it; a running builder alone does not
    // say nix forwarded its lines yet, which under load it had not).
    t.key("L");
    t.wait_text("demo burst 3 of 3");
    let pid = atwb_pid(&fx.catalog());
    // SAFETY: a plain kill(2) of a process this test started (through tmux).
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
    let screen = t.wait_text(&format!("[exit {}]", 128 + signal));
    t.assert_restored();
    // The shell has the screen back: its line is on the normal screen, not the UI's frame.
    assert!(!screen.contains("q quit"), "{screen}");
    fx.assert_no_builder_left();
    let demo = status_store(t.home.path(), &fx.catalog())
        .status("demo")
        .expect("the cancelled run is recorded");
    assert_eq!(demo.last.outcome, atwb::jobs::Outcome::Cancelled);
    let log = demo.last.log_file.expect("the run has a log file");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("demo burst 3 of 3"),
        "{}: {text}",
        log.display()
    );
}

#[test]
fn sigterm_during_a_build_cancels_it_and_restores_the_terminal() {
    a_signal_during_a_build_cancels_restores_and_records(libc::SIGTERM);
}

#[test]
fn sighup_during_a_build_cancels_it_and_restores_the_terminal() {
    a_signal_during_a_build_cancels_restores_and_records(libc::SIGHUP);
}

#[test]
fn sigquit_during_a_build_cancels_it_and_restores_the_terminal() {
    a_signal_during_a_build_cancels_restores_and_records(libc::SIGQUIT);
}

/// A `nix` first on PATH that notes each call in `calls` and runs the real one: how a test sees
/// whether atwb started nix at all.
fn nix_spy(dir: &Path) -> (String, std::path::PathBuf) {
    let real = Command::new("sh")
        .args(["-c", "command -v nix"])
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_owned();
    assert!(!real.is_empty(), "nix is on PATH");
    let bin = dir.join("spy-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("nix-calls");
    std::fs::write(
        bin.join("nix"),
        format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec {} \"$@\"\n",
            quote(&calls),
            quote(Path::new(&real))
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("nix"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (quote_str(&path), calls)
}

/// Browsing a hostile catalog (its `lib/offline.nix` imports from a derivation whose builder
/// writes a marker) starts no nix at all; `H` asks for the evaluation, which runs restricted and
/// refuses the import, so the builder never runs either.
#[test]
fn browsing_an_untrusted_catalog_runs_none_of_its_nix_code() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/ifd-catalog"),
        &catalog,
    );
    let marker = dir.path().join("ifd-ran");
    let (path, calls) = nix_spy(dir.path());
    let nix_config = quote_str(common::NIX_CONFIG);
    let Some(t) = start_in(
        &catalog,
        &[("PATH", &path), ("NIX_CONFIG", &nix_config)],
        None,
    ) else {
        return;
    };
    t.wait_all(&["◌ demo", "q quit"]);
    t.key("G");
    t.wait_all(&["demo  fixtures · tier 3"]);
    // Start-up evaluated the catalog right after the first frame; give it time to show.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!marker.exists(), "the catalog's derivation was built");
    assert!(
        !calls.exists(),
        "nix was started while browsing: {}",
        std::fs::read_to_string(&calls).unwrap_or_default()
    );
    t.key("H");
    // The refusal, not the status line that announces the restricted evaluation (which names
    // import-from-derivation too, before nix starts).
    t.wait_text("hardening not scored: refused");
    assert!(calls.exists(), "H evaluates the catalog (restricted)");
    assert!(!marker.exists(), "the restricted evaluation built the IFD");
    t.key("q");
    t.wait_text("[exit 0]");
    t.assert_restored();
}

/// `H` scores the services once; the next start shows the score from the cache, keyed by the
/// catalog's content, without starting nix.
#[test]
fn a_hardening_score_is_cached_by_the_catalog_content() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    let shipped = common::repo_root().join("catalog");
    common::copy_dir(&shipped.join("lib"), &catalog.join("lib"));
    common::copy_dir(
        &shipped.join("pkgs/bluesky-social/indigo-relay"),
        &catalog.join("pkgs/bluesky-social/indigo-relay"),
    );
    let (path, calls) = nix_spy(dir.path());
    let nix_config = quote_str(common::NIX_CONFIG);
    let state = quote(&dir.path().join("state"));
    let env = [
        ("PATH", path.as_str()),
        ("NIX_CONFIG", nix_config.as_str()),
        ("XDG_STATE_HOME", state.as_str()),
    ];
    let score_of = |screen: &str| -> Option<String> {
        let rest = screen.split("hardening ").nth(1)?;
        let word = rest.split_whitespace().next()?;
        word.parse::<f32>().ok().map(|_| word.to_owned())
    };
    let score = {
        let Some(t) = start_in(&catalog, &env, None) else {
            return;
        };
        t.wait_all(&["◌ indigo-relay", "q quit"]);
        t.key("G");
        t.wait_all(&["hardening not scored (H)"]);
        assert!(!calls.exists(), "nix was started while browsing");
        t.key("H");
        // The notice takes two lines of the status bar (wrapped, not cut): a key acknowledges
        // it, so the detail's last lines (the score) are on screen again.
        t.wait_text("scoring hardening");
        t.key("Escape");
        let screen = t.wait_for("a hardening score", |s| score_of(s).is_some());
        t.key("q");
        t.wait_text("[exit 0]");
        score_of(&screen).unwrap()
    };
    assert!(calls.exists(), "H evaluated the catalog");
    std::fs::remove_file(&calls).unwrap();
    let Some(t) = start_in(&catalog, &env, None) else {
        return;
    };
    t.wait_all(&["◌ indigo-relay", "q quit"]);
    t.key("G");
    t.wait_text(&format!("hardening {score}"));
    t.key("q");
    t.wait_text("[exit 0]");
    assert!(
        !calls.exists(),
        "a cache hit started nix: {}",
        std::fs::read_to_string(&calls).unwrap_or_default()
    );
}

/// `n`: the new-package wizard scaffolds a package from a local repository (detection in the
/// background, a proposal changed in the review, the write) and the tree then shows it.
#[test]
fn n_scaffolds_a_package_from_a_local_repository_into_the_tree() {
    let (dir, catalog) = common::tui_catalog_copy();
    let repo = dir.path().join("wizrepo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"wizrepo\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"Tool made by the wizard test\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "first"]);
    let Some(t) = start_in(&catalog, &[], None) else {
        return;
    };
    t.wait_all(&[TREE_READY, "q quit"]);
    t.key("n");
    t.wait_text("Repository path or git URL");
    t.type_text(&repo.display().to_string());
    t.key("Enter");
    t.wait_all(&[
        "New package: review",
        "Tool made by the wizard test",
        "rust-package",
    ]);
    // The org is the first proposal: change it from "local".
    t.key("Enter");
    for _ in 0.."local".len() {
        t.key("BSpace");
    }
    t.type_text("wizards");
    t.key("Enter");
    t.wait_text("wizards");
    t.key("w");
    // Written, then the new package's metadata form opens for review.
    t.wait_all(&["wrote wizrepo", "wizrepo · metadata"]);
    let file = catalog.join("pkgs/wizards/wizrepo/package.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("builder = \"rust-package\""), "{text}");
    let check = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(&catalog)
        .arg("check")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Leaving the form: the new package is the selection in the tree.
    t.key("q");
    t.wait_text("wizrepo  wizards · tier 3");
    t.key("q");
    t.wait_text("[exit 0]");
    t.assert_restored();
}

/// The edit loop never strands the user: `E` saves a typo, the package stays in the tree as a
/// `⚠` row with its diagnostics, the offer to edit again opens the editor at the error's line,
/// and a fix made from outside brings the package back without a restart.
#[test]
fn a_typo_saved_with_e_stays_visible_and_a_fix_from_outside_brings_it_back() {
    let (dir, catalog) = common::tui_catalog_copy();
    let file = catalog.join("pkgs/microcosm/slingshot/package.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    // Named `vi`, so atwb passes it `+LINE`; the first call saves a typo, later ones nothing.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let editor = bin.join("vi");
    std::fs::write(
        &editor,
        "#!/bin/sh\nd=$(dirname \"$0\")\necho \"$@\" >> \"$d/calls\"\nfor f; do :; done\n\
         if [ \"$(wc -l < \"$d/calls\")\" -eq 1 ]; then sed -i 's/^description = /descripton = /' \"$f\"; fi\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let editor_var = quote(&editor);
    let Some(t) = start_in(&catalog, &[("EDITOR", &editor_var), ("VISUAL", "")], None) else {
        return;
    };
    t.wait_all(&["◌ slingshot", "q quit"]);
    t.key("/");
    t.type_text("slingshot");
    t.key("Enter");
    t.wait_text("slingshot  microcosm · tier 1");
    t.key("E");
    t.wait_all(&["⚠ slingshot", "still has 1 error: edit again?", "y yes"]);
    t.key("n");
    t.wait_all(&[
        "⚠ slingshot  microcosm · tier 1 · not loaded",
        "pkgs/microcosm/slingshot/package.toml:6:1  descripton",
        "hint: did you mean `description`?",
        "⚠ 1 invalid (! problems)",
    ]);
    // The problems view lists it like `atwb check`.
    t.key("!");
    t.wait_all(&["Problems · 1 in 1 file", "unknown key `descripton`"]);
    // `!` again closes it (an Escape followed at once by a key would read as alt-key).
    t.key("!");
    t.wait_text("q quit");
    // Again, at the error's line; the editor leaves it broken, so the offer comes back.
    t.key("E");
    t.wait_text("still has 1 error: edit again?");
    t.key("n");
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].ends_with("slingshot/package.toml") && !calls[0].starts_with('+'));
    assert!(
        calls[1].starts_with("+6 ") && calls[1].ends_with("slingshot/package.toml"),
        "{calls:?}"
    );
    // Fixed from outside (another editor: a temporary file renamed over it).
    let tmp = file.with_file_name(".package.toml.new");
    std::fs::write(&tmp, &original).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    // slingshot shares its workspace with constellation: the whole catalog is read again.
    t.wait_all(&[
        "◌ slingshot",
        "slingshot  microcosm · tier 1 · infrastructure",
        "loads again: slingshot",
    ]);
    let screen = t.capture();
    assert!(!screen.contains("⚠"), "{screen}");
    // The message history keeps what happened.
    t.key("M");
    t.wait_all(&["Messages · last", "still has 1 error: edit again?"]);
    t.key("M");
    t.wait_text("q quit");
    t.key("q");
    t.wait_text("[exit 0]");
    t.assert_restored();
}
