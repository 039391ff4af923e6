//! The toolchain table has two halves, `src/catalog/toolchains.rs` (what `atwb check` accepts)
//! and `catalog/lib/toolchains.nix` (what the Nix builders use); this test evaluates the Nix half
//! with the real `nix eval --json --file` and requires both to list the same versions, the same
//! nixpkgs attributes and the same builders per toolchain.
//!
//! `ATWB_TOOLCHAINS_NIX` may point at another copy of the Nix file (to compare with a branch).

use std::collections::BTreeMap;
use std::path::PathBuf;

use atwb::catalog::toolchains::{GO, Kind, NODEJS, PNPM, RUST};
use serde_json::Value;

mod common;

fn nix_file() -> PathBuf {
    std::env::var_os("ATWB_TOOLCHAINS_NIX").map_or_else(
        || common::repo_root().join("catalog/lib/toolchains.nix"),
        PathBuf::from,
    )
}

/// version -> the nixpkgs attributes it selects, and the builders, as one side says them.
#[derive(Debug, PartialEq)]
struct Side {
    versions: BTreeMap<String, Vec<String>>,
    builders: Vec<String>,
}

fn rust_side(kind: Kind) -> Side {
    let versions = match kind {
        Kind::Go => GO
            .iter()
            .map(|g| (g.version.into(), vec![g.toolchain.into(), g.builder.into()]))
            .collect(),
        Kind::Nodejs => pairs(NODEJS),
        Kind::Pnpm => pairs(PNPM),
        // A minimum, not an attribute: both sides name the version itself.
        Kind::Rust => RUST
            .iter()
            .map(|v| (v.to_string(), vec![v.to_string()]))
            .collect(),
    };
    let mut builders: Vec<String> = kind.builders().iter().map(|b| b.as_str().into()).collect();
    builders.sort();
    Side { versions, builders }
}

fn pairs(table: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    table
        .iter()
        .map(|(v, a)| (v.to_string(), vec![a.to_string()]))
        .collect()
}

/// `{ builders = [..]; versions = { "1.26" = { package; builder; } | { minimum; }; }; }`.
fn nix_side(kind: Kind, all: &Value) -> Side {
    let entry = &all[kind.key()];
    assert!(
        entry.is_object(),
        "toolchains.nix has no `{}` table: {all}",
        kind.key()
    );
    let mut builders: Vec<String> = entry["builders"]
        .as_array()
        .unwrap_or_else(|| panic!("{}.builders is not a list", kind.key()))
        .iter()
        .map(|b| b.as_str().expect("builder names are strings").to_string())
        .collect();
    builders.sort();
    let versions = entry["versions"]
        .as_object()
        .unwrap_or_else(|| panic!("{}.versions is not an attrset", kind.key()))
        .iter()
        .map(|(v, row)| {
            let attrs = ["package", "builder", "minimum"]
                .iter()
                .filter_map(|k| row.get(*k).and_then(Value::as_str).map(String::from))
                .collect();
            (v.clone(), attrs)
        })
        .collect();
    Side { versions, builders }
}

#[test]
fn rust_and_nix_tables_agree() {
    if !common::require_tool("nix") {
        return;
    }
    let file = nix_file();
    assert!(
        file.is_file(),
        "{} is missing: it is the Nix half of the toolchain table (src/catalog/toolchains.rs is the other)",
        file.display()
    );
    let out = common::nix()
        .args(["eval", "--json", "--file"])
        .arg(&file)
        .output()
        .expect("run nix");
    assert!(
        out.status.success(),
        "nix eval --file {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut differ = Vec::new();
    for kind in Kind::ALL {
        let (rust, nix) = (rust_side(kind), nix_side(kind, &all));
        if rust != nix {
            differ.push(format!(
                "{}:\n  src/catalog/toolchains.rs: {rust:?}\n  {}: {nix:?}",
                kind.key(),
                file.display()
            ));
        }
    }
    let extra: Vec<&String> = all
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| Kind::ALL.iter().all(|kind| kind.key() != k.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "toolchains.nix has toolchains the workbench does not know: {extra:?}"
    );
    assert!(
        differ.is_empty(),
        "the two toolchain tables differ; change both together:\n{}",
        differ.join("\n")
    );
}
