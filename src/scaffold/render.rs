//! Renders a part of a [`Proposal`] into `package.toml` text through the builder's template in
//! `assets/templates/`. A template is the file as it will be written, with `{{key}}` for a TOML
//! value, `{{!key}}` for comment text, and `{{services}}` for the generated service tables; a
//! line whose key has no value (an optional field) is left out.

use std::collections::BTreeMap;

use super::proposal::{OptValue, Part, Proposal, ServiceProposal};
use crate::catalog::model::Builder;

/// The template for a builder (one per builder family).
pub fn template(builder: Builder) -> &'static str {
    match builder {
        Builder::RustWorkspace | Builder::RustPackage => {
            include_str!("../../assets/templates/rust.toml")
        }
        Builder::GoModule => include_str!("../../assets/templates/go.toml"),
        Builder::PnpmWorkspace | Builder::NpmPackage => {
            include_str!("../../assets/templates/node.toml")
        }
        Builder::DenoApp => include_str!("../../assets/templates/deno.toml"),
        Builder::StaticSite => include_str!("../../assets/templates/static.toml"),
    }
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// One line of comment text: no line breaks, no control characters.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The file for `part`.
pub fn render(p: &Proposal, part: &Part) -> String {
    let mut v: BTreeMap<&str, String> = BTreeMap::new();
    let s = &p.source;
    let opt = |x: &Option<String>| x.as_deref().map(quote);
    let label = s.owner.as_ref().zip(s.repo.as_ref()).map_or_else(
        || s.url.clone().unwrap_or_default(),
        |(o, r)| format!("{}:{o}/{r}", s.host),
    );
    v.insert("!source_label", comment(&label));
    v.insert("name", quote(&part.name));
    v.insert("version", quote(&s.version));
    v.insert("tier", p.tier.to_string());
    v.insert("category", quote(&p.category));
    let description = part
        .description
        .as_deref()
        .filter(|_| p.parts.len() > 1)
        .map_or_else(
            || p.description.clone(),
            |d| super::meta::tidy_description(d, &part.name),
        );
    v.insert("description", quote(&description));
    v.insert("long_description", long_description(p, part));
    v.insert("homepage", quote(&p.homepage));
    v.insert("license", array(&p.license));
    for (key, value) in [
        ("main_program", opt(&part.main_program)),
        ("owner", opt(&s.owner)),
        ("repo", opt(&s.repo)),
        ("url", opt(&s.url)),
        ("workspace", opt(&part.workspace)),
        ("source_root", opt(&part.source_root)),
        ("rust", opt(&part.toolchains.rust)),
        ("go", opt(&part.toolchains.go)),
        ("nodejs", opt(&part.toolchains.nodejs)),
        ("pnpm", opt(&part.toolchains.pnpm)),
    ] {
        if let Some(value) = value {
            v.insert(key, value);
        }
    }
    v.insert("host", quote(&s.host));
    v.insert("rev", quote(&s.rev));
    v.insert("hash", quote(&s.hash));
    v.insert("provenance", quote(&s.provenance));
    v.insert("builder", quote(part.builder.as_str()));
    v.insert("language", quote(&part.language));
    // Each builder reads only its own list; an empty one is left out.
    for (key, list) in [
        ("members", &part.members),
        ("sub_packages", &part.sub_packages),
        ("workspaces", &part.workspaces),
    ] {
        if !list.is_empty() {
            v.insert(key, array(list));
        }
    }
    v.insert("deps_hash", quote(&part.deps_hash));
    v.insert("!deps_reason", comment(&part.deps_reason));
    let deps: Vec<String> = part
        .service
        .iter()
        .filter(|s| s.database != "none")
        .map(|s| s.database.clone())
        .collect();
    v.insert("dependencies", array(&deps));
    v.insert(
        "services",
        part.service.as_ref().map(services).unwrap_or_default(),
    );
    fill(template(part.builder), &v)
}

fn fill(template: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    'lines: for line in template.lines() {
        let mut rendered = String::new();
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let key = &rest[start + 2..start + len];
            let Some(value) = values.get(key) else {
                continue 'lines;
            };
            rendered.push_str(&rest[..start]);
            rendered.push_str(value);
            rest = &rest[start + len + 2..];
        }
        rendered.push_str(rest);
        out.push_str(&rendered);
        out.push('\n');
    }
    // A block that rendered empty leaves a blank last line.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A multi-line basic string of the detected facts, wrapped for reading.
fn long_description(p: &Proposal, part: &Part) -> String {
    let s = &p.source;
    let what = match part.builder {
        Builder::RustWorkspace => {
            format!("the Cargo workspace member(s) {}", part.members.join(", "))
        }
        Builder::RustPackage => "the crate at the top of the repository".to_string(),
        Builder::GoModule => format!("the Go package(s) {}", part.sub_packages.join(", ")),
        Builder::PnpmWorkspace | Builder::NpmPackage if part.workspaces.is_empty() => {
            "the whole project".to_string()
        }
        Builder::PnpmWorkspace | Builder::NpmPackage => {
            format!("the workspace package(s) {}", part.workspaces.join(", "))
        }
        Builder::DenoApp => "the Deno project (`deno task build`, dist/)".to_string(),
        Builder::StaticSite => format!(
            "the files of {}",
            part.source_root.as_deref().unwrap_or("the top folder")
        ),
    };
    let mut text = format!(
        "Scaffolded by atwb new from commit {} ({}); builds {what} with the {} builder.",
        &s.rev[..12],
        s.rev_reason,
        part.builder.as_str()
    );
    if !part.programs.is_empty() {
        text += &format!(" Programs: {}.", part.programs.join(", "));
    }
    if !part.scripts.is_empty() {
        text += &format!(" Upstream scripts/tasks: {}.", part.scripts.join(", "));
    }
    if let Some(svc) = &part.service {
        text += &format!(
            " Service settings proposed from {}.",
            svc.found_in.join(", ")
        );
    }
    if part.deps_hash == "unknown" && part.builder != Builder::StaticSite {
        text += &format!(
            " deps_hash is unknown: {}.",
            part.deps_reason.trim_end_matches('.')
        );
    }
    for n in &p.notes {
        text += &format!(" {}.", n.trim_end_matches('.'));
    }
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"\"\"\n{}\"\"\"", wrap(&escaped, 95))
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

fn value(v: &OptValue) -> String {
    match v {
        OptValue::Str(s) => quote(s),
        OptValue::Int(n) => n.to_string(),
        OptValue::Bool(b) => b.to_string(),
    }
}

fn services(s: &ServiceProposal) -> String {
    let mut out = format!("\n[services.{}]\n", s.name);
    out += &format!("exec = {}\n", array(&s.exec));
    if !s.ports.is_empty() {
        let ports: Vec<String> = s.ports.iter().map(|(n, p)| format!("{n} = {p}")).collect();
        out += &format!("ports = {{ {} }}\n", ports.join(", "));
    }
    out += &format!("database = {}\njit = {}\n", quote(&s.database), s.jit);
    for o in &s.options {
        out += &format!(
            "\n[services.{}.options.{}]\ntype = {}\n",
            s.name,
            o.name,
            quote(&o.ty)
        );
        if let Some(d) = &o.default {
            out += &format!("default = {}\n", value(d));
        }
        out += &format!(
            "description = {}\nenv = {}\n",
            quote(&comment(&o.description)),
            quote(&o.env)
        );
        if let Some(e) = &o.example {
            out += &format!("example = {}\n", value(e));
        }
    }
    out
}
