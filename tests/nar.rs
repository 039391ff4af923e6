//! NAR hashes computed natively equal what nix computes for the same trees: a directory on disk
//! (`nix hash path`, and `nix-store --dump` byte for byte), and git commits read from objects
//! equal to `nix hash path` of the real `git archive` extraction (fetchFromGitHub) and of a real
//! clone + submodule update with `.git` removed (fetchgit). Refusals are tested too.

mod git_fixture;

use std::path::Path;
use std::process::Command;

use atwb::nix::disk_tree::{DiskTree, hash_path};
use atwb::nix::fetcher::{FetchArgs, Rev, prefetch};
use atwb::nix::git_tree::{Semantics, hash_git_tree};
use atwb::nix::hash_error::HashError;
use atwb::nix::nar::{NarHash, NarWriter, dump};
use atwb::nix::submodules::LocalRepos;
use git_fixture::*;

/// Names and kinds that catch ordering, encoding and mode mistakes. NAR order is byte order
/// (`a` < `a-b` < `a.b` < `a0`); git's tree order sorts `a` as `a/` (after `a.b`).
fn tricky_files(root: &Path) {
    write(&root.join("a.b"), b"dot\n");
    write(&root.join("a/x"), b"in a\n");
    write(&root.join("a-b"), b"dash\n");
    write(&root.join("a0"), b"zero\n");
    write(&root.join("ünïcödé ✓.txt"), "héllo wörld\n".as_bytes());
    write(&root.join("日本語/ファイル"), b"kana\n");
    write(&root.join("with space/ leading"), b"");
    write(&root.join("trailing "), b"t\n");
    write(&root.join("bin/run.sh"), b"#!/bin/sh\necho hi\n");
    chmod_x(&root.join("bin/run.sh"));
    symlink("a", &root.join("link-to-dir"));
    symlink("does/not/exist", &root.join("dangling"));
    symlink("/etc/hostname", &root.join("absolute"));
    symlink("ünïcödé ✓.txt", &root.join("z-link"));
    // Larger than the 64 KiB streaming chunk, not a multiple of 8 (padding).
    let big: Vec<u8> = (0..(3 << 20) + 5u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    write(&root.join("big.bin"), &big);
}

fn nar_bytes_of(path: &Path) -> Vec<u8> {
    let mut nar = NarWriter::new(Vec::new()).unwrap();
    dump(&mut DiskTree::new(path), &mut nar).unwrap();
    nar.finish().unwrap().0
}

#[test]
fn a_directory_on_disk_hashes_and_dumps_as_nix_does() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tricky_files(&root);
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("nested/empty/dirs")).unwrap();

    assert_eq!(hash_path(&root).unwrap().sri(), nix_hash_path(&root));
    let reference = Command::new("nix-store")
        .arg("--dump")
        .arg(&root)
        .output()
        .unwrap();
    assert!(reference.status.success());
    let reference = reference.stdout;
    assert!(
        nar_bytes_of(&root) == reference,
        "NAR bytes differ from nix's"
    );

    // A single file and a symlink as the root, as `nix hash path` takes them.
    for single in [root.join("bin/run.sh"), root.join("dangling")] {
        assert_eq!(hash_path(&single).unwrap().sri(), nix_hash_path(&single));
    }
}

#[test]
fn a_fifo_is_refused_like_nix_refuses_it() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    write(&root.join("f"), b"x");
    let status = Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let err = hash_path(&root).unwrap_err();
    assert!(
        matches!(err, HashError::UnsupportedFileType { kind: "fifo", .. }),
        "{err}"
    );
    let nix = nix().args(["hash", "path"]).arg(&root).output().unwrap();
    assert!(!nix.status.success(), "nix accepts a fifo?");
}

/// A repository exercising attributes: export-ignore (root, nested, directory-only, macro),
/// files whose every entry is ignored, CRLF conversion, and a submodule gitlink.
fn attribute_repo(root: &Path) -> String {
    init(root);
    tricky_files(root);
    write(
        &root.join(".gitattributes"),
        b"[attr]drop export-ignore\n\
          /secret export-ignore\n\
          ignored-dir/ export-ignore\n\
          *.tmp drop\n\
          *.bat eol=crlf\n\
          *.auto text=auto eol=crlf\n\
          *.bin binary\n\
          \"quoted name\" export-ignore\n",
    );
    write(&root.join("secret"), b"s\n");
    write(
        &root.join("keep/secret"),
        b"anchored pattern does not match here\n",
    );
    write(&root.join("ignored-dir/k"), b"k\n");
    write(&root.join("only-ignored/x.tmp"), b"tmp\n");
    write(&root.join("only-ignored-dirs/ignored-dir/y"), b"y\n");
    write(&root.join("quoted name"), b"q\n");
    write(&root.join("win.bat"), b"@echo off\r\nrem lf only\necho x\n");
    write(&root.join("text.auto"), b"line\nline\n");
    write(
        &root.join("docs/.gitattributes"),
        b"*.md export-ignore\nkeep.md -export-ignore\n",
    );
    write(&root.join("docs/a.md"), b"# a\n");
    write(&root.join("docs/keep.md"), b"# kept\n");
    write(&root.join("docs/deeper/b.md"), b"# b\n");
    write(&root.join("docs/deeper/c.txt"), b"c\n");
    git(root, &["add", "-A"]);
    // A blob stored with CRLF already: `text=auto` leaves it alone on the way out.
    let raw = root.join("mixed.auto");
    write(&raw, b"a\r\nb\n");
    let blob = git(root, &["hash-object", "-w", "--no-filters", "mixed.auto"]);
    let info = format!("100644,{blob},mixed.auto");
    git(root, &["update-index", "--add", "--cacheinfo", &info]);
    let gitlink = "160000,1111111111111111111111111111111111111111,vendor/lib";
    git(root, &["update-index", "--add", "--cacheinfo", gitlink]);
    git(root, &["commit", "-q", "-m", "attributes"]);
    git(root, &["rev-parse", "HEAD"])
}

fn open(path: &Path) -> git2::Repository {
    git2::Repository::open(path).unwrap()
}

/// atwb's hash of `rev` as the GitHub tarball (`git archive`) would hold it.
fn archive_hash(repo: &Path, rev: &str) -> Result<NarHash, HashError> {
    hash_git_tree(
        &open(repo),
        oid(rev),
        None,
        Semantics::Archive,
        &LocalRepos::default(),
    )
}

/// atwb's hash of `rev` as a fetchgit checkout without submodules would hold it.
fn checkout_hash(repo: &Path, rev: &str) -> Result<NarHash, HashError> {
    let semantics = Semantics::Checkout { submodules: false };
    hash_git_tree(
        &open(repo),
        oid(rev),
        None,
        semantics,
        &LocalRepos::default(),
    )
}

fn oid(s: &str) -> git2::Oid {
    git2::Oid::from_str(s).unwrap()
}

#[test]
fn github_tarball_semantics_equal_git_archive_extracted() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let rev = attribute_repo(&repo);
    let extracted = github_tarball_tree(&repo, &rev, tmp.path());
    // The reference really exercised the rules it checks.
    assert!(!extracted.join("secret").exists() && extracted.join("keep/secret").exists());
    assert!(
        extracted.join("only-ignored").is_dir() && !extracted.join("only-ignored-dirs").exists()
    );
    assert!(!extracted.join("docs/a.md").exists() && extracted.join("docs/keep.md").exists());
    assert_eq!(
        std::fs::read(extracted.join("win.bat")).unwrap(),
        b"@echo off\r\nrem lf only\r\necho x\r\n"
    );

    let ours = archive_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&extracted));
}

#[test]
fn fetchgit_checkout_semantics_equal_a_real_clone_without_dot_git() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let rev = attribute_repo(&repo);
    let checkout = fetchgit_tree(repo.to_str().unwrap(), &rev, false, tmp.path());
    assert!(
        checkout.join("secret").exists(),
        "fetchgit ignores export-ignore"
    );
    assert!(
        checkout.join("vendor/lib").is_dir(),
        "an uninitialised submodule is an empty dir"
    );

    let ours = checkout_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&checkout));
}

/// Commits whose trees hold empty subtrees and a directory of nothing but an empty tree: git
/// cannot make these from a work tree, but other tools can push them.
#[test]
fn empty_trees_vanish_in_both_semantics_as_in_git() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(&tmp.path().join("repo"));
    write(&repo.join("f"), b"f\n");
    let base = commit_all(&repo, "base");
    let empty = git(&repo, &["hash-object", "-t", "tree", "-w", "/dev/null"]);
    let holder = mktree(&repo, &format!("040000 tree {empty}\tinner\n"));
    let listing = git(&repo, &["ls-tree", &base]);
    let top = mktree(
        &repo,
        &format!("{listing}\n040000 tree {empty}\tempty\n040000 tree {holder}\tholder\n"),
    );
    let rev = git(
        &repo,
        &["commit-tree", &top, "-p", &base, "-m", "empty trees"],
    );

    let archive = github_tarball_tree(&repo, &rev, &tmp.path().join("a"));
    let ours = archive_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&archive));

    let checkout = fetchgit_tree(repo.to_str().unwrap(), &rev, false, &tmp.path().join("c"));
    let ours = checkout_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&checkout));
}

fn mktree(repo: &Path, listing: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .args(["mktree"])
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(listing.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// top -> vendor/mid (submodule) -> deps/leaf (nested submodule), each with its own
/// attributes; returns (top, mid, leaf) paths and top's commit.
fn nested_submodules(
    dir: &Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
) {
    let leaf = init(&dir.join("leaf"));
    write(&leaf.join("leaf.txt"), b"leaf\n");
    write(&leaf.join(".gitattributes"), b"*.txt eol=crlf\n");
    write(&leaf.join("tool"), b"#!/bin/sh\n");
    chmod_x(&leaf.join("tool"));
    commit_all(&leaf, "leaf");
    let mid = init(&dir.join("mid"));
    write(&mid.join("mid.rs"), b"fn main() {}\n");
    git(
        &mid,
        &[
            "submodule",
            "-q",
            "add",
            leaf.to_str().unwrap(),
            "deps/leaf",
        ],
    );
    commit_all(&mid, "mid");
    let top = init(&dir.join("top"));
    tricky_files(&top);
    git(
        &top,
        &[
            "submodule",
            "-q",
            "add",
            mid.to_str().unwrap(),
            "vendor/mid",
        ],
    );
    git(
        &top,
        &["submodule", "-q", "update", "--init", "--recursive"],
    );
    let rev = commit_all(&top, "top");
    (top, mid, leaf, rev)
}

#[test]
fn submodules_are_checked_out_recursively_from_local_objects() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (top, mid, leaf, rev) = nested_submodules(&tmp.path().join("src"));
    let checkout = fetchgit_tree(top.to_str().unwrap(), &rev, true, &tmp.path().join("ref"));
    assert!(checkout.join("vendor/mid/deps/leaf/leaf.txt").is_file());
    let expected = nix_hash_path(&checkout);

    // From the superproject's own `.git/modules`, as `git submodule update` left them.
    let args = FetchArgs {
        submodules: Some(true),
        ..FetchArgs::github()
    };
    let got = prefetch(&top, &Rev::Rev(rev.clone()), &args, &LocalRepos::default()).unwrap();
    assert_eq!(got.hash.sri(), expected);
    assert_eq!(got.semantics, Semantics::Checkout { submodules: true });

    // From a bare clone that has no submodule objects: found in the listed repositories...
    let bare = tmp.path().join("bare.git");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            top.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let repos = LocalRepos::new(vec![leaf.clone(), mid.clone()]);
    let got = prefetch(&bare, &Rev::Rev(rev.clone()), &args, &repos).unwrap();
    assert_eq!(got.hash.sri(), expected);

    // ...or refused with the submodule's name and the way to get it, never a wrong hash.
    let err = prefetch(&bare, &Rev::Rev(rev.clone()), &args, &LocalRepos::default()).unwrap_err();
    assert!(
        matches!(&err, HashError::SubmoduleMissing { name, .. } if name == "vendor/mid"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("git submodule update --init --recursive"),
        "{err}"
    );

    // Without fetchSubmodules the submodule is an empty directory (and GitHub's tarball too).
    let plain = fetchgit_tree(
        top.to_str().unwrap(),
        &rev,
        false,
        &tmp.path().join("plain"),
    );
    let got = prefetch(
        &bare,
        &Rev::Rev(rev.clone()),
        &FetchArgs::github(),
        &LocalRepos::default(),
    );
    let archive = github_tarball_tree(&top, &rev, &tmp.path().join("tarball"));
    assert_eq!(got.unwrap().hash.sri(), nix_hash_path(&archive));
    let forced = FetchArgs {
        force_fetch_git: true,
        ..FetchArgs::github()
    };
    let got = prefetch(&bare, &Rev::Rev(rev), &forced, &LocalRepos::default()).unwrap();
    assert_eq!(got.hash.sri(), nix_hash_path(&plain));
}

#[test]
fn export_subst_is_refused_only_where_it_would_change_bytes() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(&tmp.path().join("repo"));
    write(
        &repo.join(".gitattributes"),
        b"version.txt export-subst\nplain.txt export-subst\n",
    );
    write(&repo.join("plain.txt"), b"no placeholder here\n");
    // Enough files that blobs are read ahead on worker threads, so the refusal travels that way.
    for i in 0..40 {
        write(
            &repo.join(format!("pad/{i:02}")),
            format!("{i}\n").as_bytes(),
        );
    }
    let rev = commit_all(&repo, "plain");
    let archive = github_tarball_tree(&repo, &rev, &tmp.path().join("a"));
    let ours = archive_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&archive));

    write(&repo.join("version.txt"), b"commit $Format:%H$\n");
    let rev = commit_all(&repo, "subst");
    let err = archive_hash(&repo, &rev).unwrap_err();
    assert!(
        matches!(&err, HashError::ExportSubst { path } if path == "version.txt"),
        "{err}"
    );
    assert!(err.to_string().contains("forceFetchGit"), "{err}");
    // fetchgit does not expand it: the checkout is hashable.
    let checkout = fetchgit_tree(repo.to_str().unwrap(), &rev, false, &tmp.path().join("c"));
    let ours = checkout_hash(&repo, &rev);
    assert_eq!(ours.unwrap().sri(), nix_hash_path(&checkout));
}

#[test]
fn leave_dot_git_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    if !tools_present() {
        return;
    }
    let repo = init(&tmp.path().join("repo"));
    write(&repo.join("f"), b"f\n");
    let rev = commit_all(&repo, "f");
    let args = FetchArgs {
        leave_dot_git: Some(true),
        ..FetchArgs::git()
    };
    let err = prefetch(&repo, &Rev::Rev(rev), &args, &LocalRepos::default()).unwrap_err();
    assert!(matches!(err, HashError::LeaveDotGit));
    assert!(err.to_string().contains("leaveDotGit"), "{err}");
}

#[test]
fn prefetch_reports_rev_date_and_version() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(&tmp.path().join("repo"));
    write(&repo.join("f"), b"f\n");
    let rev = commit_all(&repo, "f");
    git(&repo, &["tag", "-a", "v1.2.0", "-m", "release"]);
    let by_tag = prefetch(
        &repo,
        &Rev::Tag("v1.2.0".into()),
        &FetchArgs::github(),
        &LocalRepos::default(),
    )
    .unwrap();
    assert_eq!(by_tag.rev, rev);
    assert_eq!(by_tag.version, "1.2.0");
    assert_eq!(
        by_tag.commit_date,
        git(&repo, &["show", "-s", "--format=%cI", &rev])
    );
    let by_rev = prefetch(
        &repo,
        &Rev::Rev(rev[..10].into()),
        &FetchArgs::github(),
        &LocalRepos::default(),
    )
    .unwrap();
    let day = git(&repo, &["show", "-s", "--format=%cs", &rev]);
    assert_eq!(by_rev.version, format!("0-unstable-{day}"));
    assert_eq!(by_rev.hash, by_tag.hash);
    let archive = github_tarball_tree(&repo, &rev, tmp.path());
    assert_eq!(Some(by_rev.hash), NarHash::parse(&nix_hash_path(&archive)));

    let err = prefetch(
        &repo,
        &Rev::Tag("v9".into()),
        &FetchArgs::github(),
        &LocalRepos::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("refs/tags/v9"), "{err}");
}
