//! Deno front ends (`deno.json` / `deno.jsonc` with its tasks) and static sites (an `index.html`
//! at the top or in a usual site folder), the builders without a dependency hash of their own.

use super::Found;
use super::proposal::{Part, Toolchains};
use super::repo::CommitFiles;
use super::repo::join;
use crate::catalog::model::Builder;

pub fn detect(files: &CommitFiles, repo_name: &str, found: &mut Found) {
    let Some((file, text)) = ["deno.json", "deno.jsonc"]
        .iter()
        .find_map(|f| files.read(f).map(|t| (*f, t)))
    else {
        return;
    };
    let json: serde_json::Value = match serde_json::from_str(&strip_comments(&text)) {
        Ok(j) => j,
        Err(e) => {
            found
                .notes
                .push(format!("{file} does not parse ({e}); Deno not detected"));
            return;
        }
    };
    let tasks: Vec<String> = json
        .get("tasks")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if !tasks.iter().any(|t| t == "build") {
        found.notes.push(format!(
            "{file} has no `build` task; deno-app runs `deno task build` and installs dist/: add a package.nix"
        ));
    }
    found
        .parts
        .push(part(repo_name, Builder::DenoApp, "typescript", None, tasks));
}

/// A static site: `index.html` at the top, or in `public/`, `site/`, `docs/`, `www/`.
pub fn detect_static(files: &CommitFiles, repo_name: &str, found: &mut Found) {
    let Some(dir) = ["", "public", "site", "docs", "www"]
        .into_iter()
        .find(|d| files.is_file(&join(d, "index.html")))
    else {
        return;
    };
    let root = (!dir.is_empty()).then(|| dir.to_string());
    found.parts.push(part(
        repo_name,
        Builder::StaticSite,
        "html",
        root,
        Vec::new(),
    ));
}

fn part(
    name: &str,
    builder: Builder,
    language: &str,
    source_root: Option<String>,
    scripts: Vec<String>,
) -> Part {
    Part {
        name: name.to_string(),
        builder,
        language: language.into(),
        workspace: None,
        members: Vec::new(),
        sub_packages: Vec::new(),
        workspaces: Vec::new(),
        dir: source_root.clone().unwrap_or_default(),
        source_root,
        main_program: None,
        programs: Vec::new(),
        scripts,
        toolchains: Toolchains::default(),
        deps_hash: "unknown".into(),
        deps_reason: String::new(),
        description: None,
        service: None,
        include: true,
    }
}

/// JSONC -> JSON: `//` and `/* */` comments outside strings removed.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if c == '\\' {
                out.extend(chars.next());
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_str = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn jsonc_comments_go_but_strings_stay() {
        let j = "{\n // c\n \"a\": \"x//y\", /* b */ \"t\": 1 }";
        let v: serde_json::Value = serde_json::from_str(&super::strip_comments(j)).unwrap();
        assert_eq!(v["a"], "x//y");
        assert_eq!(v["t"], 1);
    }
}
