//! The lockfile half of `rehash`, shared by the bump and `atwb hash`: which file is read, from a
//! commit or from disk, and that both routes hash alike.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Mutex;

use super::*;

const CARGO_LOCK: &str = "version = 3\n\n[[package]]\nname = \"solo\"\nversion = \"0.1.0\"\n";
/// A package-lock.json with one dependency whose tarball holds `TARBALL`.
fn npm_lock(version: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let integrity = base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(TARBALL));
    format!(
        r#"{{"name": "solo", "version": "{version}", "lockfileVersion": 3, "requires": true,
  "packages": {{"": {{"name": "solo", "version": "{version}", "dependencies": {{"dep": "1.0.0"}}}},
    "node_modules/dep": {{"version": "1.0.0",
      "resolved": "https://registry.npmjs.org/dep/-/dep-1.0.0.tgz", "integrity": "sha512-{integrity}"}}}}}}
"#
    )
}
const TARBALL: &[u8] = b"the bytes of dep-1.0.0.tgz, never unpacked";

/// A repository whose one commit holds `files` (path, contents, executable); returns its id.
fn commit(dir: &Path, files: &[(&str, &str, bool)]) -> String {
    let repo = git2::Repository::init(dir).unwrap();
    for (path, text, exec) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        let mode = if *exec { 0o755 } else { 0o644 };
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = git2::Signature::now("t", "t@example.invalid").unwrap();
    repo.commit(Some("HEAD"), &who, &who, "lockfiles", &tree, &[])
        .unwrap()
        .to_string()
}

/// No caches of the user's: an empty npm cache and a directory holding the one tarball.
fn isolated(dir: &Path) -> DepSources {
    let npm_cache = dir.join("npm-cache");
    let tarballs = dir.join("tarballs");
    std::fs::create_dir_all(&npm_cache).unwrap();
    std::fs::create_dir_all(&tarballs).unwrap();
    std::fs::write(tarballs.join("any-name"), TARBALL).unwrap();
    DepSources {
        npm_cache: Some(npm_cache),
        tarballs: Some(tarballs),
        ..DepSources::default()
    }
}

fn hash_reporting(lock: LockBytes, sources: &DepSources) -> (String, Vec<HashStep>) {
    let steps = Mutex::new(Vec::new());
    let hash = lock_deps_hash(lock, sources, &[], &|s| steps.lock().unwrap().push(s)).unwrap();
    (hash, steps.into_inner().unwrap())
}

#[test]
fn a_lockfile_in_a_commit_hashes_as_the_same_file_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let rev = commit(
        &repo,
        &[
            ("Cargo.lock", CARGO_LOCK, true),
            ("web/package-lock.json", &npm_lock("1.0.0"), false),
        ],
    );
    let sources = isolated(tmp.path());

    let blob = LockBytes::at_commit(&repo, &rev, "Cargo.lock", LockKind::Cargo).unwrap();
    assert!(blob.executable && !blob.on_disk);
    let (from_commit, steps) = hash_reporting(blob, &sources);
    assert_eq!(steps.first(), Some(&HashStep::Crates { done: 0, total: 0 }));
    let on_disk = LockBytes::read(&repo.join("Cargo.lock")).unwrap();
    assert!(on_disk.executable && on_disk.on_disk);
    assert_eq!(hash_reporting(on_disk, &sources).0, from_commit);
    // The staging directory keeps the lockfile's mode, so the bit read must reach the hash.
    std::fs::set_permissions(
        repo.join("Cargo.lock"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let plain = LockBytes::read(&repo.join("Cargo.lock")).unwrap();
    assert_ne!(hash_reporting(plain, &sources).0, from_commit);

    let blob = LockBytes::at_commit(&repo, &rev, "web/package-lock.json", LockKind::Npm).unwrap();
    let (from_commit, steps) = hash_reporting(blob, &sources);
    assert_eq!(steps, [HashStep::NpmTarballs]);
    let on_disk = LockBytes::read(&repo.join("web/package-lock.json")).unwrap();
    assert_eq!(hash_reporting(on_disk, &sources).0, from_commit);
}

#[test]
fn npm_shrinkwrap_wins_and_a_missing_lockfile_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let shrinkwrap = npm_lock("2.0.0");
    let rev = commit(
        tmp.path(),
        &[
            ("web/package-lock.json", &npm_lock("1.0.0"), false),
            ("web/npm-shrinkwrap.json", &shrinkwrap, false),
        ],
    );
    let lock =
        LockBytes::at_commit(tmp.path(), &rev, "web/package-lock.json", LockKind::Npm).unwrap();
    assert_eq!(lock.path, tmp.path().join("web/npm-shrinkwrap.json"));
    assert_eq!(lock.bytes, shrinkwrap.as_bytes());

    let err = LockBytes::at_commit(tmp.path(), &rev, "web/Cargo.lock", LockKind::Cargo)
        .err()
        .unwrap();
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!("commit {} of ", short(&rev)))
            && message.ends_with("no web/Cargo.lock"),
        "{message}"
    );
    let err = LockBytes::at_commit(
        tmp.path(),
        "no-such-rev",
        "web/package-lock.json",
        LockKind::Npm,
    )
    .err()
    .unwrap();
    assert!(
        format!("{err:#}").contains("no commit no-such-rev"),
        "{err:#}"
    );
}

#[test]
fn only_known_lockfiles_and_builders_have_a_kind() {
    assert_eq!(
        LockKind::of(Path::new("a/Cargo.lock")).unwrap(),
        LockKind::Cargo
    );
    assert_eq!(
        LockKind::of(Path::new("npm-shrinkwrap.json")).unwrap(),
        LockKind::Npm
    );
    let err = LockKind::of(Path::new("web/yarn.lock"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("web/yarn.lock: not a lockfile"), "{err}");
    assert!(LockBytes::read(Path::new("/nonexistent/Cargo.lock")).is_err());
    assert_eq!(LockKind::of_builder("rust-package"), Some(LockKind::Cargo));
    assert_eq!(
        LockKind::of_builder("rust-workspace"),
        Some(LockKind::Cargo)
    );
    assert_eq!(LockKind::of_builder("npm-package"), Some(LockKind::Npm));
    assert_eq!(LockKind::of_builder("pnpm-workspace"), None);
    assert_eq!(LockKind::of_builder("go-module"), None);
}
