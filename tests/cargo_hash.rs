//! `cargoHash` computed from a lockfile and its artifacts equals `nix hash path` of the staging
//! directory nixpkgs' fetchCargoVendor builds, assembled here by hand with plain file
//! operations (`Cargo.lock`, `tarballs/<name>-<version>.tar.gz`, `git/<commit>/` as
//! nix-prefetch-git --fetch-submodules leaves it). No network: the registry is made here.

mod common;
mod git_fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use atwb::nix::cargo_lock::Lockfile;
use atwb::nix::cargo_vendor::{CargoError, CrateSources, cargo_vendor_hash};
use atwb::nix::fetcher::{FetchArgs, Rev, prefetch};
use atwb::nix::submodules::LocalRepos;
use git_fixture::*;

/// The registry directory name cargo uses for crates.io's sparse index.
const REGISTRY_DIR: &str = "index.crates.io-1949cf8c6b5b557f";

/// A repository with a workspace (two crates) and a submodule, as a git dependency.
fn git_dependency(dir: &Path) -> (PathBuf, String) {
    let sub = init(&dir.join("gitdep-sub"));
    write(&sub.join("data.txt"), b"from a submodule\n");
    commit_all(&sub, "sub");
    let repo = init(&dir.join("gitdep"));
    write(
        &repo.join("Cargo.toml"),
        b"[workspace]\nmembers = [\"crates/*\"]\n",
    );
    for name in ["dep-a", "dep-b"] {
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.3.0\"\n");
        write(
            &repo.join("crates").join(name).join("Cargo.toml"),
            manifest.as_bytes(),
        );
        write(&repo.join("crates").join(name).join("src/lib.rs"), b"\n");
    }
    write(&repo.join("scripts/gen.sh"), b"#!/bin/sh\n");
    chmod_x(&repo.join("scripts/gen.sh"));
    symlink("../crates/dep-a", &repo.join("scripts/dep-a"));
    git(
        &repo,
        &[
            "submodule",
            "-q",
            "add",
            sub.to_str().unwrap(),
            "third_party/sub",
        ],
    );
    let rev = commit_all(&repo, "workspace");
    (repo, rev)
}

struct Fixture {
    root: PathBuf,
    lockfile: PathBuf,
    cargo_home: PathBuf,
    crate_dir: PathBuf,
    crates: Vec<(String, String, PathBuf)>,
    git_repo: PathBuf,
    git_rev: String,
}

fn fixture(tmp: &Path) -> Fixture {
    let cargo_home = tmp.join("cargo-home");
    let cache = cargo_home.join("registry/cache").join(REGISTRY_DIR);
    let crate_dir = tmp.join("crates-dir");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&crate_dir).unwrap();
    let mut crates = Vec::new();
    let mut lock =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    // Names sorting differently as crate names and as file names (`a-b` vs `a_b`, `z`).
    for (i, (name, version)) in [
        ("serde-lite", "1.0.2"),
        ("a_b", "0.1.0"),
        ("a-b", "10.0.0"),
        ("z", "0.0.1"),
    ]
    .into_iter()
    .enumerate()
    {
        let (made, _) = common::make_crate(tmp, name, version);
        // Half in cargo's cache, half in a directory given with `--crates`.
        let dest = if i % 2 == 0 { &cache } else { &crate_dir };
        let file = dest.join(made.file_name().unwrap());
        std::fs::rename(&made, &file).unwrap();
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{}\"\n",
            common::sha256sum(&file)
        ));
        crates.push((name.to_string(), version.to_string(), file));
    }
    let (git_repo, git_rev) = git_dependency(tmp);
    let url = format!("file://{}", git_repo.display());
    for name in ["dep-a", "dep-b"] {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"0.3.0\"\nsource = \"git+{url}?branch=main#{git_rev}\"\n"
        ));
    }
    let root = tmp.join("project");
    let lockfile = root.join("Cargo.lock");
    write(&lockfile, lock.as_bytes());
    Fixture {
        root,
        lockfile,
        cargo_home,
        crate_dir,
        crates,
        git_repo,
        git_rev,
    }
}

impl Fixture {
    fn sources(&self) -> CrateSources {
        CrateSources {
            crate_dirs: vec![self.crate_dir.clone()],
            cargo_home: Some(self.cargo_home.clone()),
            git_repos: vec![self.git_repo.clone()],
        }
    }

    /// The staging directory, made by hand the way fetch-cargo-vendor-util does.
    fn staging_by_hand(&self, tmp: &Path) -> PathBuf {
        let out = tmp.join("vendor-staging");
        std::fs::create_dir_all(out.join("tarballs")).unwrap();
        std::fs::copy(&self.lockfile, out.join("Cargo.lock")).unwrap();
        for (name, version, file) in &self.crates {
            std::fs::copy(
                file,
                out.join("tarballs")
                    .join(format!("{name}-{version}.tar.gz")),
            )
            .unwrap();
        }
        let url = format!("file://{}", self.git_repo.display());
        let checkout = fetchgit_tree(&url, &self.git_rev, true, &tmp.join("git-scratch"));
        std::fs::create_dir_all(out.join("git")).unwrap();
        std::fs::rename(&checkout, out.join("git").join(&self.git_rev)).unwrap();
        out
    }
}

#[test]
fn cargo_hash_equals_nix_hash_path_of_the_staging_directory() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture(tmp.path());
    let staging = f.staging_by_hand(tmp.path());
    assert!(
        staging
            .join("git")
            .join(&f.git_rev)
            .join("third_party/sub/data.txt")
            .is_file()
    );
    let lock = Lockfile::read(&f.lockfile).unwrap();
    let ours = cargo_vendor_hash(&lock, &f.sources()).unwrap();
    assert_eq!(ours.sri(), nix_hash_path(&staging));
}

#[test]
fn a_lockfile_with_only_registry_crates_has_no_git_directory() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture(tmp.path());
    let text = std::fs::read_to_string(&f.lockfile).unwrap();
    let registry_only = text
        .split("\n[[package]]\nname = \"dep-a\"")
        .next()
        .unwrap()
        .to_string();
    write(&f.lockfile, registry_only.as_bytes());
    let staging = f.staging_by_hand(tmp.path());
    std::fs::remove_dir_all(staging.join("git")).unwrap();
    let lock = Lockfile::read(&f.lockfile).unwrap();
    assert_eq!(
        cargo_vendor_hash(&lock, &f.sources()).unwrap().sri(),
        nix_hash_path(&staging)
    );
}

#[test]
fn a_tampered_crate_is_refused_with_its_name() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture(tmp.path());
    let (name, version, file) = &f.crates[2];
    let mut bytes = std::fs::read(file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(file, bytes).unwrap();
    let lock = Lockfile::read(&f.lockfile).unwrap();
    let err = cargo_vendor_hash(&lock, &f.sources()).unwrap_err();
    assert!(
        matches!(&err, CargoError::ChecksumMismatch { name: n, version: v, .. } if n == name && v == version),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("crate {name} {version}")),
        "{err}"
    );
}

#[test]
fn missing_crates_and_git_dependencies_are_named_with_the_fix() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture(tmp.path());
    std::fs::remove_file(&f.crates[0].2).unwrap();
    std::fs::remove_file(&f.crates[1].2).unwrap();
    let lock = Lockfile::read(&f.lockfile).unwrap();
    let err = cargo_vendor_hash(&lock, &f.sources()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CargoError::MissingCrates { crates, .. } if crates.len() == 2),
        "{msg}"
    );
    assert!(
        msg.contains("serde-lite 1.0.2") && msg.contains("a_b 0.1.0"),
        "{msg}"
    );
    assert!(msg.contains("cargo fetch --locked"), "{msg}");
    assert!(msg.contains(&f.root.display().to_string()), "{msg}");

    let f = fixture(&tmp.path().join("again"));
    let no_git = CrateSources {
        git_repos: Vec::new(),
        ..f.sources()
    };
    let lock = Lockfile::read(&f.lockfile).unwrap();
    let err = cargo_vendor_hash(&lock, &no_git).unwrap_err();
    assert!(
        matches!(&err, CargoError::MissingGitDependency(m) if m.name == "dep-a"),
        "{err}"
    );
    assert!(err.to_string().contains("cargo fetch --locked"), "{err}");
}

/// The proof against nixpkgs' recorded hashes for a real package: hexyl 0.16.0
/// (`pkgs/by-name/he/hexyl/package.nix`: `tag = "v0.16.0"`, `hash`, `cargoHash`).
///
/// Needs a clone of <https://github.com/sharkdp/hexyl> (`ATWB_PROOF_HEXYL_REPO`) and network
/// for `cargo fetch --locked`; run with
/// `ATWB_PROOF_HEXYL_REPO=/path/to/hexyl cargo test --test cargo_hash -- --ignored`.
#[test]
#[ignore = "needs a clone of sharkdp/hexyl and crates.io"]
fn hexyl_0_16_0_matches_the_hashes_nixpkgs_records() {
    const SRC_HASH: &str = "sha256-TmFvv+jzOSM8kKCxBbUoDsUjKRPTplhWheVfIjS5nsY=";
    const CARGO_HASH: &str = "sha256-QjQoGtLF5BAxWFiLZZYCpwrYCdiVfvG/lAukCNZGsec=";
    let repo =
        PathBuf::from(std::env::var("ATWB_PROOF_HEXYL_REPO").expect("ATWB_PROOF_HEXYL_REPO"));
    let tag = Rev::Tag("v0.16.0".into());
    let src = prefetch(&repo, &tag, &FetchArgs::github(), &LocalRepos::default()).unwrap();
    assert_eq!(src.hash.sri(), SRC_HASH);
    assert_eq!(src.version, "0.16.0");

    let tmp = tempfile::tempdir().unwrap();
    let checkout = fetchgit_tree(repo.to_str().unwrap(), &src.rev, false, tmp.path());
    let cargo_home = tmp.path().join("cargo-home");
    let status = Command::new("cargo")
        .args(["fetch", "--locked"])
        .current_dir(&checkout)
        .env("CARGO_HOME", &cargo_home)
        .status()
        .unwrap();
    assert!(status.success(), "cargo fetch --locked");
    let lock = Lockfile::read(&checkout.join("Cargo.lock")).unwrap();
    let sources = CrateSources {
        cargo_home: Some(cargo_home),
        ..CrateSources::default()
    };
    assert_eq!(
        cargo_vendor_hash(&lock, &sources).unwrap().sri(),
        CARGO_HASH
    );
}
