//! `atwb prefetch` and `atwb hash` run as the real binary on repositories, lockfiles and a
//! catalog copy made in the test; every hash is checked against `nix hash path`. No network.

mod common;
mod git_fixture;

use std::path::{Path, PathBuf};
use std::process::Output;

use git_fixture::{commit_all, github_tarball_tree, init, nix_hash_path, tools_present, write};

/// The binary with its state, cargo and npm homes inside `tmp`, so nothing outside is read or
/// written.
fn atwb(tmp: &Path, args: &[&str]) -> Output {
    common::atwb_in(tmp)
        .args(args)
        .output()
        .expect("running atwb")
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "atwb failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout_ok(out)).unwrap()
}

/// A repository whose `git archive` differs from its checkout (export-ignore), with an
/// executable and a symlink, plus `files` at the top.
fn repo_with(tmp: &Path, files: &[(&str, &[u8])]) -> (PathBuf, String) {
    let dir = init(&tmp.join("upstream"));
    write(&dir.join("src/main.rs"), b"fn main() {}\n");
    write(&dir.join("run.sh"), b"#!/bin/sh\necho hi\n");
    git_fixture::chmod_x(&dir.join("run.sh"));
    git_fixture::symlink("src/main.rs", &dir.join("link"));
    write(&dir.join(".gitattributes"), b"ci/ export-ignore\n");
    write(&dir.join("ci/job.yml"), b"on: push\n");
    for (name, text) in files {
        write(&dir.join(name), text);
    }
    let rev = commit_all(&dir, "first");
    (dir, rev)
}

#[test]
fn prefetch_of_a_path_and_a_file_url_equals_nix_hash_path_of_git_archive() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rev) = repo_with(tmp.path(), &[]);
    let expected = nix_hash_path(&github_tarball_tree(
        &repo,
        &rev,
        &tmp.path().join("scratch"),
    ));

    let by_path = json(&atwb(
        tmp.path(),
        &["prefetch", repo.to_str().unwrap(), "--json"],
    ));
    assert_eq!(by_path["rev"], rev.as_str());
    assert_eq!(by_path["hash"], expected.as_str());
    // git_fixture commits at 2024-02-29T23:30:00+01:00: the version uses the committer's day.
    assert_eq!(by_path["version"], "0-unstable-2024-02-29");
    assert_eq!(by_path["date"], "2024-02-29T23:30:00+01:00");

    let url = format!("file://{}", repo.display());
    let by_url = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--rev", &rev, "--json"],
    ));
    assert_eq!(by_url["hash"], expected.as_str());
    let clone = PathBuf::from(by_url["repository"].as_str().unwrap());
    assert!(
        clone.starts_with(tmp.path().join("state")),
        "cloned into the state dir: {}",
        clone.display()
    );
    // A second run fetches into the same clone.
    let again = stdout_ok(&atwb(tmp.path(), &["prefetch", &url]));
    assert!(again.contains(&expected), "{again}");
}

#[test]
fn prefetch_of_a_tag_and_fetchgit_semantics() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rev) = repo_with(tmp.path(), &[]);
    git_fixture::git(&repo, &["tag", "v1.2.0"]);
    let out = json(&atwb(
        tmp.path(),
        &[
            "prefetch",
            repo.to_str().unwrap(),
            "--tag",
            "v1.2.0",
            "--fetcher",
            "git",
            "--json",
        ],
    ));
    assert_eq!(out["rev"], rev.as_str());
    assert_eq!(out["version"], "1.2.0");
    let url = format!("file://{}", repo.display());
    let checkout = git_fixture::fetchgit_tree(&url, &rev, false, &tmp.path().join("scratch"));
    assert!(
        checkout.join("ci/job.yml").is_file(),
        "fetchgit keeps export-ignore files"
    );
    assert_eq!(out["hash"], nix_hash_path(&checkout).as_str());
}

#[test]
fn prefetch_refuses_what_it_cannot_clone_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    // A port nobody listens on (bound, then released): refused at once, said plainly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/none.git");
    let out = atwb(tmp.path(), &["prefetch", &url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot reach {url}")), "{err}");
    let out = atwb(
        tmp.path(),
        &["prefetch", tmp.path().join("nope").to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a URL"));
}

/// A Cargo.lock naming two registry crates in `tmp/crates`, and the staging directory
/// fetchCargoVendor would hash for it (lockfile + `tarballs/<name>-<version>.tar.gz`).
fn lockfile_and_staging(tmp: &Path) -> (String, PathBuf) {
    let mut lock =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    let staging = tmp.join("staging");
    std::fs::create_dir_all(staging.join("tarballs")).unwrap();
    for (name, version) in [("lite-a", "1.0.0"), ("b_b", "0.2.1")] {
        let (file, sum) = common::make_crate(&tmp.join("crates"), name, version);
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sum}\"\n"
        ));
        std::fs::copy(
            &file,
            staging.join(format!("tarballs/{name}-{version}.tar.gz")),
        )
        .unwrap();
    }
    write(&staging.join("Cargo.lock"), lock.as_bytes());
    (lock, staging)
}

#[test]
fn hash_lockfile_equals_nix_hash_path_of_the_staging_directory() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (lock, staging) = lockfile_and_staging(tmp.path());
    let lockfile = tmp.path().join("project/Cargo.lock");
    write(&lockfile, lock.as_bytes());
    let crates = tmp.path().join("crates");
    let out = json(&atwb(
        tmp.path(),
        &[
            "hash",
            "--lockfile",
            lockfile.to_str().unwrap(),
            "--crates",
            crates.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(out["field"], "cargoHash");
    assert_eq!(out["hash"], nix_hash_path(&staging).as_str());

    // Without --crates the crates are nowhere: an error naming them and the fix.
    let out = atwb(
        tmp.path(),
        &["hash", "--lockfile", lockfile.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lite-a") && err.contains("cargo fetch --locked"),
        "{err}"
    );
}

#[test]
fn hash_package_write_changes_exactly_the_hash_lines() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (lock, staging) = lockfile_and_staging(tmp.path());
    let (repo, rev) = repo_with(tmp.path(), &[("Cargo.lock", lock.as_bytes())]);
    // The lockfile is read from the pinned commit, never from the working tree.
    write(&repo.join("Cargo.lock"), b"not a lockfile\n");
    let catalog = tmp.path().join("catalog");
    common::copy_dir(&common::repo_root().join("catalog"), &catalog);
    let file = catalog.join("pkgs/microcosm/allegedly/package.toml");
    let shipped = std::fs::read_to_string(&file).unwrap();
    let old_rev = line_of(&shipped, "rev = ");
    // The test's own repository stands in for upstream, so its deps hash starts unknown.
    let before = shipped
        .replace(&old_rev, &format!("rev = \"{rev}\""))
        .replace(
            &line_of(&shipped, "deps_hash = "),
            "deps_hash = \"unknown\"",
        );
    std::fs::write(&file, &before).unwrap();

    let source_hash = nix_hash_path(&github_tarball_tree(
        &repo,
        &rev,
        &tmp.path().join("scratch"),
    ));
    let deps_hash = nix_hash_path(&staging);
    let crates = tmp.path().join("crates");
    let args = |write: bool| {
        let mut a = vec![
            "--catalog",
            catalog.to_str().unwrap(),
            "hash",
            "allegedly",
            "--source",
            repo.to_str().unwrap(),
            "--crates",
            crates.to_str().unwrap(),
            "--json",
        ];
        if write {
            a.push("--write");
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |write: bool| {
        let a = args(write);
        json(&atwb(
            tmp.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
    };

    let dry = run(false);
    assert_eq!(dry["hashes"][0]["new"], source_hash.as_str());
    assert_eq!(dry["hashes"][1]["old"], "unknown");
    assert_eq!(dry["hashes"][1]["new"], deps_hash.as_str());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "no --write, no change"
    );

    let written = run(true);
    assert_eq!(written["written"][0], file.to_str().unwrap());
    let after = std::fs::read_to_string(&file).unwrap();
    let provenance = line_of(&after, "provenance = ");
    assert!(
        provenance.contains(&format!(
            "computed natively by atwb {}",
            env!("CARGO_PKG_VERSION")
        )),
        "{provenance}"
    );
    let expected = before
        .replace(
            &line_of(&before, "hash = "),
            &format!("hash = \"{source_hash}\""),
        )
        .replace(&line_of(&before, "provenance = "), &provenance)
        .replace(
            "deps_hash = \"unknown\"",
            &format!("deps_hash = \"{deps_hash}\""),
        );
    assert_eq!(after.as_bytes(), expected.as_bytes());

    // Recomputing now finds nothing to change and writes nothing.
    let again = run(true);
    assert_eq!(again["written"].as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read(&file).unwrap(), after.as_bytes());
}

#[test]
fn hash_package_with_a_go_builder_keeps_unknown_and_says_why() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rev) = repo_with(tmp.path(), &[("go.sum", b"")]);
    let catalog = tmp.path().join("catalog");
    common::copy_dir(&common::repo_root().join("catalog"), &catalog);
    let file = catalog.join("pkgs/haileyok/cocoon/package.toml");
    let shipped = std::fs::read_to_string(&file).unwrap();
    let before = shipped.replace(&line_of(&shipped, "rev = "), &format!("rev = \"{rev}\""));
    std::fs::write(&file, &before).unwrap();
    let out = atwb(
        tmp.path(),
        &[
            "--catalog",
            catalog.to_str().unwrap(),
            "hash",
            "cocoon",
            "--source",
            repo.to_str().unwrap(),
        ],
    );
    let text = stdout_ok(&out);
    let source_hash = nix_hash_path(&github_tarball_tree(
        &repo,
        &rev,
        &tmp.path().join("scratch"),
    ));
    assert!(text.contains(&source_hash), "{text}");
    assert!(text.contains("vendorHash"), "{text}");
    assert!(text.contains("pass --write"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

/// The whole line starting with `prefix` (the first one).
fn line_of(text: &str, prefix: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}"))
        .to_string()
}
