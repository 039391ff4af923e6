//! What detection proposes: plain data the user accepts or changes field by field (the CLI's
//! prompts and the TUI's list both go through [`Proposal::fields`] and [`Proposal::set`]), then
//! rendered into one `package.toml` per part.

use serde::Serialize;

use crate::catalog::model::Builder;
use crate::catalog::validate::rules;

/// The pinned upstream commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcePin {
    /// `github`, `tangled` or `git`.
    pub host: String,
    pub owner: Option<String>,
    pub repo: Option<String>,
    pub url: Option<String>,
    pub rev: String,
    pub tag: Option<String>,
    pub version: String,
    pub commit_date: String,
    pub hash: String,
    pub provenance: String,
    /// Why this commit: "newest of 3 release tag(s)", "head of the default branch main".
    pub rev_reason: String,
    /// The local repository the facts were read from.
    pub repository: String,
}

/// Toolchain versions as the catalog's `[build]` names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Toolchains {
    pub go: Option<String>,
    pub nodejs: Option<String>,
    pub pnpm: Option<String>,
    pub rust: Option<String>,
}

/// An option value of a proposed service setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OptValue {
    Str(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionProposal {
    pub name: String,
    /// `str`, `int`, `port`, `bool`, `path` or `secret-file`.
    #[serde(rename = "type")]
    pub ty: String,
    pub env: String,
    pub default: Option<OptValue>,
    pub example: Option<OptValue>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceProposal {
    pub name: String,
    pub exec: Vec<String>,
    /// Named ports in the order found (`http` first).
    pub ports: Vec<(String, u16)>,
    /// `none`, `postgresql` or `sqlite`.
    pub database: String,
    pub jit: bool,
    pub options: Vec<OptionProposal>,
    /// The files the ports and settings were read from.
    pub found_in: Vec<String>,
}

/// One package to write: a buildable piece of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub name: String,
    pub builder: Builder,
    pub language: String,
    /// Set when several parts share one upstream build.
    pub workspace: Option<String>,
    pub members: Vec<String>,
    pub sub_packages: Vec<String>,
    pub workspaces: Vec<String>,
    pub source_root: Option<String>,
    pub main_program: Option<String>,
    /// Every program the part installs, as detected.
    pub programs: Vec<String>,
    /// npm/pnpm scripts or deno tasks.
    pub scripts: Vec<String>,
    pub toolchains: Toolchains,
    /// SRI hash or `unknown`.
    pub deps_hash: String,
    /// How `deps_hash` was computed, or why it is unknown.
    pub deps_reason: String,
    /// The part's own manifest description, when it has one.
    pub description: Option<String>,
    /// The folder the part's files live in (for matching service files), `""` at the top.
    pub dir: String,
    pub service: Option<ServiceProposal>,
    /// Written unless the user leaves it out.
    pub include: bool,
}

/// Everything detected about one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub source: SourcePin,
    pub org: String,
    pub tier: u8,
    pub category: String,
    pub description: String,
    pub homepage: String,
    pub license: Vec<String>,
    /// Where each detected value came from.
    pub reasons: Reasons,
    pub parts: Vec<Part>,
    /// Facts worth knowing that are no field: unsupported toolchains, libraries left out, ...
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reasons {
    pub org: String,
    pub description: String,
    pub homepage: String,
    pub license: String,
}

/// One line of the accept-or-change list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub value: String,
    /// Where the value came from.
    pub why: String,
}

const CATEGORIES: [&str; 4] = ["infrastructure", "application", "utility", "library"];

impl Proposal {
    /// The fields the user may change, in the order they are asked.
    pub fn fields(&self) -> Vec<FieldView> {
        let f = |key: &str, label: &str, value: String, why: &str| FieldView {
            key: key.into(),
            label: label.into(),
            value,
            why: why.into(),
        };
        let mut out = vec![
            f("org", "org", self.org.clone(), &self.reasons.org),
            f(
                "tier",
                "tier",
                self.tier.to_string(),
                "1 foundation, 2 ecosystem service, 3 specialized",
            ),
            f(
                "category",
                "category",
                self.category.clone(),
                "infrastructure | application | utility | library",
            ),
            f(
                "description",
                "description",
                self.description.clone(),
                &self.reasons.description,
            ),
            f(
                "homepage",
                "homepage",
                self.homepage.clone(),
                &self.reasons.homepage,
            ),
            f(
                "license",
                "license",
                self.license.join(", "),
                &self.reasons.license,
            ),
        ];
        for (i, p) in self.parts.iter().enumerate() {
            let built = match p.builder {
                Builder::RustWorkspace => format!("cargo -p {}", p.members.join(" ")),
                Builder::GoModule => p.sub_packages.join(" "),
                _ => p.workspaces.join(" "),
            };
            let why = format!("{} {}", p.builder.as_str(), built);
            out.push(f(
                &format!("part.{i}.include"),
                &format!("write package {}", p.name),
                yes_no(p.include),
                why.trim(),
            ));
            if !p.include {
                continue;
            }
            out.push(f(
                &format!("part.{i}.name"),
                "  name",
                p.name.clone(),
                "package name, unique in the catalog",
            ));
            out.push(f(
                &format!("part.{i}.main_program"),
                "  main program",
                p.main_program.clone().unwrap_or_default(),
                &format!("programs: {}", p.programs.join(", ")),
            ));
            if let Some(s) = &p.service {
                out.push(f(
                    &format!("part.{i}.service"),
                    &format!("  service {}", s.name),
                    yes_no(true),
                    &format!("from {}", s.found_in.join(", ")),
                ));
                for (name, port) in &s.ports {
                    out.push(f(
                        &format!("part.{i}.port.{name}"),
                        &format!("    port {name}"),
                        port.to_string(),
                        "unique across the catalog",
                    ));
                }
                for o in &s.options {
                    out.push(f(
                        &format!("part.{i}.option.{}", o.name),
                        &format!("    {} ({})", o.env, o.name),
                        o.ty.clone(),
                        "str | int | port | bool | path | secret-file, or `drop`",
                    ));
                }
            }
        }
        out
    }

    /// Changes one field (`key` from [`Proposal::fields`]); an invalid value is refused with the
    /// reason, and nothing changes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "org" => {
                rules::name(value).map_err(|p| format!("org {}; {}", p.message, p.hint))?;
                self.org = value.into();
            }
            "tier" => {
                self.tier = match value {
                    "1" | "2" | "3" => value.parse().unwrap_or(3),
                    _ => return Err("tier is 1, 2 or 3".into()),
                };
            }
            "category" => {
                if !CATEGORIES.contains(&value) {
                    return Err(format!("category is one of {}", CATEGORIES.join(", ")));
                }
                self.category = value.into();
            }
            "description" => {
                if let Some(p) = rules::description(value, "").first() {
                    return Err(format!("description {}; {}", p.message, p.hint));
                }
                self.description = value.into();
            }
            "homepage" => {
                if !(value.starts_with("https://") || value.starts_with("http://")) {
                    return Err("homepage is an http(s):// address".into());
                }
                self.homepage = value.into();
            }
            "license" => {
                let ids: Vec<String> = value
                    .split([',', ' '])
                    .filter(|s| !s.is_empty() && *s != "OR" && *s != "AND")
                    .map(str::to_string)
                    .collect();
                if ids.is_empty() {
                    return Err("list SPDX ids, e.g. MIT, Apache-2.0 (NOASSERTION for none)".into());
                }
                self.license = ids;
            }
            _ => return self.set_part_field(key, value),
        }
        Ok(())
    }

    fn set_part_field(&mut self, key: &str, value: &str) -> Result<(), String> {
        let mut it = key.splitn(4, '.');
        let (Some("part"), Some(i), Some(what)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("no field `{key}`"));
        };
        let rest = it.next();
        let part = i
            .parse::<usize>()
            .ok()
            .and_then(|i| self.parts.get_mut(i))
            .ok_or_else(|| format!("no field `{key}`"))?;
        match (what, rest) {
            ("include", None) => part.include = parse_yes(value)?,
            ("name", None) => {
                rules::name(value).map_err(|p| format!("name {}; {}", p.message, p.hint))?;
                if let Some(s) = &mut part.service
                    && s.name == part.name
                {
                    s.name = value.into();
                }
                part.name = value.into();
            }
            ("main_program", None) => {
                if value.contains('/') {
                    return Err("main program is a plain file name".into());
                }
                part.main_program = (!value.is_empty()).then(|| value.to_string());
            }
            ("service", None) => {
                if !parse_yes(value)? {
                    part.service = None;
                }
            }
            ("port", Some(name)) => {
                let n: u16 = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("a port is 1-65535")?;
                let s = part.service.as_mut().ok_or("no service")?;
                let slot = s
                    .ports
                    .iter_mut()
                    .find(|p| p.0 == name)
                    .ok_or("no such port")?;
                slot.1 = n;
            }
            ("option", Some(name)) => {
                let s = part.service.as_mut().ok_or("no service")?;
                set_option_type(s, name, value)?;
            }
            _ => return Err(format!("no field `{key}`")),
        }
        Ok(())
    }

    /// The parts that will be written.
    pub fn included(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(|p| p.include)
    }
}

fn set_option_type(s: &mut ServiceProposal, name: &str, value: &str) -> Result<(), String> {
    let i = s
        .options
        .iter()
        .position(|o| o.name == name)
        .ok_or("no such option")?;
    if value == "drop" {
        s.options.remove(i);
        return Ok(());
    }
    let o = &mut s.options[i];
    if o.ty == value {
        return Ok(());
    }
    let text = match o.default.take().or(o.example.take()) {
        Some(OptValue::Str(t)) => t,
        Some(OptValue::Int(n)) => n.to_string(),
        Some(OptValue::Bool(b)) => b.to_string(),
        None => String::new(),
    };
    let (default, example) = match value {
        "secret-file" => (None, None),
        "str" if text.is_empty() => (None, Some(OptValue::Str("example".into()))),
        "str" => (Some(OptValue::Str(text)), None),
        "path" if text.starts_with('/') || text.starts_with('{') => {
            (Some(OptValue::Str(text)), None)
        }
        "path" => (
            None,
            Some(OptValue::Str(format!("/var/lib/{}/{name}", s.name))),
        ),
        "int" | "port" => match text.parse::<i64>() {
            Ok(n) => (Some(OptValue::Int(n)), None),
            Err(_) => (
                None,
                Some(OptValue::Int(if value == "port" { 8080 } else { 1 })),
            ),
        },
        "bool" => (Some(OptValue::Bool(text == "true" || text == "1")), None),
        _ => return Err("type is str, int, port, bool, path or secret-file (or `drop`)".into()),
    };
    o.ty = value.into();
    o.default = default;
    o.example = example;
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn parse_yes(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => Err("answer yes or no".into()),
    }
}
