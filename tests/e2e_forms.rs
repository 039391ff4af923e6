//! End-to-end tests of the metadata and service options forms in the real `atwb` binary, in a
//! private tmux server per test: edit a field through a form, save with Ctrl-s, and check the
//! file's diff is exactly that change.
//!
//! Needs tmux: skipped with a printed reason when it is missing, a failure under `CI=true`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);
const DEADLINE: Duration = Duration::from_secs(15);

struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

impl Tmux {
    /// `atwb --catalog <catalog>` in a 120x32 pane, HOME and the XDG dirs in a fresh temp dir.
    fn start(catalog: &Path) -> Option<Tmux> {
        if !common::require_tool_probed("tmux", "-V") {
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let socket = format!(
            "atwb-forms-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let script = format!(
            "env HOME={} XDG_CONFIG_HOME={} XDG_STATE_HOME={} {} --catalog {}; echo \"[exit $?]\"; exec sleep 600",
            quote(h),
            quote(&h.join("config")),
            quote(&h.join("state")),
            quote(Path::new(env!("CARGO_BIN_EXE_atwb"))),
            quote(catalog),
        );
        let t = Tmux {
            socket,
            _home: home,
        };
        let ok = t
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "app"])
            .args(["-x", "120", "-y", "32", "sh", "-c", &script])
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

    /// Polls until every text is on screen at once; panics with the screen after the deadline.
    fn wait_all(&self, texts: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(
                start.elapsed() <= DEADLINE,
                "timed out waiting for {texts:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn type_text(&self, text: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "app", "-l", text])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn keys(&self, names: &[&str]) {
        for name in names {
            let ok = self
                .cmd()
                .args(["send-keys", "-t", "app", name])
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// The lines that differ between `old` and `new` (which must have as many lines).
fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    assert_eq!(old.lines().count(), new.lines().count(), "{new}");
    old.lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

/// Selects `pds` in the tree by searching for it.
fn select_pds(t: &Tmux) {
    t.wait_all(&["◌ constellation", "q quit"]);
    t.keys(&["/"]);
    t.type_text("pds");
    t.keys(&["Enter"]);
    t.wait_all(&["Personal data server hosting user repositories"]);
}

#[test]
fn the_metadata_form_edits_a_description_and_the_diff_is_exactly_that() {
    let (_dir, root) = common::tui_catalog_copy();
    let file = root.join("pkgs/bluesky-social/pds/package.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let Some(t) = Tmux::start(&root) else {
        return;
    };
    select_pds(&t);
    t.keys(&["m"]);
    t.wait_all(&["pds · metadata", "▸ name"]);
    // name, version, tier, category, then description.
    t.keys(&["j", "j", "j", "j"]);
    t.wait_all(&["▸ description"]);
    t.keys(&["Enter"]);
    t.type_text(" and blobs");
    t.keys(&["Enter"]);
    t.wait_all(&["repositories and blobs ●", "● modified"]);
    t.keys(&["C-s"]);
    t.wait_all(&["saved "]);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "description = \"Personal data server hosting user repositories\"".to_owned(),
            "description = \"Personal data server hosting user repositories and blobs\"".to_owned()
        )]
    );
    // Leaving a saved form does not ask; the tree shows the reloaded package.
    t.keys(&["Escape"]);
    t.wait_all(&["repositories and blobs", "q quit"]);
}

#[test]
fn the_service_form_edits_a_port_refusing_letters_and_the_diff_is_exactly_that() {
    let (_dir, root) = common::tui_catalog_copy();
    let file = root.join("pkgs/bluesky-social/pds/package.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let Some(t) = Tmux::start(&root) else {
        return;
    };
    select_pds(&t);
    t.keys(&["s"]);
    t.wait_all(&["pds · service pds", "▸ exec"]);
    // exec, its item, ports, then ports.http.
    t.keys(&["j", "j", "j"]);
    t.wait_all(&["▸ ports.http"]);
    t.keys(&["Enter"]);
    t.type_text("x");
    t.wait_all(&["refused: a whole number: digits only"]);
    t.type_text("00");
    t.keys(&["Enter"]);
    t.wait_all(&["300000 ●", "port 300000 is out of range"]);
    // Saving is refused and the focus goes back to the invalid port.
    t.keys(&["g", "C-s"]);
    t.wait_all(&["not saved", "▸ ports.http"]);
    t.keys(&["Enter", "BSpace", "BSpace", "BSpace"]);
    t.type_text("1");
    t.keys(&["Enter"]);
    t.wait_all(&["▸ ports.http          3001 ●"]);
    t.keys(&["C-s"]);
    t.wait_all(&["saved "]);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "ports = { http = 3000 }".to_owned(),
            "ports = { http = 3001 }".to_owned()
        )]
    );
}
