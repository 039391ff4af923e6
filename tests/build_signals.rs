//! `atwb build` stopped from outside while a build runs: SIGTERM behaves as Ctrl-c (the jobs are
//! cancelled and recorded, the summary printed, a non-zero exit), and even SIGKILL, which atwb
//! cannot handle, leaves the job's log lines on disk up to the engine's last periodic flush.
//! Real nix, the fixture flake `flakes/endless` for the catalog of `flakes/catalogrepo`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atwb::jobs::{Outcome, StatusStore};

struct Fixture {
    dir: tempfile::TempDir,
    salt: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("atwb-signals-")
            .tempdir()
            .unwrap();
        let fixtures = common::repo_root().join("tests/fixtures/flakes");
        common::copy_dir(&fixtures.join("endless"), &dir.path().join("flake"));
        common::copy_dir(
            &fixtures.join("catalogrepo/catalog"),
            &dir.path().join("catalog"),
        );
        let salt = format!(
            "atwbsignals{}x{}",
            std::process::id(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        std::fs::write(dir.path().join("flake/salt.txt"), &salt).unwrap();
        let config = dir.path().join("xdg-config/atwb");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            format!(
                "[jobs]\nflake = \"path:{}\"\n",
                dir.path().join("flake").display()
            ),
        )
        .unwrap();
        Fixture { dir, salt }
    }

    fn catalog(&self) -> PathBuf {
        self.dir.path().join("catalog")
    }

    /// `atwb build demo --json` on the fixture catalog, once its builder runs.
    fn start_build(&self) -> Child {
        let child = Command::new(env!("CARGO_BIN_EXE_atwb"))
            .arg("--catalog")
            .arg(self.catalog())
            .args(["build", "demo", "--json"])
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("NIX_CONFIG", common::NIX_CONFIG)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while common::live_processes_with(&self.salt).is_empty() {
            assert!(Instant::now() < deadline, "the builder never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// The catalog's per-catalog state directory (status store, logs).
    fn state(&self) -> PathBuf {
        std::fs::read_dir(self.dir.path().join("xdg-state/atwb/catalogs"))
            .unwrap()
            .next()
            .expect("a catalog state directory")
            .unwrap()
            .path()
    }

    /// Waits until the store holds the run's entry (its owner and nix's process group) and the
    /// builder's burst has reached the job's log (each drained read is flushed): a running
    /// builder does not mean nix has forwarded its lines yet. Returns the group and the log.
    fn wait_for_the_burst(&self, child: &Child) -> (u64, PathBuf) {
        let status_file = self.state().join("status.json");
        let deadline = Instant::now() + Duration::from_secs(10);
        let (pgid, log) = loop {
            let json: serde_json::Value = std::fs::read(&status_file)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let entry = &json["running"][0];
            if let (Some(pgid), Some(log)) = (entry["pgid"].as_u64(), entry["log_file"].as_str()) {
                assert_eq!(entry["owner_pid"].as_u64(), Some(u64::from(child.id())));
                break (pgid, PathBuf::from(log));
            }
            assert!(
                Instant::now() < deadline,
                "no running entry in {}",
                status_file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("demo burst 3 of 3")) {
            assert!(
                Instant::now() < deadline,
                "the burst never reached {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        (pgid, log)
    }

    fn assert_no_builder_left(&self) {
        assert_eq!(
            common::leftover_processes(&self.salt),
            Vec::<String>::new(),
            "builder left running"
        );
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

#[test]
fn sigterm_of_atwb_build_cancels_records_and_prints_the_summary() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new();
    let child = f.start_build();
    f.wait_for_the_burst(&child);
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM), "{stderr}");
    assert!(
        stderr.contains("1 targets: 0 ok, 0 failed, 1 cancelled, 0 timed out"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["outcome"], "cancelled", "{stderr}");
    f.assert_no_builder_left();
    let store = StatusStore::open_in(&f.catalog(), &f.state()).unwrap();
    let demo = store.status("demo").expect("the cancelled run is recorded");
    assert_eq!(demo.last.outcome, Outcome::Cancelled);
    let log = demo.last.log_file.expect("a log file");
    assert_log_has_the_burst(&log);
}

#[test]
fn a_killed_atwb_build_leaves_its_log_lines_on_disk() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new();
    let mut child = f.start_build();
    // The builder prints its burst at once and then nothing: only a periodic flush puts the
    // burst on disk. Wait several flush periods.
    std::thread::sleep(Duration::from_millis(800));
    child.kill().unwrap();
    child.wait().unwrap();
    f.assert_no_builder_left();
    let logs: Vec<PathBuf> = std::fs::read_dir(f.state().join("logs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_log_has_the_burst(&logs[0]);
}

/// SIGKILL cannot be handled, so the run is recorded by the next atwb that opens the status
/// store: `atwb show` finds the running entry of a dead owner, stops the nix group it left (if
/// any) and records the run as interrupted, with the log holding what nix printed before.
#[test]
fn a_killed_atwb_build_is_recorded_interrupted_by_the_next_store_open() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new();
    let mut child = f.start_build();
    let status_file = f.state().join("status.json");
    let (pgid, log) = f.wait_for_the_burst(&child);
    child.kill().unwrap();
    child.wait().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(f.catalog())
        .args(["show", "demo", "--json"])
        .env("XDG_STATE_HOME", f.dir.path().join("xdg-state"))
        .env("XDG_CONFIG_HOME", f.dir.path().join("xdg-config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["last_build"]["outcome"], "interrupted", "{shown:#}");
    assert!(
        shown["last_build"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("pid {}", child.id()))),
        "{shown:#}"
    );
    assert_eq!(group_members(pgid), Vec::<u64>::new(), "nix group left");
    f.assert_no_builder_left();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&status_file).unwrap()).unwrap();
    assert!(json.get("running").is_none(), "entry reconciled: {json:#}");
    let store = StatusStore::open_in(&f.catalog(), &f.state()).unwrap();
    let demo = store.status("demo").expect("recorded");
    assert_eq!(demo.last.outcome, Outcome::Interrupted);
    assert_eq!(demo.last.log_file.as_deref(), Some(log.as_path()));
    assert_log_has_the_burst(&log);
}

/// Live processes in process group `pgid`.
fn group_members(pgid: u64) -> Vec<u64> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            atwb::jobs::process::stat(*p)
                .is_some_and(|s| u64::from(s.pgrp) == pgid && s.state != 'Z')
        })
        .map(u64::from)
        .collect()
}

fn assert_log_has_the_burst(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap();
    assert!(!text.is_empty(), "{} is empty", log.display());
    assert!(
        text.contains("demo burst 3 of 3"),
        "{}:\n{text}",
        log.display()
    );
}
