//! `atwb bump` on a catalog made in the test, against real upstream repositories (file://
//! remotes, new commits and tags made here). The bytes written are checked exactly: only the
//! pin's lines change (version, rev, hash, verified, provenance, deps_hash), comments and
//! layout stay. Source hashes are checked against `nix hash path` of nix-prefetch-git's tree.

mod common;
mod git_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atwb::catalog::bump::{BumpOptions, BumpTarget, plan};
use git_fixture::{commit_all, fetchgit_tree, git, init, nix_hash_path, tools_present, write};

const OLD_HASH: &str = "sha256-4U2jvBbfMmAjCT8VQX4Ln3KSDlG9TVdvqOmiY00crfI=";
const OLD_DEPS: &str = "sha256-pQpattmS9VmO3ZIQUFn66az8GSmB4IvYhTTCFn6SUmo=";

/// A package.toml with comments and odd spacing that an edit must keep.
fn package_toml(name: &str, version: &str, url: &str, rev: &str, build: &str) -> String {
    format!(
        r#"# {name}: kept by the bump tests
name = "{name}"
version = "{version}"   # the pinned release
tier = 3
category = "utility"
description = "Test package made by the bump tests"
homepage = "https://example.org/{name}"
license = ["MIT"]

[source]
host = "git"
url = "{url}"
rev = "{rev}"
hash = "{OLD_HASH}"  # old pin
verified = false
provenance = "test"

[build]
{build}
"#
    )
}

const GO_BUILD: &str =
    "language = \"go\"\nbuilder = \"go-module\"\nsub_packages = [\".\"]\ndeps_hash = \"unknown\"";

fn atwb(tmp: &Path, catalog: &Path, args: &[&str]) -> Output {
    common::atwb_in(tmp)
        .arg("--catalog")
        .arg(catalog)
        .args(args)
        .output()
        .expect("running atwb")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn today() -> String {
    let out = Command::new("date").args(["-u", "+%F"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn fetchgit_hash(url: &str, rev: &str, scratch: &Path) -> String {
    nix_hash_path(&fetchgit_tree(url, rev, false, scratch))
}

struct Upstream {
    repo: PathBuf,
    url: String,
    c1: String,
}

/// A Go project with a release v0.1.0 at its first commit.
fn upstream(tmp: &Path) -> Upstream {
    let repo = init(&tmp.join("up"));
    write(&repo.join("main.go"), b"package main\nfunc main() {}\n");
    let c1 = commit_all(&repo, "first");
    git(&repo, &["tag", "-a", "v0.1.0", "-m", "0.1.0"]);
    let url = format!("file://{}", repo.display());
    Upstream { repo, url, c1 }
}

fn pkg_file(catalog: &Path, name: &str) -> PathBuf {
    catalog.join("pkgs/test").join(name).join("package.toml")
}

fn add(catalog: &Path, name: &str, text: &str) -> PathBuf {
    let f = pkg_file(catalog, name);
    write(&f, text.as_bytes());
    f
}

fn provenance(url: &str, new: &str, old: &str, fetcher: &str) -> String {
    format!(
        "computed natively by atwb {} from git objects of {url} at {} ({fetcher}), {}; bumped from {}",
        env!("CARGO_PKG_VERSION"),
        &new[..12],
        today(),
        &old[..12]
    )
}

/// What a bump must write: the same text with exactly these lines replaced.
fn expected(before: &str, version: &str, rev: &str, hash: &str, prov: &str) -> String {
    before
        .lines()
        .map(|l| {
            if l.starts_with("version = ") {
                format!("version = \"{version}\"   # the pinned release")
            } else if l.starts_with("rev = ") {
                format!("rev = \"{rev}\"")
            } else if l.starts_with("hash = ") {
                format!("hash = \"{hash}\"  # old pin")
            } else if l == "verified = false" {
                "verified = true".into()
            } else if l.starts_with("provenance = ") {
                format!("provenance = \"{prov}\"")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn a_release_moves_to_the_new_tag_and_only_with_write() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let up = upstream(tmp.path());
    let catalog = tmp.path().join("catalog");
    let before = package_toml("rel", "0.1.0", &up.url, &up.c1, GO_BUILD);
    let file = add(&catalog, "rel", &before);
    // Upstream moves on after the pin: a commit, then a lightweight tag v0.2.0.
    write(&up.repo.join("lib.go"), b"package main\n");
    let c2 = commit_all(&up.repo, "second");
    git(&up.repo, &["tag", "v0.2.0"]);
    commit_all(&up.repo, "third, untagged");

    let out = atwb(tmp.path(), &catalog, &["bump", "rel"]);
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "nothing written without --write"
    );
    assert!(
        shown.starts_with(&format!(
            "rel: 0.1.0 {} -> 0.2.0 {} (tag v0.2.0)\n",
            &up.c1[..12],
            &c2[..12]
        )),
        "{shown}"
    );
    assert!(
        shown.contains("--- a/pkgs/test/rel/package.toml\n+++ b/pkgs/test/rel/package.toml\n"),
        "{shown}"
    );
    assert!(
        shown.ends_with("(not written; pass --write to update package.toml)\n"),
        "{shown}"
    );
    let changed: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
        .collect();
    assert_eq!(changed.len(), 10, "five lines out, five in: {changed:?}");

    let out = atwb(tmp.path(), &catalog, &["bump", "rel", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let hash = fetchgit_hash(&up.url, &c2, &tmp.path().join("scratch"));
    let prov = provenance(&up.url, &c2, &up.c1, "fetchgit (checkout)");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        expected(&before, "0.2.0", &c2, &hash, &prov)
    );
    assert!(
        text(&out).contains("stale until rebuilt: atwb build rel"),
        "{}",
        text(&out)
    );

    // Again: already there, nothing to change, the file untouched.
    let after = std::fs::read(&file).unwrap();
    let out = atwb(tmp.path(), &catalog, &["bump", "rel", "--write"]);
    assert!(
        text(&out).starts_with(&format!("rel is already at {c2} (0.2.0)")),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), after);
}

#[test]
fn a_commit_gives_an_unstable_version_and_siblings_move_together() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let up = upstream(tmp.path());
    let catalog = tmp.path().join("catalog");
    let ws = format!("{GO_BUILD}\nworkspace = \"shared\"");
    let a = package_toml("ws-a", "0-unstable-2024-02-29", &up.url, &up.c1, &ws);
    let b = package_toml("ws-b", "0-unstable-2024-02-29", &up.url, &up.c1, &ws);
    // Same source, not in the workspace: not moved.
    let alone = package_toml("alone", "0-unstable-2024-02-29", &up.url, &up.c1, GO_BUILD);
    let (fa, fb, fc) = (
        add(&catalog, "ws-a", &a),
        add(&catalog, "ws-b", &b),
        add(&catalog, "alone", &alone),
    );
    let c2 = commit_all(&up.repo, "second");

    let out = atwb(
        tmp.path(),
        &catalog,
        &["bump", "ws-a", "--to", &c2[..10], "--write", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["bump"]["new_rev"], c2.as_str());
    assert_eq!(v["bump"]["new_version"], "0-unstable-2024-02-29");
    // go-module: atwb does not compute vendorHash; it was and stays "unknown", unverified.
    assert_eq!(v["bump"]["deps_verified"], false);
    assert_eq!(v["written"].as_array().unwrap().len(), 2, "{v}");
    let hash = fetchgit_hash(&up.url, &c2, &tmp.path().join("scratch"));
    let prov = provenance(&up.url, &c2, &up.c1, "fetchgit (checkout)");
    assert_eq!(
        std::fs::read_to_string(&fa).unwrap(),
        expected(&a, "0-unstable-2024-02-29", &c2, &hash, &prov)
    );
    assert_eq!(
        std::fs::read_to_string(&fb).unwrap(),
        expected(&b, "0-unstable-2024-02-29", &c2, &hash, &prov)
    );
    assert_eq!(std::fs::read_to_string(&fc).unwrap(), alone);
}

#[test]
fn a_deps_hash_that_cannot_be_computed_becomes_unknown_with_the_reason() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let up = upstream(tmp.path());
    let catalog = tmp.path().join("catalog");
    let build =
        format!("language = \"rust\"\nbuilder = \"rust-package\"\ndeps_hash = \"{OLD_DEPS}\"");
    let before = package_toml("crab", "0-unstable-2024-02-29", &up.url, &up.c1, &build);
    let file = add(&catalog, "crab", &before);
    write(
        &up.repo.join("Cargo.lock"),
        b"version = 3\n\n[[package]]\nname = \"crab\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n\
          [[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
          checksum = \"49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b\"\n",
    );
    let c2 = commit_all(&up.repo, "a crate dependency");

    let out = atwb(tmp.path(), &catalog, &["bump", "crab", "--write"]);
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unverified deps hash is exit 1: {shown}"
    );
    assert!(
        shown.contains("build.deps_hash: unknown (deps_verified = false): "),
        "{shown}"
    );
    assert!(
        shown.contains("itoa"),
        "the reason names the missing crate: {shown}"
    );
    let hash = fetchgit_hash(&up.url, &c2, &tmp.path().join("scratch"));
    let prov = provenance(&up.url, &c2, &up.c1, "fetchgit (checkout)");
    let want = expected(&before, "0-unstable-2024-02-29", &c2, &hash, &prov).replace(
        &format!("deps_hash = \"{OLD_DEPS}\""),
        "deps_hash = \"unknown\"",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), want);
}

#[test]
fn a_file_changed_after_the_plan_is_not_overwritten_nor_its_sibling() {
    let tmp = tempfile::tempdir().unwrap();
    let up = upstream(tmp.path());
    let catalog = tmp.path().join("catalog");
    let ws = format!("{GO_BUILD}\nworkspace = \"shared\"");
    let a = package_toml("ws-a", "0.1.0", &up.url, &up.c1, &ws);
    let b = package_toml("ws-b", "0.1.0", &up.url, &up.c1, &ws);
    let (fa, fb) = (add(&catalog, "ws-a", &a), add(&catalog, "ws-b", &b));
    commit_all(&up.repo, "second");
    git(&up.repo, &["tag", "v0.2.0"]);
    let opts = BumpOptions {
        checkout: Some(up.repo.clone()),
        ..BumpOptions::default()
    };
    let mut bump = plan(&catalog, "ws-a", &BumpTarget::Default, &opts).unwrap();
    assert_eq!(bump.tag.as_deref(), Some("v0.2.0"));
    assert_eq!(bump.packages(), ["ws-a", "ws-b"]);
    // Someone edits the sibling meanwhile.
    let theirs = b.replace("tier = 3", "tier = 2");
    std::fs::write(&fb, &theirs).unwrap();
    let err = bump.write().unwrap_err().to_string();
    assert!(
        err.contains("ws-b/package.toml changed on disk since atwb read it"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&fa).unwrap(), a, "all or nothing");
    assert_eq!(std::fs::read_to_string(&fb).unwrap(), theirs);
}
