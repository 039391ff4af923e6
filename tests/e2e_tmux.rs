//! End-to-end tests of the real `atwb` binary in tmux (recipe: toolchain.md §2b): one private tmux
//! server per test, the app wrapped in `sh -c '...; echo "[exit $?]"; exec sleep 600'` so the
//! pane outlives it, and polling of the screen instead of sleeps.
//!
//! Needs tmux: skipped with a printed reason when it is missing, a failure under `CI=true`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const DEADLINE: Duration = Duration::from_secs(10);

struct Tmux {
    socket: String,
    home: tempfile::TempDir,
}

impl Tmux {
    /// Starts `atwb --catalog <fixture> <args>` in a 120x30 pane with HOME and the XDG dirs in a
    /// fresh temp dir (`config` holds `config.toml` when given).
    fn start(env: &[(&str, &str)], config: Option<&str>) -> Option<Tmux> {
        if !common::require_tool_probed("tmux", "-V") {
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        if let Some(text) = config {
            let dir = home.path().join("config/atwb");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.toml"), text).unwrap();
        }
        let socket = format!(
            "atwb-e2e-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let fixture = common::repo_root().join("tests/fixtures/tui-catalog");
        let h = home.path();
        let mut vars = vec![
            format!("HOME={}", quote(h)),
            format!("XDG_CONFIG_HOME={}", quote(&h.join("config"))),
            format!("XDG_STATE_HOME={}", quote(&h.join("state"))),
            "RUST_BACKTRACE=0".to_owned(),
        ];
        vars.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        let script = format!(
            "env {} {} --catalog {}; echo \"[exit $?]\"; exec sleep 600",
            vars.join(" "),
            quote(Path::new(env!("CARGO_BIN_EXE_atwb"))),
            quote(&fixture),
        );
        let t = Tmux { socket, home };
        let ok = t
            .cmd()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "app",
                "-x",
                "120",
                "-y",
                "30",
            ])
            .args(["sh", "-c", &script])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Some(t)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.env_remove("TMUX").args(["-L", &self.socket]);
        c
    }

    fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "app"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `ready` holds; panics with the last screen after the deadline.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > DEADLINE {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until every text is on screen at once: a frame is written in pieces, so a check
    /// made after waiting for one string could see a half-drawn screen.
    fn wait_all(&self, texts: &[&str]) -> String {
        self.wait_for(&format!("{texts:?}"), |s| {
            texts.iter().all(|t| s.contains(t))
        })
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    fn type_text(&self, text: &str) {
        assert!(
            self.cmd()
                .args(["send-keys", "-t", "app", "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    fn key(&self, name: &str) {
        assert!(
            self.cmd()
                .args(["send-keys", "-t", "app", name])
                .status()
                .unwrap()
                .success()
        );
    }

    fn pane_format(&self, format: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "app", format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `(alternate screen on, cursor shown, any mouse reporting on)`.
    fn modes(&self) -> (bool, bool, bool) {
        let f = self.pane_format(
            "#{alternate_on} #{cursor_flag} #{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}",
        );
        let parts: Vec<&str> = f.split(' ').collect();
        (parts[0] == "1", parts[1] == "1", parts[2].contains('1'))
    }

    fn assert_restored(&self) {
        assert_eq!(
            self.modes(),
            (false, true, false),
            "alternate screen off, cursor shown, mouse off"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // kill-server ends the pane (and its keep-alive sleep) but leaves the socket file behind.
        let socket = self.pane_format("#{socket_path}");
        let _ = self.cmd().arg("kill-server").status();
        if socket.contains(&self.socket) {
            let _ = std::fs::remove_file(socket);
        }
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

const TREE_READY: &str = "◌ constellation";

#[test]
fn tree_and_detail_show() {
    let Some(t) = Tmux::start(&[], None) else {
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
    let Some(t) = Tmux::start(&[], None) else {
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
    let Some(t) = Tmux::start(&[], Some(config)) else {
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
    let Some(t) = Tmux::start(&[], None) else {
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
    let Some(t) = Tmux::start(&[], None) else {
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
    let Some(t) = Tmux::start(&[], None) else {
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
    let Some(t) = Tmux::start(&[], Some("[keys.main]\n\"x\" = \"qiut\"\n")) else {
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
    let Some(t) = Tmux::start(&[("ATWB_TEST_PANIC", "1")], None) else {
        return;
    };
    let screen = t.wait_text("[exit 101]");
    assert!(
        screen.contains("ATWB_TEST_PANIC: deliberate panic"),
        "{screen}"
    );
    t.assert_restored();
}
