//! Every `.nix` file in the repository is formatted by alejandra, in the version CI pins
//! (`.ci/alejandra/Cargo.toml`; `.ci/nix-fmt` installs it and formats with `--write`). Needs
//! `alejandra` on PATH: under `CI=true` a missing or differently versioned one is a failure,
//! elsewhere the tests skip with a reason (another release may format differently).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The alejandra version pinned for CI, from the one line `.ci/nix-fmt` reads too.
fn pinned_version() -> String {
    let manifest = common::repo_root().join(".ci/alejandra/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let pin = table["dependencies"]["alejandra"]
        .as_str()
        .unwrap_or_else(|| {
            panic!(
                "{}: dependencies.alejandra is not a string",
                manifest.display()
            )
        });
    pin.strip_prefix('=')
        .unwrap_or_else(|| panic!("{}: alejandra must be pinned with `=`", manifest.display()))
        .to_string()
}

/// Whether `alejandra` of the pinned version is on PATH (see the module comment for CI).
fn require_pinned_alejandra() -> bool {
    if !common::require_tool("alejandra") {
        return false;
    }
    let out = Command::new("alejandra").arg("--version").output().unwrap();
    let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let want = format!("Alejandra {}", pinned_version());
    if found == want {
        return true;
    }
    let why =
        format!("alejandra on PATH is `{found}`, CI pins `{want}`; `.ci/nix-fmt` installs it");
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "{why}");
    eprintln!("SKIPPED: {why}");
    false
}

fn alejandra(args: &[&str], paths: &[PathBuf]) -> Output {
    Command::new("alejandra")
        .args(args)
        .args(paths)
        .output()
        .expect("running alejandra")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_nix_file_is_alejandra_formatted() {
    if !require_pinned_alejandra() {
        return;
    }
    let root = common::repo_root();
    let mut files = Vec::new();
    common::nix_files(&root, &mut files);
    for must in [
        "flake.nix",
        "catalog/default.nix",
        "catalog/lib/service-common.nix",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(must)),
            "{must} is missing from the repository"
        );
    }
    let out = alejandra(&["--check"], &files);
    let unformatted: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("Requires formatting: "))
        .map(|f| f.strip_prefix(root.to_str().unwrap()).unwrap_or(f))
        .collect();
    assert!(
        out.status.success(),
        "alejandra --check failed ({}); run `.ci/nix-fmt --write` (or `nix fmt`).\n\
         not formatted: {unformatted:?}\n{}",
        out.status,
        text(&out.stderr)
    );
    println!("{} .nix files formatted", files.len());
}

/// The check that CI relies on really fails: an unformatted file is named, exit status 2, and
/// left as it was; formatting it makes the check pass; a file that does not parse is exit 1.
#[test]
fn the_format_check_names_what_it_rejects() {
    if !require_pinned_alejandra() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let formatted = "{\n  a = 1;\n  b = [\"x\" \"y\"];\n}\n";
    let good = write("good.nix", formatted);
    let bad = write("bad.nix", "{ a=1;\n    b = [ \"x\" \"y\" ]; }\n");
    let all = [dir.path().to_path_buf()];

    let out = alejandra(&["--check"], &all);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("Requires formatting: {}", bad.display())),
        "{stdout}"
    );
    assert!(!stdout.contains("good.nix"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "{ a=1;\n    b = [ \"x\" \"y\" ]; }\n",
        "--check must not write"
    );

    let out = alejandra(&["--quiet"], std::slice::from_ref(&bad));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), formatted);
    assert_eq!(std::fs::read_to_string(&good).unwrap(), formatted);
    assert_eq!(alejandra(&["--check"], &all).status.code(), Some(0));

    let broken = write("broken.nix", "{ a = ; }\n");
    let out = alejandra(&["--check"], &all);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&broken.display().to_string()),
        "{}",
        text(&out.stderr)
    );
}
