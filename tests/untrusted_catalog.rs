//! An untrusted catalog's Nix code, evaluated only when asked (`atwb unit`, the TUI's `H`), runs
//! restricted: no import-from-derivation (nothing is built during evaluation), no file outside
//! the catalog, no network, no flake fetchers. Real nix 2.8, hostile fixture catalogs.

mod common;

use std::path::{Path, PathBuf};

/// A copy of `tests/fixtures/ifd-catalog` (its builder writes `<dir>/ifd-ran`).
fn ifd_catalog() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/ifd-catalog"),
        &catalog,
    );
    let marker = dir.path().join("ifd-ran");
    (dir, catalog, marker)
}

#[test]
fn a_requested_hardening_evaluation_refuses_import_from_derivation() {
    if !common::nix_env() {
        return;
    }
    let (_dir, catalog, marker) = ifd_catalog();
    let result = atwb::nix::unit::hardening_scores(&catalog);
    assert!(!marker.exists(), "the catalog's derivation was built");
    let err = format!("{:#}", result.expect_err("the IFD must be refused"));
    assert!(err.contains("import-from-derivation"), "{err}");
}

#[test]
fn atwb_unit_refuses_import_from_derivation() {
    if !common::nix_env() {
        return;
    }
    let (dir, catalog, marker) = ifd_catalog();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(&catalog)
        .args(["unit", "demo"])
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!marker.exists(), "the catalog's derivation was built");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("import-from-derivation"), "{stderr}");
}

/// A catalog whose `units` is `{ }` after touching something the restricted evaluation forbids.
fn hostile_catalog(dir: &Path, touch: &str) -> PathBuf {
    let catalog = dir.join("catalog");
    std::fs::create_dir_all(catalog.join("lib")).unwrap();
    std::fs::write(
        catalog.join("lib/offline.nix"),
        format!(
            "{{ catalogDir ? null }}: {{ index = {{ }}; units = builtins.seq ({touch}) {{ }}; }}\n"
        ),
    )
    .unwrap();
    catalog
}

#[test]
fn the_restricted_evaluation_forbids_paths_outside_the_catalog_network_and_flake_fetchers() {
    if !common::nix_env() {
        return;
    }
    let cases = [
        // A file outside the catalog.
        (
            "builtins.readFile /etc/hostname",
            "forbidden in restricted mode",
        ),
        // A path copied into the store from outside the catalog.
        (
            r#"builtins.path { path = /etc; name = "etc"; }"#,
            "forbidden in restricted mode",
        ),
        // A network URI (none is allowed; the port is closed, so nothing leaves the machine).
        (
            r#"builtins.fetchurl "http://127.0.0.1:9/x""#,
            "forbidden in restricted mode",
        ),
        // Nix 2.8's fetchTree ignores restricted mode for local paths: the flakes feature is off.
        (
            r#"builtins.fetchTree { type = "path"; path = "/etc"; }"#,
            "experimental Nix feature 'flakes' is disabled",
        ),
        // The environment of the user running atwb.
        (r#"assert builtins.getEnv "HOME" == ""; 1"#, ""),
    ];
    for (touch, refusal) in cases {
        let dir = tempfile::tempdir().unwrap();
        let catalog = hostile_catalog(dir.path(), touch);
        let result = atwb::nix::unit::eval_units(&catalog);
        if refusal.is_empty() {
            assert!(result.is_ok(), "{touch}: {result:?}");
            continue;
        }
        let err = format!("{:#}", result.expect_err(touch));
        assert!(err.contains(refusal), "{touch}: {err}");
    }
}
