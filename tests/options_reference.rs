//! `docs/options/<package>.md` is the option reference of each catalog package with services, as
//! `atwb options NAME --markdown` prints it. This test runs the real binary on the repository's
//! catalog and fails when a checked-in file differs, is missing, or names no package.
//!
//! To regenerate every file after a catalog change: `ATWB_UPDATE_DOCS=1 cargo test --test
//! options_reference` (written atomically; files of removed packages are deleted).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

const REGENERATE: &str = "ATWB_UPDATE_DOCS=1 cargo test --test options_reference";

fn docs_dir() -> PathBuf {
    common::repo_root().join("docs/options")
}

fn catalog_dir() -> PathBuf {
    common::repo_root().join("catalog")
}

fn generate(catalog: &Path, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(catalog)
        .args(["options", name, "--markdown"])
        .env_remove("ATWB_CATALOG")
        .output()
        .expect("run atwb");
    assert!(
        out.status.success(),
        "atwb options {name} --markdown failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn checked_in() -> BTreeSet<String> {
    std::fs::read_dir(docs_dir())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".md").map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn checked_in_references_equal_atwb_options() {
    let loaded = atwb::catalog::load(&catalog_dir()).unwrap();
    let with_services: Vec<&str> = loaded
        .catalog
        .packages
        .iter()
        .filter(|p| !p.services.is_empty())
        .map(|p| p.name.as_str())
        .collect();
    assert!(!with_services.is_empty(), "no package with services loaded");
    // Files of packages that do not load are judged by the next test, not called stale here.
    let unloaded: BTreeSet<String> = loaded
        .diagnostics
        .iter()
        .filter_map(|d| Some(d.file.parent()?.file_name()?.to_str()?.to_string()))
        .collect();
    let update = std::env::var_os("ATWB_UPDATE_DOCS").is_some();
    if update {
        std::fs::create_dir_all(docs_dir()).unwrap();
    }
    let mut problems = Vec::new();
    for name in &with_services {
        let want = generate(&catalog_dir(), name);
        let file = docs_dir().join(format!("{name}.md"));
        let have = std::fs::read_to_string(&file).ok();
        if have.as_deref() == Some(want.as_str()) {
            continue;
        }
        if update {
            write_atomic(&file, &want);
        } else if have.is_none() {
            problems.push(format!("docs/options/{name}.md is missing"));
        } else {
            problems.push(format!(
                "docs/options/{name}.md differs from `atwb options {name} --markdown`"
            ));
        }
    }
    for stale in checked_in() {
        if with_services.contains(&stale.as_str()) || unloaded.contains(&stale) {
            continue;
        }
        if update {
            std::fs::remove_file(docs_dir().join(format!("{stale}.md"))).unwrap();
        } else {
            problems.push(format!(
                "docs/options/{stale}.md names no catalog package with services"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nregenerate with: {REGENERATE}",
        problems.join("\n")
    );
}

/// A reference can only be generated for a package that loads: list the ones that do not.
#[test]
fn every_catalog_package_loads_so_its_reference_can_be_generated() {
    let loaded = atwb::catalog::load(&catalog_dir()).unwrap();
    let files: BTreeSet<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.file.display().to_string())
        .collect();
    assert!(
        files.is_empty(),
        "{} package file(s) have errors (see `atwb check`), so their option reference cannot be \
         generated:\n{}",
        files.len(),
        files.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The comparison is not vacuous: a changed catalog makes a different reference.
#[test]
fn a_changed_option_changes_the_reference() {
    let fixture = common::repo_root().join("tests/fixtures/good/fields");
    let before = generate(&fixture, "relayd");
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&fixture, dir.path());
    let file = dir.path().join("pkgs/example-go/relayd/package.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("default = 1000", "default = 2000")).unwrap();
    let after = generate(dir.path(), "relayd");
    assert_ne!(before, after);
    assert!(after.contains("- Default: `2000`"), "{after}");
    assert!(
        before.contains(REGENERATE),
        "the header says how to regenerate"
    );
}
