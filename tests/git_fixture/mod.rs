//! Real git repositories made in a test, and the reference results nixpkgs' fetchers would give
//! for them, produced with the real tools: `git archive | tar -x` (fetchFromGitHub's tarball),
//! a clone + `git submodule update --init --recursive` + `.git` removal (nix-prefetch-git),
//! and `nix hash path` on the result.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Git with a private, empty configuration: what a fetcher's sandbox has, plus local file
/// urls allowed for submodules and a fixed identity and clock.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let home = std::env::temp_dir().join("atwb-test-no-home");
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "4")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .env("GIT_CONFIG_KEY_1", "init.defaultBranch")
        .env("GIT_CONFIG_VALUE_1", "main")
        .env("GIT_CONFIG_KEY_2", "advice.detachedHead")
        .env("GIT_CONFIG_VALUE_2", "false")
        .env("GIT_CONFIG_KEY_3", "core.autocrlf")
        .env("GIT_CONFIG_VALUE_3", "false")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_AUTHOR_DATE", "2024-02-29T23:30:00+01:00")
        .env("GIT_COMMITTER_DATE", "2024-02-29T23:30:00+01:00")
        .output()
        .unwrap_or_else(|e| panic!("running git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A new repository at `dir` (created).
pub fn init(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    dir.to_path_buf()
}

/// `git add -A && git commit`, returning the commit id.
pub fn commit_all(dir: &Path, msg: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

pub fn write(path: &Path, text: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

pub fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub fn symlink(target: &str, link: &Path) {
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// `nix hash path` (Nix 2.8 prints SRI).
pub fn nix_hash_path(path: &Path) -> String {
    let out = nix()
        .args(["hash", "path", "--type", "sha256"])
        .arg(path)
        .output()
        .expect("running nix hash path");
    assert!(
        out.status.success(),
        "nix hash path {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn nix() -> Command {
    let mut c = Command::new("nix");
    c.env(
        "NIX_CONFIG",
        "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters =",
    );
    c
}

/// Whether nix and git can run here; tests skip (or fail under CI=true) otherwise.
pub fn tools_present() -> bool {
    for tool in ["nix", "git", "tar"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "{tool} is required under CI=true"
            );
            eprintln!("SKIPPED: {tool} is not installed");
            return false;
        }
    }
    true
}

/// What fetchFromGitHub's fetchzip leaves: `git archive` of `rev`, unpacked, top dir stripped.
pub fn github_tarball_tree(repo: &Path, rev: &str, scratch: &Path) -> PathBuf {
    let out = scratch.join("unpacked");
    std::fs::create_dir_all(&out).unwrap();
    let tar = scratch.join("archive.tar");
    git(
        repo,
        &[
            "archive",
            "--format=tar",
            "--prefix=repo-top/",
            "-o",
            tar.to_str().unwrap(),
            rev,
        ],
    );
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "tar -x");
    out.join("repo-top")
}

/// What nix-prefetch-git leaves: a clone checked out at `rev`, submodules updated recursively
/// when asked, then every `.git` removed.
pub fn fetchgit_tree(url: &str, rev: &str, submodules: bool, scratch: &Path) -> PathBuf {
    let out = scratch.join("checkout");
    std::fs::create_dir_all(&out).unwrap();
    git(&out, &["init", "-q"]);
    git(&out, &["remote", "add", "origin", url]);
    git(&out, &["fetch", "-q", "origin", rev]);
    git(&out, &["checkout", "-q", "-b", "fetchgit", rev]);
    if submodules {
        git(
            &out,
            &["submodule", "-q", "update", "--init", "--recursive"],
        );
    }
    remove_dot_git(&out);
    out
}

fn remove_dot_git(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let ft = entry.file_type().unwrap();
        if entry.file_name() == ".git" {
            if ft.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        } else if ft.is_dir() {
            remove_dot_git(&path);
        }
    }
}
