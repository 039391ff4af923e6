//! Go: the module's main packages (`cmd/<name>/`, or the module root) and the `go` version
//! `go.mod` asks for.

use super::Found;
use super::cargo::major_minor;
use super::proposal::{Part, Toolchains};
use super::repo::{CommitFiles, basename, join};
use crate::catalog::model::Builder;
use crate::catalog::toolchains::GO;

pub fn detect(files: &CommitFiles, repo_name: &str, found: &mut Found) {
    let Some(gomod) = files.read("go.mod") else {
        return;
    };
    let module = directive(&gomod, "module").unwrap_or_default();
    let go = directive(&gomod, "go")
        .map(|v| major_minor(&v))
        .and_then(|v| {
            if GO.iter().any(|g| g.version == v) {
                Some(v)
            } else {
                found.notes.push(format!(
                    "go.mod asks for go {v}, which the catalog's toolchain table has no entry for; \
                 `go` left out (nixpkgs' default Go)"
                ));
                None
            }
        });
    let mut mains: Vec<String> = files
        .list("cmd")
        .into_iter()
        .filter(|(_, dir)| *dir)
        .map(|(name, _)| join("cmd", &name))
        .filter(|dir| is_main_package(files, dir))
        .collect();
    if mains.is_empty() && is_main_package(files, "") {
        mains.push(".".into());
    }
    if mains.is_empty() {
        found.notes.push(
            "go.mod has no main package (cmd/*/ or the module root): a library, left out".into(),
        );
        return;
    }
    for dir in mains {
        let program = if dir == "." {
            basename(module.trim_end_matches('/')).to_string()
        } else {
            basename(&dir).to_string()
        };
        let name = if dir == "." {
            repo_name.to_string()
        } else {
            program.clone()
        };
        found.parts.push(Part {
            name,
            builder: Builder::GoModule,
            language: "go".into(),
            workspace: None,
            members: Vec::new(),
            sub_packages: vec![dir.clone()],
            workspaces: Vec::new(),
            source_root: None,
            main_program: Some(program.clone()),
            programs: vec![program],
            scripts: Vec::new(),
            toolchains: Toolchains {
                go: go.clone(),
                ..Toolchains::default()
            },
            deps_hash: "unknown".into(),
            deps_reason: String::new(),
            description: None,
            dir: if dir == "." { String::new() } else { dir },
            service: None,
            include: true,
        });
    }
}

/// The argument of a top-level `go.mod` directive (`module x`, `go 1.26.1`).
fn directive(gomod: &str, name: &str) -> Option<String> {
    gomod.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(name)?;
        rest.starts_with([' ', '\t'])
            .then(|| rest.split("//").next().unwrap_or("").trim().to_string())
    })
}

/// Whether a folder holds a non-test `.go` file of `package main`.
fn is_main_package(files: &CommitFiles, dir: &str) -> bool {
    files.list(dir).into_iter().any(|(name, is_dir)| {
        !is_dir
            && name.ends_with(".go")
            && !name.ends_with("_test.go")
            && files.read(&join(dir, &name)).is_some_and(|t| {
                t.lines()
                    .map(str::trim)
                    .find(|l| l.starts_with("package "))
                    .is_some_and(|l| l.split_whitespace().nth(1) == Some("main"))
            })
    })
}
