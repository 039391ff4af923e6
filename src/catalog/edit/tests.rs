#[test]
fn refuses_a_file_that_is_not_utf8_instead_of_mangling_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("package.toml");
    std::fs::write(&p, b"name = \"x\xff\"\n").unwrap();
    let Err(err) = PackageFile::read(&p) else {
        panic!("a non-UTF-8 file must be refused");
    };
    let err = err.to_string();
    assert!(err.contains("not valid UTF-8"), "{err}");
}

use super::*;

const GOT: &str = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";
const OLD: &str = "sha256-etApf/SFz6qsbrmGmqSTL+nReMfyCpedqFNBEhkhilU=";

fn pkg(root: &Path, org: &str, name: &str, ws: Option<&str>, deps: &str) -> PathBuf {
    let dir = root.join("pkgs").join(org).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let ws = ws
        .map(|w| format!("workspace = \"{w}\"  # shared\n"))
        .unwrap_or_default();
    let text = format!(
        "name = \"{name}\" # the name\n\n[source]\nhost = \"github\"\nrev = \"{}\"\nhash = \"{OLD}\"\nverified = false\nprovenance = \"copied\"\n\n[build]\n# the deps\ndeps_hash = \"{deps}\"   # keep me\n{ws}",
        "a".repeat(40)
    );
    std::fs::write(dir.join("package.toml"), text).unwrap();
    dir.join("package.toml")
}

fn mismatch(name: &str, specified: &str) -> HashMismatchInfo {
    HashMismatchInfo {
        drv_path: format!("/nix/store/{}-{name}.drv", "z".repeat(32)),
        specified: specified.into(),
        got: GOT.into(),
        confirmed: true,
    }
}

#[test]
fn deps_hash_fix_changes_only_that_value_in_the_whole_workspace() {
    let t = tempfile::tempdir().unwrap();
    let a = pkg(t.path(), "o", "a", Some("ws"), "unknown");
    let b = pkg(t.path(), "o", "b", Some("ws"), "unknown");
    let c = pkg(t.path(), "o", "c", None, "unknown");
    let before = std::fs::read_to_string(&a).unwrap();
    let r = apply_hash_fix(t.path(), "a", &mismatch("a-0.1-vendor", FAKE_HASH)).unwrap();
    assert_eq!(r.field, HashField::DepsHash);
    assert_eq!(r.files, vec![a.clone(), b.clone()]);
    let after = std::fs::read_to_string(&a).unwrap();
    assert_eq!(
        after,
        before.replace("deps_hash = \"unknown\"", &format!("deps_hash = \"{GOT}\""))
    );
    assert!(after.contains("# keep me") && after.contains("# the deps"));
    assert!(std::fs::read_to_string(&b).unwrap().contains(GOT));
    assert!(!std::fs::read_to_string(&c).unwrap().contains(GOT));
}

#[test]
fn source_fix_sets_hash_and_provenance() {
    let t = tempfile::tempdir().unwrap();
    let a = pkg(t.path(), "o", "a", None, "unknown");
    let r = apply_hash_fix(t.path(), "a", &mismatch("source", OLD)).unwrap();
    assert_eq!(r.field, HashField::SourceHash);
    let after = std::fs::read_to_string(&a).unwrap();
    assert!(after.contains(&format!("hash = \"{GOT}\"")));
    assert!(after.contains("verified = true") && after.contains("got: from nix build"));
    assert!(after.contains("deps_hash = \"unknown\""));
}

#[test]
fn refuses_when_field_no_longer_holds_specified() {
    let t = tempfile::tempdir().unwrap();
    let a = pkg(
        t.path(),
        "o",
        "a",
        None,
        "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
    );
    let before = std::fs::read_to_string(&a).unwrap();
    let e = apply_hash_fix(t.path(), "a", &mismatch("a-vendor", FAKE_HASH)).unwrap_err();
    assert!(e.to_string().contains("changed since that build"), "{e}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), before);
}

#[test]
fn save_refuses_after_outside_change() {
    let t = tempfile::tempdir().unwrap();
    let a = pkg(t.path(), "o", "a", None, "unknown");
    let mut f = PackageFile::read(&a).unwrap();
    f.set("build.deps_hash", GOT).unwrap();
    std::fs::write(&a, "name = \"a\"\n# edited elsewhere\n").unwrap();
    assert!(matches!(f.save(), Err(EditError::ChangedOnDisk { .. })));
    assert!(
        std::fs::read_to_string(&a)
            .unwrap()
            .contains("edited elsewhere")
    );
}

#[test]
fn bad_got_value_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    pkg(t.path(), "o", "a", None, "unknown");
    let mut m = mismatch("a-vendor", FAKE_HASH);
    m.got = "sha256-short".into();
    assert!(apply_hash_fix(t.path(), "a", &m).is_err());
}

#[test]
fn digests_compare_across_encodings() {
    // The same hash as SRI, nix base32 and hex (values from `nix hash to-base32/to-base16`).
    let sri = "sha256-etApf/SFz6qsbrmGmqSTL+nReMfyCpedqFNBEhkhilU=";
    let hex = "7ad0297ff485cfaaac6eb9869aa4932fe9d178c7f20a979da853411219218a55";
    let nix32 = "0mca44ci4hakm2frf2pjqxwd3s9gjfj9m1mrdsnamkw5yizjkl3s";
    assert_eq!(sha256_digest(sri).map(|d| d[0]), Some(0x7a));
    assert!(same_digest(sri, hex) && same_digest(sri, nix32));
    assert!(same_digest(FAKE_HASH, &"0".repeat(52)));
    assert!(same_digest(
        "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
        "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
    ));
    assert!(!same_digest(sri, FAKE_HASH));
}

#[test]
fn drv_names() {
    assert_eq!(
        drv_name(&format!("/nix/store/{}-source.drv", "a".repeat(32))),
        "source"
    );
    assert_eq!(
        drv_name(&format!("/nix/store/{}-foo-1.0-vendor.drv", "a".repeat(32))),
        "foo-1.0-vendor"
    );
}

/// Four members of one workspace, all holding the fake deps hash: `a` is fixed, so all four are
/// written, `a` first and the others in path order.
fn workspace_of_four(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["a", "b", "c", "d"]
        .iter()
        .map(|n| {
            let p = pkg(root, "o", n, Some("ws"), "unknown");
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn assert_unchanged(files: &[(PathBuf, Vec<u8>)]) {
    for (p, before) in files {
        assert_eq!(
            &std::fs::read(p).unwrap(),
            before,
            "{} changed although the fix failed",
            p.display()
        );
    }
}

/// Names in the package directories other than package.toml (temp files, kept originals).
fn side_files(files: &[(PathBuf, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (p, _) in files {
        for e in std::fs::read_dir(p.parent().unwrap()).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name != "package.toml" && !name.starts_with(".blocker") {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn a_failed_third_write_leaves_all_four_files_as_they_were() {
    let t = tempfile::tempdir().unwrap();
    let files = workspace_of_four(t.path());
    // The third file's temp file cannot be created: a directory is in its place.
    let third_dir = files[2].0.parent().unwrap();
    std::fs::create_dir(third_dir.join(format!(".package.toml.atwb-{}.tmp", std::process::id())))
        .unwrap();
    let err = apply_hash_fix(t.path(), "a", &mismatch("ws-0.1-vendor", FAKE_HASH)).unwrap_err();
    assert!(err.to_string().contains("c/package.toml"), "{err}");
    assert_unchanged(&files);
}

/// Every file of `files` read and given the `got:` hash, not yet saved.
fn with_got_hash(files: &[(std::path::PathBuf, Vec<u8>)]) -> Vec<PackageFile> {
    files
        .iter()
        .map(|(p, _)| {
            let mut f = PackageFile::read(p).unwrap();
            f.set("build.deps_hash", GOT).unwrap();
            f
        })
        .collect()
}

#[test]
fn a_failed_rename_rolls_back_the_files_already_replaced() {
    let t = tempfile::tempdir().unwrap();
    let files = workspace_of_four(t.path());
    let mut edited = with_got_hash(&files);
    let mut calls = 0;
    let mut install = |from: &Path, to: &Path| {
        calls += 1;
        if calls == 3 {
            return Err(std::io::Error::other("injected failure"));
        }
        std::fs::rename(from, to)
    };
    let err = save_all_with(&mut edited, &mut install).unwrap_err();
    assert!(
        matches!(err, EditError::RolledBack { restored: true, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("nothing changed"), "{err}");
    assert_unchanged(&files);
    assert_eq!(
        side_files(&files),
        Vec::<String>::new(),
        "no temp file left"
    );
    // The same files then save: the transaction left nothing in the way.
    save_all(&mut edited).unwrap();
    for (p, _) in &files {
        assert!(std::fs::read_to_string(p).unwrap().contains(GOT));
    }
    assert_eq!(side_files(&files), Vec::<String>::new());
}

#[test]
fn a_change_on_disk_to_the_last_file_stops_the_whole_transaction() {
    let t = tempfile::tempdir().unwrap();
    let files = workspace_of_four(t.path());
    let mut edited = with_got_hash(&files);
    std::fs::write(&files[3].0, "name = \"d\"\n# edited elsewhere\n").unwrap();
    let err = save_all(&mut edited).unwrap_err();
    assert!(matches!(err, EditError::ChangedOnDisk { .. }), "{err}");
    assert_unchanged(&files[..3]);
}

#[test]
fn an_unconfirmed_mismatch_is_written_unverified_with_its_provenance() {
    let t = tempfile::tempdir().unwrap();
    let a = pkg(t.path(), "o", "a", None, "unknown");
    let mut m = mismatch("source", OLD);
    m.confirmed = false;
    apply_hash_fix(t.path(), "a", &m).unwrap();
    let after = std::fs::read_to_string(&a).unwrap();
    assert!(after.contains(&format!("hash = \"{GOT}\"")), "{after}");
    assert!(after.contains("verified = false"), "{after}");
    assert!(
        after.contains("provenance = \"from nix build log, unconfirmed: got: of source"),
        "{after}"
    );
    // A summary stored before the field existed reads as unconfirmed.
    let old: FailureSummary = serde_json::from_str(
        r#"{"class":"hash_mismatch","first_line":"x","hash_mismatch":{"drv_path":"d","specified":"s","got":"g"}}"#,
    )
    .unwrap();
    assert!(!old.hash_mismatch.unwrap().confirmed);
}
