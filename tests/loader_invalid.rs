//! The loader keeps package folders that do not load as invalid entries (folder name, org, tier
//! when the file says it, their own diagnostics), and reads one folder again on its own.

mod common;

use std::path::Path;

use atwb::catalog::{Reloaded, Tier, load, load_package};

fn append(file: &Path, text: &str) {
    let old = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, format!("{old}{text}")).unwrap();
}

#[test]
fn broken_folders_are_kept_with_their_own_diagnostics() {
    let (_dir, root) = common::tui_catalog_copy();
    let pds = root.join("pkgs/bluesky-social/pds/package.toml");
    append(&pds, "\n[oops\n");
    let empty = root.join("pkgs/acme/empty");
    std::fs::create_dir_all(&empty).unwrap();
    let loaded = load(&root).unwrap();
    assert_eq!(loaded.catalog.packages.len(), 6);
    let names: Vec<(&str, &str)> = loaded
        .invalid
        .iter()
        .map(|i| (i.org.as_str(), i.name.as_str()))
        .collect();
    // Known tiers first, in tree order; the folder without a file has no tier.
    assert_eq!(names, vec![("bluesky-social", "pds"), ("acme", "empty")]);
    let p = &loaded.invalid[0];
    assert_eq!(
        p.tier,
        Some(Tier::Foundation),
        "read from the lines above the error"
    );
    assert_eq!(p.file, pds);
    assert!(!p.catalog_wide);
    let lines = std::fs::read_to_string(&pds).unwrap().lines().count();
    assert_eq!(
        p.first_line(),
        Some(lines),
        "the syntax error is on the last line"
    );
    assert!(
        p.diagnostics
            .iter()
            .all(|d| d.file == pds && d.hint.is_some())
    );
    let e = &loaded.invalid[1];
    assert_eq!((e.tier, e.first_line()), (None, None));
    assert_eq!(
        e.diagnostics[0].message,
        "package folder has no package.toml"
    );
    // Every diagnostic of the entries is also in the catalog-wide list `atwb check` prints.
    for i in &loaded.invalid {
        for d in &i.diagnostics {
            assert!(loaded.diagnostics.contains(d), "{d}");
        }
    }
}

#[test]
fn catalog_wide_diagnostics_are_marked() {
    let (_dir, root) = common::tui_catalog_copy();
    // A second `goat` in another org: both are reported, both kept as invalid entries.
    common::copy_dir(
        &root.join("pkgs/bluesky-social/goat"),
        &root.join("pkgs/acme/goat"),
    );
    let loaded = load(&root).unwrap();
    let goats: Vec<_> = loaded.invalid.iter().filter(|i| i.name == "goat").collect();
    assert_eq!(goats.len(), 2);
    assert!(
        goats
            .iter()
            .all(|g| g.catalog_wide && g.tier == Some(Tier::Foundation))
    );
}

#[test]
fn one_folder_is_read_again_on_its_own() {
    let (_dir, root) = common::tui_catalog_copy();
    let dir = root.join("pkgs/bluesky-social/goat");
    let Reloaded::Valid(p) = load_package(&root, &dir).unwrap() else {
        panic!("goat loads");
    };
    let full = load(&root).unwrap();
    assert_eq!(
        Some(&*p),
        full.catalog.get("goat"),
        "the same as a full load"
    );
    append(&dir.join("package.toml"), "\nbogus = 1\n");
    let Reloaded::Invalid(i) = load_package(&root, &dir).unwrap() else {
        panic!("goat is now invalid");
    };
    assert_eq!(i.diagnostics[0].field, "atproto.bogus");
    assert_eq!(
        load_package(&root, &root.join("pkgs/bluesky-social/nothing")).unwrap(),
        Reloaded::Gone
    );
    // A link in place of the folder, or a folder outside pkgs/<org>/: the full load decides.
    let outside = tempfile::tempdir().unwrap();
    let link = root.join("pkgs/bluesky-social/linked");
    std::os::unix::fs::symlink(outside.path(), &link).unwrap();
    assert_eq!(load_package(&root, &link).unwrap(), Reloaded::NeedsFullLoad);
    assert_eq!(
        load_package(&root, &root.join("lib")).unwrap(),
        Reloaded::NeedsFullLoad
    );
}

#[test]
fn list_json_reports_invalid_packages_with_a_field_saying_so() {
    let (_dir, root) = common::tui_catalog_copy();
    append(
        &root.join("pkgs/bluesky-social/pds/package.toml"),
        "\n[oops\n",
    );
    let list = |args: &[&str]| -> serde_json::Value {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
            .arg("--catalog")
            .arg(&root)
            .args(["list", "--json"])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("listed with \"invalid\": true"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let all = list(&[]);
    let items = all.as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert!(items[..6].iter().all(|i| i["invalid"] == false));
    let pds = &items[6];
    assert_eq!(pds["invalid"], true);
    assert_eq!(
        (pds["name"].as_str(), pds["org"].as_str()),
        (Some("pds"), Some("bluesky-social"))
    );
    assert_eq!(pds["tier"], 1);
    let errors = pds["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(errors[0]["line"].as_u64().unwrap() > 0, "{pds}");
    assert!(
        errors[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("pds/package.toml")
    );
    // The same selection as the valid ones.
    assert!(
        list(&["--tier", "2"])
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["invalid"] == false)
    );
    assert_eq!(
        list(&["--filter", "pds"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["invalid"] == true)
            .count(),
        1
    );
    // `atwb check` is unchanged: every problem, exit 1.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(&root)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
}
