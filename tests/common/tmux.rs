//! The tmux harness of the end-to-end tests of the real `atwb` binary: one private tmux server
//! per test (its own `-L` socket), the app wrapped in
//! `sh -c '...; echo "[exit $?]"; exec sleep 600'` so the pane outlives it and its exit code
//! stays on screen, and polling of the screen instead of sleeps.
//!
//! Under `CI=true` a missing tmux is a failure (see `require_tool`), never a skip.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Tells apart the tmux servers of one test binary (the pid tells binaries apart).
static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// The window a test's app runs in, and how long a wait for the screen may take before the
/// test fails with the screen it saw.
#[derive(Clone, Copy, Debug)]
pub struct Pane {
    pub cols: u16,
    pub rows: u16,
    pub deadline: Duration,
}

/// A running `atwb` in its own tmux server; dropping it kills the server.
pub struct Tmux {
    socket: String,
    /// HOME of the app; `config/` and `state/` under it are its XDG config and state dirs.
    pub home: tempfile::TempDir,
    deadline: Duration,
}

impl Tmux {
    /// Starts `atwb --catalog <catalog>` in a `pane`-sized window with HOME and the XDG dirs in
    /// a fresh temp dir (`config` becomes `config/atwb/config.toml` when given) and `env` added
    /// to its environment (values as the shell should see them: quote them with [`quote_str`]).
    /// `None` when tmux is missing and not under `CI=true`.
    pub fn start(
        pane: &Pane,
        catalog: &Path,
        env: &[(&str, &str)],
        config: Option<&str>,
    ) -> Option<Tmux> {
        if !super::require_tool_probed("tmux", "-V") {
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
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
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
            quote(catalog),
        );
        let t = Tmux {
            socket,
            home,
            deadline: pane.deadline,
        };
        let ok = t
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "app"])
            .args(["-x", &pane.cols.to_string(), "-y", &pane.rows.to_string()])
            .args(["sh", "-c", &script])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Some(t)
    }

    /// `tmux` talking to this test's server only.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.env_remove("TMUX").args(["-L", &self.socket]);
        c
    }

    /// The pane's text as it is now.
    pub fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "app"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `ready` holds; panics with the last screen after the deadline.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() <= self.deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until every text is on screen at once: a frame is written in pieces, so a check
    /// made after waiting for one string could see a half-drawn screen.
    pub fn wait_all(&self, texts: &[&str]) -> String {
        self.wait_for(&format!("{texts:?}"), |s| {
            texts.iter().all(|t| s.contains(t))
        })
    }

    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Types `text` literally (no key names).
    pub fn type_text(&self, text: &str) {
        assert!(
            self.cmd()
                .args(["send-keys", "-t", "app", "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Presses the key tmux calls `name` (`q`, `Enter`, `C-s`, `BSpace`, …).
    pub fn key(&self, name: &str) {
        assert!(
            self.cmd()
                .args(["send-keys", "-t", "app", name])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Presses the keys one after another.
    pub fn keys(&self, names: &[&str]) {
        for name in names {
            self.key(name);
        }
    }

    /// A tmux format (`#{…}`) expanded for the pane.
    pub fn pane_format(&self, format: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "app", format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `(alternate screen on, cursor shown, any mouse reporting on)`.
    pub fn modes(&self) -> (bool, bool, bool) {
        let f = self.pane_format(
            "#{alternate_on} #{cursor_flag} #{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}",
        );
        let parts: Vec<&str> = f.split(' ').collect();
        (parts[0] == "1", parts[1] == "1", parts[2].contains('1'))
    }

    pub fn assert_restored(&self) {
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

/// `p` single-quoted for `sh`.
pub fn quote(p: &Path) -> String {
    quote_str(&p.display().to_string())
}

/// `s` single-quoted for `sh`.
pub fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
