//! `atwb options NAME [--markdown] [--json]`: the NixOS options the generated module of each of a
//! package's services declares (`catalog/lib/service-module.nix`), with type, default, example,
//! environment variable and description. The Markdown form is what `docs/options/<package>.md`
//! holds; `tests/options_reference.rs` keeps those files equal to it.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::output::{Mode, find_package, load_catalog, with_stdout};
use crate::catalog::validate::rules::placeholders;
use crate::catalog::{Database, OptionType, Package, Service, ServiceOption};

#[derive(Debug, Args)]
pub struct OptionsArgs {
    /// A package (or one of its services).
    pub name: String,
    /// The Markdown reference (what docs/options/<package>.md holds).
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &OptionsArgs, root: &Path) -> Result<ExitCode> {
    let loaded = load_catalog(root)?;
    // A service name leads to its package, so `atwb options <service>` works as well.
    let owner = loaded
        .catalog
        .packages
        .iter()
        .find(|p| p.name != args.name && p.services.contains_key(&args.name));
    let p = match owner {
        Some(p) => p,
        None => match find_package(loaded, &args.name)? {
            Some(p) => p,
            None => return Ok(ExitCode::from(1)),
        },
    };
    let reference = reference(p, &loaded.catalog.root);
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &reference)?;
            writeln!(out)
        } else if args.markdown {
            out.write_all(markdown(&reference).as_bytes())
        } else {
            out.write_all(text(&reference).as_bytes())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Every option of every service of one package.
#[derive(Debug, Serialize)]
pub struct Reference {
    pub package: String,
    pub version: String,
    pub description: String,
    /// `pkgs/<org>/<name>/package.toml`, relative to the catalog.
    pub file: String,
    pub services: Vec<ServiceReference>,
}

#[derive(Debug, Serialize)]
pub struct ServiceReference {
    pub service: String,
    /// `services.atproto.<service>`
    pub prefix: String,
    pub options: Vec<OptionReference>,
}

/// One NixOS option. Defaults and examples are Nix expressions, as the NixOS manual shows them.
#[derive(Debug, Serialize)]
pub struct OptionReference {
    pub path: String,
    /// As NixOS describes the type (`null or string`).
    #[serde(rename = "type")]
    pub ty: String,
    pub default: String,
    pub example: Option<String>,
    pub env: Option<String>,
    pub description: String,
    /// No default: the module's assertion fails until it is set.
    pub required: bool,
    /// Notes: placeholders substituted, upstream's key tool, a fixed listener.
    pub notes: Vec<String>,
}

fn reference(p: &Package, catalog_root: &Path) -> Reference {
    let file = p.dir.join("package.toml");
    Reference {
        package: p.name.clone(),
        version: p.version.clone(),
        description: p.description.clone(),
        file: file
            .strip_prefix(catalog_root)
            .unwrap_or(&file)
            .display()
            .to_string(),
        services: p
            .services
            .values()
            .map(|svc| service_reference(p, svc))
            .collect(),
    }
}

const ABSOLUTE_PATH: &str = "string matching the pattern /.*";

fn option(path: String, ty: &str, default: String, description: String) -> OptionReference {
    OptionReference {
        path,
        ty: ty.to_string(),
        default,
        example: None,
        env: None,
        description,
        required: false,
        notes: Vec::new(),
    }
}

fn service_reference(p: &Package, svc: &Service) -> ServiceReference {
    let prefix = format!("services.atproto.{}", svc.name);
    let at = |o: &str| format!("{prefix}.{o}");
    let id = format!("atproto-{}", svc.name);
    let program = svc.exec.first().map_or("", String::as_str);
    let mut options = vec![
        option(
            at("enable"),
            "boolean",
            "false".into(),
            format!(
                "Whether to enable the ATproto service {} ({}).",
                svc.name, p.description
            ),
        ),
        option(
            at("package"),
            "package",
            format!("atproto.{}", p.name),
            format!("Package providing `bin/{program}`."),
        ),
        option(
            at("user"),
            "string",
            nix_string(&id),
            "User the service runs as (created when left at the default).".into(),
        ),
        option(
            at("group"),
            "string",
            nix_string(&id),
            "Group the service runs as.".into(),
        ),
        option(
            at("dataDir"),
            ABSOLUTE_PATH,
            nix_string(&format!("/var/lib/atproto/{}", svc.name)),
            "State directory; under /var/lib it is managed by systemd's StateDirectory.".into(),
        ),
        listen_address(at("listenAddress"), svc.fixed_listener),
    ];
    options.extend(port_options(svc, &at));
    options.push(open_firewall(at("openFirewall"), svc));
    if svc.database != Database::None {
        options.extend(database_options(svc, &at));
    }
    for o in &svc.options {
        options.push(if o.ty == OptionType::SecretFile {
            secret_option(svc, o, &at)
        } else {
            setting_option(o, &at)
        });
    }
    options.extend(unit_options(&at));
    ServiceReference {
        service: svc.name.clone(),
        prefix,
        options,
    }
}

fn listen_address(path: String, fixed: bool) -> OptionReference {
    let mut o = option(
        path,
        "string",
        nix_string("127.0.0.1"),
        "Address the service binds.".into(),
    );
    if fixed {
        o.description =
            "Not used: upstream hard-codes the listener, so it cannot be changed.".into();
        o.notes
            .push("read-only: the module's assertion fails when it is changed".into());
    }
    o
}

fn port_options(svc: &Service, at: &dyn Fn(&str) -> String) -> Vec<OptionReference> {
    svc.ports
        .iter()
        .map(|(name, port)| {
            let mut o = option(
                at(&format!("ports.{name}")),
                "16 bit unsigned integer; between 0 and 65535 (both inclusive)",
                port.to_string(),
                format!("Port `{name}`."),
            );
            if svc.public_ports.contains(name) {
                o.notes.push("public: opened by openFirewall".into());
            }
            if svc.fixed_listener {
                o.description = format!(
                    "Port `{name}` ({port}); upstream hard-codes it, so it cannot be changed here."
                );
                o.notes
                    .push("read-only: the module's assertion fails when it is changed".into());
            }
            o
        })
        .collect()
}

fn open_firewall(path: String, svc: &Service) -> OptionReference {
    let public = if svc.public_ports.is_empty() {
        "none: this service has no public port".to_string()
    } else {
        svc.public_ports.join(", ")
    };
    option(
        path,
        "boolean",
        "false".into(),
        format!(
            "Open the public ports of this service in the firewall ({public}); metrics, debug and internal ports stay closed."
        ),
    )
}

fn database_options(svc: &Service, at: &dyn Fn(&str) -> String) -> Vec<OptionReference> {
    let user = format!("config.{}", at("user"));
    let postgresql = svc.database == Database::Postgresql;
    let rows: [(&str, &str, String, &str); 7] = [
        (
            "type",
            "value \"{db}\" (singular enum)",
            nix_string(svc.database.as_str()),
            "Database kind; fixed by what the service supports.",
        ),
        (
            "url",
            "null or string",
            "null".into(),
            "Connection URL; null derives it from host/name (or the local socket). Never put a password here: use passwordFile.",
        ),
        (
            "host",
            "null or string",
            "null".into(),
            "Database host; null means the local PostgreSQL socket.",
        ),
        (
            "name",
            "string",
            user.clone(),
            "Database name (equal to the user for local peer authentication).",
        ),
        ("user", "string", user, "Database user."),
        (
            "passwordFile",
            "null or (string matching the pattern /.*)",
            "null".into(),
            "File with the database password, exported as PGPASSWORD at start.",
        ),
        (
            "createLocally",
            "boolean",
            postgresql.to_string(),
            "Create the PostgreSQL database and user on this machine.",
        ),
    ];
    rows.into_iter()
        .map(|(name, ty, default, description)| {
            let ty = ty.replace("{db}", svc.database.as_str());
            option(
                at(&format!("database.{name}")),
                &ty,
                default,
                description.into(),
            )
        })
        .collect()
}

fn setting_option(o: &ServiceOption, at: &dyn Fn(&str) -> String) -> OptionReference {
    let mut r = option(
        at(&format!("settings.{}", o.name)),
        &format!("null or {}", nix_type(o)),
        o.default.as_ref().map_or("null".into(), nix_literal),
        o.description.clone(),
    );
    r.env.clone_from(&o.env);
    r.example = o.example.as_ref().map(nix_literal);
    r.required = o.default.is_none();
    let texts = [&o.default, &o.example].into_iter().flatten();
    if texts.into_iter().any(has_placeholder) {
        r.notes.push(
            "placeholders (`{data_dir}`, `{port:NAME}`, ...) are substituted by the module".into(),
        );
    }
    r
}

fn secret_option(svc: &Service, o: &ServiceOption, at: &dyn Fn(&str) -> String) -> OptionReference {
    let mut r = option(
        at(&format!("secrets.{}", o.name)),
        &format!("null or ({ABSOLUTE_PATH})"),
        "null".into(),
        format!(
            "{}; read by systemd at start (LoadCredential), never copied to the Nix store.",
            file_holding(&o.description)
        ),
    );
    r.env.clone_from(&o.env);
    r.example = Some(nix_string(&format!("/run/secrets/{}-{}", svc.name, o.name)));
    if !o.example_generate.is_empty() {
        r.notes.push(format!(
            "upstream's tool writes one: `{}`",
            o.example_generate.join(" ")
        ));
    }
    r.notes
        .push("the module warns while it is unset; the service may refuse to start".into());
    r
}

/// "File holding <description>", unless the description already says it is a file.
fn file_holding(description: &str) -> String {
    if description.starts_with("File ") {
        description.to_string()
    } else {
        format!("File holding {description}")
    }
}

fn unit_options(at: &dyn Fn(&str) -> String) -> Vec<OptionReference> {
    vec![
        option(
            at("environment"),
            "attribute set of string",
            "{ }".into(),
            "Extra environment variables, written to the unit as they are. Not for secrets: they end up in the \
             store; a name or value that looks like a credential is refused."
                .into(),
        ),
        option(
            at("environmentFiles"),
            &format!("list of ({ABSOLUTE_PATH})"),
            "[ ]".into(),
            "Files of KEY=value lines read at start (EnvironmentFile=); for secrets.".into(),
        ),
        option(
            at("extraConfig"),
            "attribute set of anything",
            "{ }".into(),
            "Extra systemd [Service] settings, applied last.".into(),
        ),
    ]
}

fn has_placeholder(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => !placeholders(s).is_empty(),
        toml::Value::Array(items) => items.iter().any(has_placeholder),
        _ => false,
    }
}

/// The option's type as NixOS describes it (`lib.types` descriptions).
fn nix_type(o: &ServiceOption) -> String {
    match o.ty {
        OptionType::Str => "string".into(),
        OptionType::Int => "signed integer".into(),
        OptionType::Port => "16 bit unsigned integer; between 0 and 65535 (both inclusive)".into(),
        OptionType::Bool => "boolean".into(),
        OptionType::Enum => {
            let values: Vec<String> = o.values.iter().map(|v| nix_string(v)).collect();
            format!("(one of {})", values.join(", "))
        }
        OptionType::Path => format!("({ABSOLUTE_PATH})"),
        OptionType::List => "(list of string)".into(),
        OptionType::SecretFile => format!("({ABSOLUTE_PATH})"),
    }
}

/// A Nix string literal: `"` and `\` escaped, and `${` so nothing is interpolated.
pub fn nix_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace("${", "\\${");
    format!("\"{escaped}\"")
}

/// A TOML value written as the Nix value `builtins.fromTOML` makes of it.
pub fn nix_literal(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => nix_string(s),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => nix_string(&d.to_string()),
        toml::Value::Array(items) if items.is_empty() => "[ ]".into(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(nix_literal).collect();
            format!("[ {} ]", items.join(" "))
        }
        toml::Value::Table(t) if t.is_empty() => "{ }".into(),
        toml::Value::Table(t) => {
            let fields: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {};", nix_string(k), nix_literal(v)))
                .collect();
            format!("{{ {} }}", fields.join(" "))
        }
    }
}

/// The command that regenerates every checked-in reference (for the header of each file).
pub const REGENERATE: &str = "ATWB_UPDATE_DOCS=1 cargo test --test options_reference";

/// The Markdown reference: one section per service, one heading per option.
pub fn markdown(r: &Reference) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<!-- Generated by `atwb options {} --markdown` from catalog/{}; do not edit.\n     \
         Regenerate every reference with `{REGENERATE}`. -->\n",
        r.package, r.file
    );
    let _ = writeln!(s, "# NixOS options of {} {}\n", r.package, r.version);
    let _ = writeln!(s, "{}.\n", r.description);
    let _ = writeln!(
        s,
        "Declared by the module of each service: the flake's `nixosModules.<service>` (or \
         `nixosModules.default`, every service of the catalog), NUR's `modules.nixos.default`. \
         Defaults and examples are Nix expressions.\n"
    );
    for svc in &r.services {
        let _ = writeln!(s, "## `{}`\n", svc.prefix);
        for o in &svc.options {
            markdown_option(&mut s, o);
        }
    }
    // One trailing newline, whatever the last block ended with.
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
    s.push('\n');
    s
}

fn markdown_option(s: &mut String, o: &OptionReference) {
    let _ = writeln!(s, "### `{}`\n", o.path);
    let _ = writeln!(s, "{}\n", o.description);
    let _ = writeln!(s, "- Type: {}", o.ty);
    let required = if o.required {
        " (no default: the module asserts that it is set)"
    } else {
        ""
    };
    let _ = writeln!(s, "- Default: `{}`{required}", o.default);
    if let Some(e) = &o.example {
        let _ = writeln!(s, "- Example: `{e}`");
    }
    if let Some(e) = &o.env {
        let _ = writeln!(s, "- Environment variable: `{e}`");
    }
    for n in &o.notes {
        let _ = writeln!(s, "- Note: {n}");
    }
    s.push('\n');
}

/// The terminal form: one line per option, its description indented below.
fn text(r: &Reference) -> String {
    let mut s = String::new();
    for svc in &r.services {
        let _ = writeln!(s, "{} ({} {})", svc.prefix, r.package, r.version);
        for o in &svc.options {
            let mut line = format!("  {}  {}  default {}", o.path, o.ty, o.default);
            if o.required {
                line.push_str(" (required)");
            }
            if let Some(e) = &o.example {
                let _ = write!(line, "  example {e}");
            }
            if let Some(e) = &o.env {
                let _ = write!(line, "  ${e}");
            }
            let _ = writeln!(s, "{line}\n      {}", o.description);
            for n in &o.notes {
                let _ = writeln!(s, "      ({n})");
            }
        }
    }
    if r.services.is_empty() {
        let _ = writeln!(s, "{} has no services, so no NixOS options", r.package);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix_literals() {
        let v: toml::Table = toml::from_str(
            r#"s = "a \"b\" ${x} \\ c"
               n = 42
               b = true
               l = ["x", "y"]
               e = []
               t = { k = 1 }"#,
        )
        .unwrap();
        assert_eq!(nix_literal(&v["s"]), r#""a \"b\" \${x} \\ c""#);
        assert_eq!(nix_literal(&v["n"]), "42");
        assert_eq!(nix_literal(&v["b"]), "true");
        assert_eq!(nix_literal(&v["l"]), r#"[ "x" "y" ]"#);
        assert_eq!(nix_literal(&v["e"]), "[ ]");
        assert_eq!(nix_literal(&v["t"]), r#"{ "k" = 1; }"#);
    }
}
