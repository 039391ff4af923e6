//! Node: a pnpm workspace (`pnpm-workspace.yaml`, `packageManager: pnpm@…`, `pnpm-lock.yaml`) or
//! an npm project with its `workspaces`; the workspace packages that are programs (a `bin`, or a
//! `start` script) become parts, with their scripts, the pnpm major and the Node major.

use serde_json::Value;

use super::Found;
use super::proposal::{Part, Toolchains};
use super::repo::{CommitFiles, join};
use crate::catalog::model::Builder;
use crate::catalog::toolchains::{NODEJS, PNPM};

/// One `package.json`.
struct Manifest {
    dir: String,
    json: Value,
}

impl Manifest {
    fn str(&self, key: &str) -> Option<String> {
        self.json.get(key)?.as_str().map(str::to_string)
    }

    fn name(&self) -> Option<String> {
        self.str("name")
    }

    fn scripts(&self) -> Vec<String> {
        self.json
            .get("scripts")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Program names from `bin` (a string means one program named after the package).
    fn bins(&self) -> Vec<String> {
        match self.json.get("bin") {
            Some(Value::String(_)) => self.name().map(|n| vec![unscoped(&n)]).unwrap_or_default(),
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn is_program(&self) -> bool {
        !self.bins().is_empty() || self.scripts().iter().any(|s| s == "start")
    }
}

pub fn detect(files: &CommitFiles, repo_name: &str, found: &mut Found) {
    let Some(root) = read(files, "") else {
        return;
    };
    let package_manager = root.str("packageManager").unwrap_or_default();
    let pnpm = package_manager.starts_with("pnpm@")
        || files.is_file("pnpm-lock.yaml")
        || files.is_file("pnpm-workspace.yaml");
    let patterns = if pnpm {
        pnpm_workspace_patterns(&files.read("pnpm-workspace.yaml").unwrap_or_default())
    } else {
        npm_workspace_patterns(&root.json)
    };
    let toolchains = Toolchains {
        nodejs: nodejs_major(&root, found),
        pnpm: if pnpm {
            pnpm_major(&package_manager, found)
        } else {
            None
        },
        ..Toolchains::default()
    };
    if !pnpm && !files.is_file("package-lock.json") && !files.is_file("npm-shrinkwrap.json") {
        found.notes.push(
            "no package-lock.json: buildNpmPackage needs one (yarn and bun lockfiles are not supported)"
                .into(),
        );
    }
    let members: Vec<Manifest> = patterns
        .iter()
        .flat_map(|p| files.glob_dirs(p))
        .filter_map(|dir| read(files, &dir))
        .collect();
    let language = if files.is_file("tsconfig.json")
        || members
            .iter()
            .any(|m| files.is_file(&join(&m.dir, "tsconfig.json")))
    {
        "typescript"
    } else {
        "javascript"
    };
    let builder = if pnpm {
        Builder::PnpmWorkspace
    } else {
        Builder::NpmPackage
    };
    found.manifest(
        "package.json",
        root.str("description"),
        root.str("homepage"),
        root.str("license"),
    );
    let programs: Vec<&Manifest> = members.iter().filter(|m| m.is_program()).collect();
    let mut push = |m: &Manifest, workspaces: Vec<String>, name: String| {
        let bins = m.bins();
        found.parts.push(Part {
            name,
            builder,
            language: language.into(),
            workspace: None,
            members: Vec::new(),
            sub_packages: Vec::new(),
            workspaces,
            source_root: None,
            main_program: bins.first().cloned(),
            programs: bins,
            scripts: m.scripts(),
            toolchains: toolchains.clone(),
            deps_hash: "unknown".into(),
            deps_reason: String::new(),
            description: m.str("description"),
            dir: m.dir.clone(),
            service: None,
            include: true,
        });
    };
    if programs.is_empty() {
        // No workspace package is a program: build the project as a whole.
        let name = root
            .name()
            .map_or_else(|| repo_name.to_string(), |n| unscoped(&n));
        push(&root, Vec::new(), name);
        return;
    }
    for m in programs {
        let Some(full) = m.name() else { continue };
        push(m, vec![full.clone()], unscoped(&full));
    }
}

fn read(files: &CommitFiles, dir: &str) -> Option<Manifest> {
    let json = serde_json::from_str(&files.read(&join(dir, "package.json"))?).ok()?;
    Some(Manifest {
        dir: dir.to_string(),
        json,
    })
}

/// `@atproto/lex-cli` -> `lex-cli`, lowercased as package names are.
pub fn unscoped(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_lowercase()
}

/// The `packages:` list of `pnpm-workspace.yaml` (a flat YAML list; `!` exclusions dropped).
fn pnpm_workspace_patterns(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let t = line.split('#').next().unwrap_or("").trim_end();
        if t.is_empty() {
            continue;
        }
        if !line.starts_with([' ', '\t', '-']) {
            inside = t.trim() == "packages:";
            continue;
        }
        if inside && let Some(item) = t.trim().strip_prefix('-') {
            let item = item.trim().trim_matches(['\'', '"']);
            if !item.starts_with('!') && !item.is_empty() {
                out.push(item.to_string());
            }
        }
    }
    out
}

fn npm_workspace_patterns(root: &Value) -> Vec<String> {
    let list = match root.get("workspaces") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(o)) => o
            .get("packages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    list.iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// `pnpm@10.4.1+sha512…` -> `10`, when the catalog knows that major.
fn pnpm_major(package_manager: &str, found: &mut Found) -> Option<String> {
    let version = package_manager.strip_prefix("pnpm@")?;
    let major = version.split('.').next().unwrap_or("").to_string();
    if PNPM.iter().any(|(v, _)| *v == major) {
        Some(major)
    } else {
        found.notes.push(format!(
            "packageManager names pnpm {version}, a major the catalog's toolchain table has no entry for; `pnpm` left out"
        ));
        None
    }
}

/// The smallest Node major in the catalog's table that `engines.node` allows (`>=20`, `^22.1`,
/// `22.x`): the first number in the range is the lowest major it accepts.
fn nodejs_major(root: &Manifest, found: &mut Found) -> Option<String> {
    let range = root.json.get("engines")?.get("node")?.as_str()?.to_string();
    let digits: String = range
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    let min: u32 = digits.parse().ok()?;
    let pick = NODEJS
        .iter()
        .map(|(v, _)| *v)
        .find(|v| v.parse::<u32>().is_ok_and(|n| n >= min));
    if pick.is_none() {
        found.notes.push(format!(
            "engines.node is `{range}`, newer than any Node in the catalog's toolchain table; `nodejs` left out"
        ));
    }
    pick.map(str::to_string)
}
