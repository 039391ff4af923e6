//! Cargo: the workspace's members (globs expanded) and the binaries each installs (`[[bin]]`,
//! `src/main.rs`, `src/bin/*`); crates without a binary are libraries and left out.

use super::Found;
use super::proposal::{Part, Toolchains};
use super::repo::{CommitFiles, join};
use crate::catalog::model::Builder;
use crate::catalog::toolchains::RUST;

/// A member crate as its `Cargo.toml` says.
struct Crate {
    dir: String,
    name: String,
    bins: Vec<String>,
    default_run: Option<String>,
    description: Option<String>,
    rust: Option<String>,
}

pub fn detect(files: &CommitFiles, found: &mut Found) {
    let Some(text) = files.read("Cargo.toml") else {
        return;
    };
    let root: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            found.notes.push(format!(
                "Cargo.toml does not parse ({e}); Rust not detected"
            ));
            return;
        }
    };
    let workspace = root.get("workspace").and_then(toml::Value::as_table);
    let mut dirs: Vec<String> = Vec::new();
    if let Some(ws) = workspace {
        let excluded = strings(ws.get("exclude"));
        for pattern in strings(ws.get("members")) {
            for dir in files.glob_dirs(&pattern) {
                if !excluded.contains(&dir) && files.is_file(&join(&dir, "Cargo.toml")) {
                    dirs.push(dir);
                }
            }
        }
    }
    if root.contains_key("package") {
        dirs.insert(0, String::new());
    }
    dirs.dedup();
    let ws_package = workspace
        .and_then(|w| w.get("package"))
        .and_then(toml::Value::as_table);
    let toolchain = toolchain_file(files);
    for dir in &dirs {
        let Some(c) = read_crate(files, dir, ws_package, toolchain.as_deref(), found) else {
            continue;
        };
        if c.bins.is_empty() {
            found.notes.push(format!(
                "crate {} is a library (no binary): left out",
                c.name
            ));
            continue;
        }
        found.manifest(
            &join(dir, "Cargo.toml"),
            c.description.clone(),
            None,
            crate_license(files, dir, ws_package),
        );
        let main = c
            .default_run
            .clone()
            .filter(|d| c.bins.contains(d))
            .or_else(|| c.bins.iter().find(|b| **b == c.name).cloned())
            .or_else(|| c.bins.first().cloned());
        let builder = if workspace.is_some() {
            Builder::RustWorkspace
        } else {
            Builder::RustPackage
        };
        found.parts.push(Part {
            name: c.name.clone(),
            builder,
            language: "rust".into(),
            workspace: None,
            members: if workspace.is_some() {
                vec![c.name.clone()]
            } else {
                Vec::new()
            },
            sub_packages: Vec::new(),
            workspaces: Vec::new(),
            source_root: None,
            main_program: main,
            programs: c.bins,
            scripts: Vec::new(),
            toolchains: Toolchains {
                rust: c.rust,
                ..Toolchains::default()
            },
            deps_hash: "unknown".into(),
            deps_reason: String::new(),
            description: c.description,
            dir: c.dir,
            service: None,
            include: true,
        });
    }
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A field of `[package]`, following `field.workspace = true` to `[workspace.package]`.
fn inherited<'a>(
    pkg: &'a toml::Table,
    ws: Option<&'a toml::Table>,
    key: &str,
) -> Option<&'a toml::Value> {
    match pkg.get(key) {
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
        {
            ws?.get(key)
        }
        other => other,
    }
}

fn read_crate(
    files: &CommitFiles,
    dir: &str,
    ws: Option<&toml::Table>,
    toolchain: Option<&str>,
    found: &mut Found,
) -> Option<Crate> {
    let path = join(dir, "Cargo.toml");
    let table: toml::Table = match toml::from_str(&files.read(&path)?) {
        Ok(t) => t,
        Err(e) => {
            found
                .notes
                .push(format!("{path} does not parse ({e}): left out"));
            return None;
        }
    };
    let pkg = table.get("package")?.as_table()?;
    let name = pkg.get("name")?.as_str()?.to_string();
    let mut bins: Vec<String> = Vec::new();
    for bin in table
        .get("bin")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(n) = bin.get("name").and_then(toml::Value::as_str) {
            bins.push(n.to_string());
        }
    }
    let autobins = pkg.get("autobins").and_then(toml::Value::as_bool) != Some(false);
    if autobins {
        let explicit_main = table
            .get("bin")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .any(|b| b.get("path").and_then(toml::Value::as_str) == Some("src/main.rs"));
        if files.is_file(&join(dir, "src/main.rs")) && !explicit_main && !bins.contains(&name) {
            bins.push(name.clone());
        }
        for (file, is_dir) in files.list(&join(dir, "src/bin")) {
            let bin = if is_dir {
                files
                    .is_file(&join(&join(dir, "src/bin"), &format!("{file}/main.rs")))
                    .then_some(file)
            } else {
                file.strip_suffix(".rs").map(str::to_string)
            };
            if let Some(b) = bin.filter(|b| !bins.contains(b)) {
                bins.push(b);
            }
        }
    }
    let text = |key: &str| {
        inherited(pkg, ws, key)
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    let rust = text("rust-version")
        .map(|v| major_minor(&v))
        .or_else(|| (text("edition").as_deref() == Some("2024")).then(|| "1.85".to_string()))
        .or_else(|| toolchain.map(str::to_string));
    let rust = rust.and_then(|v| {
        if RUST.contains(&v.as_str()) {
            Some(v)
        } else {
            found.notes.push(format!(
                "{name} needs rustc {v}, which the catalog's toolchain table has no entry for; `rust` left out"
            ));
            None
        }
    });
    Some(Crate {
        dir: dir.to_string(),
        name,
        bins,
        default_run: text("default-run"),
        description: text("description"),
        rust,
    })
}

fn crate_license(files: &CommitFiles, dir: &str, ws: Option<&toml::Table>) -> Option<String> {
    let table: toml::Table = toml::from_str(&files.read(&join(dir, "Cargo.toml"))?).ok()?;
    let pkg = table.get("package")?.as_table()?;
    inherited(pkg, ws, "license")?.as_str().map(str::to_string)
}

/// `rust-toolchain(.toml)`'s channel when it is a version (`1.86.0` -> `1.86`).
fn toolchain_file(files: &CommitFiles) -> Option<String> {
    let channel = if let Some(t) = files.read("rust-toolchain.toml") {
        let t: toml::Table = toml::from_str(&t).ok()?;
        t.get("toolchain")?.get("channel")?.as_str()?.to_string()
    } else {
        files.read("rust-toolchain")?.trim().to_string()
    };
    channel
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| major_minor(&channel))
}

/// `1.82.0` -> `1.82`.
pub fn major_minor(v: &str) -> String {
    v.trim().split('.').take(2).collect::<Vec<_>>().join(".")
}
