//! `atwb prefetch URL` over real transports: git's smart HTTP protocol served on 127.0.0.1 by
//! `git http-backend`, `file://` remotes, and servers that refuse, 404 or hang. No network.

mod common;
mod git_fixture;
mod git_http;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use git_fixture::{
    commit_all, git, github_tarball_tree, init, nix_hash_path, tools_present, write,
};

fn atwb(tmp: &Path, args: &[&str]) -> Output {
    common::atwb_in(tmp)
        .args(args)
        .env("ATWB_GIT_TIMEOUT", "2")
        .output()
        .expect("running atwb")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "atwb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "atwb should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// An upstream with three commits (a tag on the first) and its bare copy under `root/up.git`.
fn upstream(tmp: &Path) -> (PathBuf, Vec<String>) {
    let dir = init(&tmp.join("upstream"));
    let mut revs = Vec::new();
    for i in 0..3 {
        write(
            &dir.join("src/lib.rs"),
            format!("pub const N: u32 = {i};\n").as_bytes(),
        );
        write(&dir.join(format!("notes/{i}.txt")), b"note\n");
        revs.push(commit_all(&dir, &format!("commit {i}")));
        if i == 0 {
            git(&dir, &["tag", "-a", "v0.1.0", "-m", "first"]);
        }
    }
    let root = tmp.join("served");
    std::fs::create_dir_all(&root).unwrap();
    git(
        &root,
        &["clone", "-q", "--bare", dir.to_str().unwrap(), "up.git"],
    );
    (root, revs)
}

fn expected_hash(tmp: &Path, root: &Path, rev: &str, name: &str) -> String {
    nix_hash_path(&github_tarball_tree(
        &root.join("up.git"),
        rev,
        &tmp.join(name),
    ))
}

fn has_object(repo: &Path, rev: &str) -> bool {
    let repo = git2::Repository::open_bare(repo).unwrap();
    repo.find_commit(git2::Oid::from_str(rev).unwrap()).is_ok()
}

#[test]
fn smart_http_clones_only_the_wanted_commit_shallow() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, revs) = upstream(tmp.path());
    let url = format!("{}/up.git", git_http::serve(&root));

    let head = json(&atwb(tmp.path(), &["prefetch", &url, "--json"]));
    assert_eq!(head["rev"], revs[2].as_str());
    assert_eq!(
        head["hash"],
        expected_hash(tmp.path(), &root, &revs[2], "s2").as_str()
    );
    let cache = PathBuf::from(head["repository"].as_str().unwrap());
    assert!(
        cache.starts_with(tmp.path().join("state")),
        "{}",
        cache.display()
    );
    assert!(
        cache.join("shallow").is_file(),
        "a depth-1 fetch records its boundary"
    );
    assert!(!has_object(&cache, &revs[1]), "history was not fetched");

    // A tag fetches the tag (annotated) and its commit, still shallow.
    let tag = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--tag", "v0.1.0", "--json"],
    ));
    assert_eq!(tag["rev"], revs[0].as_str());
    assert_eq!(tag["version"], "0.1.0");
    assert_eq!(
        tag["hash"],
        expected_hash(tmp.path(), &root, &revs[0], "s0").as_str()
    );
    assert!(!has_object(&cache, &revs[1]));

    // git http-backend refuses unadvertised commits unless told otherwise: the middle commit
    // is then found by a full fetch of the branches and tags.
    let mid = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--rev", &revs[1], "--json"],
    ));
    assert_eq!(mid["rev"], revs[1].as_str());
    assert_eq!(
        mid["hash"],
        expected_hash(tmp.path(), &root, &revs[1], "s1").as_str()
    );
}

#[test]
fn smart_http_fetches_a_commit_id_shallow_where_the_server_allows_it() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, revs) = upstream(tmp.path());
    git(
        &root.join("up.git"),
        &["config", "uploadpack.allowAnySHA1InWant", "true"],
    );
    let url = format!("{}/up.git", git_http::serve(&root));
    let out = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--rev", &revs[1], "--json"],
    ));
    assert_eq!(
        out["hash"],
        expected_hash(tmp.path(), &root, &revs[1], "s1").as_str()
    );
    let cache = PathBuf::from(out["repository"].as_str().unwrap());
    assert!(has_object(&cache, &revs[1]));
    assert!(
        !has_object(&cache, &revs[0]),
        "only the wanted commit was fetched"
    );
    assert!(
        !has_object(&cache, &revs[2]),
        "only the wanted commit was fetched"
    );
}

#[test]
fn a_cached_commit_needs_no_network_and_file_urls_clone_in_full() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, revs) = upstream(tmp.path());
    let bare = root.join("up.git");
    let url = format!("file://{}", bare.display());
    let expected = expected_hash(tmp.path(), &root, &revs[0], "s0");
    let first = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--rev", &revs[0], "--json"],
    ));
    assert_eq!(first["hash"], expected.as_str());
    let cache = PathBuf::from(first["repository"].as_str().unwrap());
    assert!(
        !cache.join("shallow").exists(),
        "the local transport fetches in full"
    );
    // With the upstream gone, the cached commit is still pinned.
    std::fs::remove_dir_all(&bare).unwrap();
    let again = json(&atwb(
        tmp.path(),
        &["prefetch", &url, "--rev", &revs[0], "--json"],
    ));
    assert_eq!(again["hash"], expected.as_str());
    // A branch name needs the remote, and says it cannot reach it.
    let err = stderr(&atwb(tmp.path(), &["prefetch", &url, "--rev", "main"]));
    assert!(err.contains("cannot reach"), "{err}");
}

#[test]
fn missing_repositories_refused_ports_and_hanging_servers_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    let base = git_http::serve(&root);

    let missing = format!("{base}/nobody/none.git");
    let err = stderr(&atwb(tmp.path(), &["prefetch", &missing]));
    assert!(err.contains(&format!("cannot reach {missing}")), "{err}");
    assert!(err.contains("404"), "the status is shown: {err}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("http://127.0.0.1:{port}/r.git");
    let err = stderr(&atwb(tmp.path(), &["prefetch", &refused]));
    assert!(err.contains(&format!("cannot reach {refused}")), "{err}");

    let hanging = format!("{}/r.git", git_http::serve_silence());
    let started = Instant::now();
    let err = stderr(&atwb(tmp.path(), &["prefetch", &hanging]));
    assert!(
        err.contains("timed out") && err.contains("ATWB_GIT_TIMEOUT"),
        "{err}"
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "gave up after ATWB_GIT_TIMEOUT=2"
    );

    let leftovers: Vec<_> = walk(&tmp.path().join("state"))
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("prefetch")))
        .collect();
    assert!(
        leftovers.is_empty(),
        "failed clones leave nothing: {leftovers:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
