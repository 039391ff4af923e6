//! Helpers shared by the integration tests. Each test file that uses them says `mod common;`.
#![allow(dead_code)]

pub mod engine;
pub mod tmux;

use std::process::Command;
use std::time::{Duration, Instant};

/// The NIX_CONFIG every test that runs nix uses: no daemon, no sandbox, no network substituters
/// (the default cache costs seconds per build on a machine without network).
pub const NIX_CONFIG: &str = "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters =";

/// Whether `tool` can be run. Under `CI=true` a missing tool is a failure, not a skip: CI must
/// never pass by silently skipping the tests that need nix or tmux.
pub fn require_tool(tool: &str) -> bool {
    require_tool_probed(tool, "--version")
}

/// `require_tool` for tools whose version flag is not `--version` (tmux: `-V`).
pub fn require_tool_probed(tool: &str, version_flag: &str) -> bool {
    let found = Command::new(tool)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "{tool} is required under CI=true but was not found on PATH (.ci/run installs it)"
    );
    eprintln!("SKIPPED: {tool} is not installed; install it to run this test");
    false
}

/// A `nix` command with the test NIX_CONFIG.
pub fn nix() -> Command {
    let mut c = Command::new("nix");
    c.env("NIX_CONFIG", NIX_CONFIG);
    c
}

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copy the directory tree `from` to `to` (created if missing), e.g. a fixture into a temp dir.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copying to {}: {e}", target.display()));
        }
    }
}

/// Processes (not zombies) whose command line contains `marker`.
pub fn live_processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(marker) && atwb::jobs::process::is_running(pid) {
            found.push(format!("{pid}: {cmd}"));
        }
    }
    found
}

/// Processes with `marker` still alive after a short settling time: SIGKILL (which nix sends to
/// its builder) takes effect asynchronously, so a just-killed builder may linger for
/// milliseconds. Nothing is signalled here; anything alive after 3 s is a leak.
pub fn leftover_processes(marker: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let found = live_processes_with(marker);
        if found.is_empty() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every `.nix` file under `dir`, sorted, skipping `target`, `.git` and `node_modules` (as
/// `.ci/nix-fmt` does): build output and vendored code are not the repository's Nix.
pub fn nix_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(Result::unwrap)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" || name == "node_modules" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            nix_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "nix") {
            out.push(path);
        }
    }
}

/// Sets NIX_CONFIG for this whole test binary (once, to the same value everywhere) and says
/// whether nix can be run (see `require_tool`). For tests whose engine or effects start nix
/// themselves, so the variable must be in the process environment.
pub fn nix_env() -> bool {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: done once, before any engine thread of this test binary reads the environment.
        unsafe { std::env::set_var("NIX_CONFIG", NIX_CONFIG) };
    });
    require_tool("nix")
}

/// A copy of `tests/fixtures/tui-catalog` at `<temp dir>/catalog` (the tests write to it).
pub fn tui_catalog_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    copy_dir(&repo_root().join("tests/fixtures/tui-catalog"), &root);
    (dir, root)
}

/// The atwb binary with its home, state directory and cargo home under `tmp`, and none of the
/// caller's atwb settings (catalog, crates URL, git rewrites, GitHub token, proxies) inherited:
/// what it finds is only what the test made.
pub fn atwb_in(tmp: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_atwb"));
    c.env("HOME", tmp.join("home"))
        .env("XDG_STATE_HOME", tmp.join("state"))
        .env("CARGO_HOME", tmp.join("cargo-home"));
    for var in [
        "ATWB_CATALOG",
        "ATWB_CRATES_URL",
        "ATWB_GIT_INSTEAD_OF",
        "ATWB_GITHUB_API",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
    ] {
        c.env_remove(var);
    }
    c
}

/// A `.crate` file `dir/<name>-<version>.crate` made with tar and gzip as `cargo package`
/// lays it out (one top directory, a manifest and a lib.rs naming the crate), and its sha256
/// (what Cargo.lock's `checksum` says).
pub fn make_crate(
    dir: &std::path::Path,
    name: &str,
    version: &str,
) -> (std::path::PathBuf, String) {
    let stem = format!("{name}-{version}");
    let sources = tempfile::tempdir().unwrap();
    let src = sources.path().join(&stem);
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::write(
        src.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\n"),
    )
    .unwrap();
    std::fs::write(
        src.join("src/lib.rs"),
        format!("pub const NAME: &str = \"{name}\";\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!("{stem}.crate"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&file)
        .arg("-C")
        .arg(sources.path())
        .arg(&stem)
        .status()
        .unwrap();
    assert!(status.success(), "tar of {stem}");
    let sum = sha256sum(&file);
    (file, sum)
}

/// The hex sha256 of a file, by `sha256sum`.
pub fn sha256sum(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The out path of `packages.x86_64-linux.<attr>` of the flake at `flake`, by `nix eval`.
pub fn out_path(flake: &std::path::Path, attr: &str) -> String {
    let out = nix()
        .args(["eval", "--raw"])
        .arg(format!(
            "{}#packages.x86_64-linux.{attr}.outPath",
            flake.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A `nix` in `dir/bin` that appends its arguments to `dir/nix-calls.log`, runs `prelude` (shell,
/// may answer and exit), then the real nix; put `dir/bin` first on PATH.
pub fn logging_nix(dir: &std::path::Path, prelude: &str) {
    use std::os::unix::fs::PermissionsExt;
    let real = Command::new("sh")
        .args(["-c", "command -v nix"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("nix-calls.log");
    std::fs::write(
        bin.join("nix"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n{prelude}exec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("nix"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What the [`logging_nix`] of `dir` was called with, a line per call.
pub fn nix_calls(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("nix-calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `tests/fixtures/flakes/<name>` copied to `<temp dir>/flake` with a salt of its own in
/// `salt.txt` (`atwbsalt<pid>x<dir>`), so every build is fresh and leftover processes can be
/// found by the salt in /proc. Returns the directory and the salt.
pub fn salted_flake(name: &str, prefix: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    copy_dir(
        &repo_root().join("tests/fixtures/flakes").join(name),
        &dir.path().join("flake"),
    );
    let salt = format!(
        "atwbsalt{}x{}",
        std::process::id(),
        dir.path().file_name().unwrap().to_string_lossy()
    );
    std::fs::write(dir.path().join("flake/salt.txt"), &salt).unwrap();
    (dir, salt)
}

/// `git ARGS` in `dir` as a test committer (no user config needed), which must succeed.
pub fn git_in(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@invalid"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `dir` as a git repository with everything in it committed.
pub fn commit_all(dir: &std::path::Path, message: &str) {
    if !dir.join(".git").exists() {
        git_in(dir, &["init", "-q"]);
    }
    git_in(dir, &["add", "-A"]);
    git_in(dir, &["commit", "-qm", message]);
}
