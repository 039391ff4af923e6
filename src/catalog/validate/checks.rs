//! `[check]`: the smoke command of a package (`smoke`, `smoke_env`, `smoke_expect`), or
//! `smoke = false` with a custom `test.nix`.

use std::collections::BTreeMap;

use toml_spanner::Kind;

use super::doc::{Doc, Table};
use super::rules::Problem;
use super::sections::read_env;
use super::{SECTIONS, accept};
use crate::catalog::model::{ExtraFiles, Smoke, SmokeCheck};

pub(super) const CHECK_KEYS: &[&str] = &["smoke", "smoke_env", "smoke_expect"];

/// The `[check]` table of `root`; absent means the default smoke check.
pub(super) fn read_check(
    doc: &mut Doc<'_>,
    root: &Table<'_, '_>,
    extra_files: &ExtraFiles,
) -> Option<SmokeCheck> {
    let Some(v) = root.get("check") else {
        return Some(SmokeCheck::default());
    };
    let t = &doc.as_table(v, "check")?;
    doc.unknown_keys(t, CHECK_KEYS, SECTIONS);
    let smoke = read_smoke(doc, t, extra_files);
    let smoke_env = match t.get("smoke_env") {
        None => Some(BTreeMap::new()),
        Some(v) => doc
            .as_table(v, t.at("smoke_env"))
            .and_then(|env| read_env(doc, &env)),
    };
    let smoke_expect = doc.opt_str(t, "smoke_expect").filter(|e| {
        let empty = e.as_deref().is_some_and(|e| e.trim().is_empty());
        let p = Problem::new(
            "is empty, so every output would match",
            "write a piece of text the command prints, e.g. smoke_expect = \"Usage:\", or remove the key",
        );
        accept(doc, t, "smoke_expect", if empty { Err(p) } else { Ok(()) })
    });
    // Environment and expected text belong to a command; a custom test.nix has its own.
    let mut ok = true;
    if smoke == Some(Smoke::TestNix) {
        for key in ["smoke_env", "smoke_expect"] {
            let p = Problem::new(
                format!(
                    "`{key}` is only read when `smoke` runs a command; this package's check is test.nix"
                ),
                format!("remove `{key}`, or set what test.nix needs inside it"),
            );
            if t.get(key).is_some() {
                ok &= accept(doc, t, key, Err(p));
            }
        }
    }
    ok.then_some(())?;
    Some(SmokeCheck {
        smoke: smoke?,
        smoke_env: smoke_env?,
        smoke_expect: smoke_expect?,
    })
}

fn read_smoke(doc: &mut Doc<'_>, t: &Table<'_, '_>, extra_files: &ExtraFiles) -> Option<Smoke> {
    let Some(v) = t.get("smoke") else {
        return Some(Smoke::Default);
    };
    match (v.kind(), v.as_bool()) {
        (Kind::Boolean, Some(false)) => {
            let p = Problem::new(
                "`smoke = false` means a custom check in test.nix, but the package folder has no test.nix",
                "add test.nix beside package.toml (a function { pkgs, lib, package }: derivation), \
                 or give the command: smoke = [\"program\", \"--help\"]",
            );
            let result = if extra_files.test_nix { Ok(()) } else { Err(p) };
            accept(doc, t, "smoke", result).then_some(Smoke::TestNix)
        }
        (Kind::Boolean, _) => {
            let p = Problem::new(
                "`smoke = true` says nothing: the default smoke check already runs",
                "remove the key (default: main_program --version), give the command as a list, \
                 or write smoke = false for a custom test.nix",
            );
            accept(doc, t, "smoke", Err(p));
            None
        }
        _ => {
            let argv = doc.as_str_list(v, t.at("smoke"))?;
            let bad_program = argv.first().is_none_or(|p| p.is_empty() || p.contains('/'));
            let p = Problem::new(
                "must start with a program of the package (its name in $out/bin, no path)",
                "write e.g. smoke = [\"goat\", \"--help\"]",
            );
            let result = if bad_program { Err(p) } else { Ok(()) };
            accept(doc, t, "smoke", result).then_some(Smoke::Command(argv))
        }
    }
}
