//! The schema: every editable field of one `package.toml`, in the order the format documents
//! them (catalog/README.md), with its kind, whether it is required, its current value and a
//! line of documentation. Fields that do not apply (a Go toolchain on a Rust builder, `values`
//! of a non-enum option) are left out unless the file sets them, so a form only offers what
//! the validator would accept.

use serde::Serialize;

use super::draft::Draft;
use super::kind::{Choice, FieldKind};
use super::path::FieldPath;
use super::spdx::LICENSE_IDS;
use super::value::lookup;
use crate::catalog::model::{Builder, Category, Database, OptionType, SourceHost, Tier};
use crate::catalog::toolchains;

/// Which form and section a field belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "group", rename_all = "snake_case")]
pub enum Group {
    /// Top-level metadata.
    Package,
    Source,
    Build,
    Check,
    Atproto,
    /// `[services.<service>]`.
    Service {
        service: String,
    },
    /// `[services.<service>.options.<option>]`.
    ServiceOption {
        service: String,
        option: String,
    },
    /// `[services.<service>.hardening_exceptions.<setting>]`.
    Hardening {
        service: String,
        setting: String,
    },
}

/// One editable field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub path: FieldPath,
    pub group: Group,
    pub kind: FieldKind,
    pub required: bool,
    /// The draft's value; None when the file does not set it.
    pub value: Option<toml::Value>,
    /// What an unset optional field means (`false`, `"none"`), when it means something.
    pub absent_means: Option<String>,
    /// One line of documentation (catalog/README.md says more).
    pub doc: &'static str,
    /// 1-based line of the field's key in the draft's text; 0 when it is not set.
    pub line: usize,
}

impl Field {
    /// The key, as a form labels the row.
    pub fn label(&self) -> &str {
        self.path.leaf()
    }
}

/// Collects fields with their values from the draft.
struct Collect<'a> {
    draft: &'a Draft,
    lines: std::collections::HashMap<FieldPath, usize>,
    table: toml::Table,
    out: Vec<Field>,
}

impl Collect<'_> {
    fn get(&self, path: &FieldPath) -> Option<&toml::Value> {
        lookup(&self.table, path)
    }

    fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.get(&FieldPath::new(keys.iter().copied()))
            .and_then(toml::Value::as_str)
    }

    /// Add the field `keys` unless it does not apply (`applies` false and the file does not set it).
    fn add(&mut self, group: &Group, keys: &[&str], spec: Spec, applies: bool) {
        let path = FieldPath::new(keys.iter().copied());
        let value = self.get(&path).cloned();
        if !applies && value.is_none() {
            return;
        }
        let line = self.lines.get(&path).copied().unwrap_or(0);
        let entries = match (&spec.kind, &value) {
            (FieldKind::Map { value: inner }, Some(toml::Value::Table(t))) => {
                t.keys().map(|k| (k.clone(), (**inner).clone())).collect()
            }
            _ => Vec::new(),
        };
        self.out.push(Field {
            path: path.clone(),
            group: group.clone(),
            kind: spec.kind,
            // A field that applies only elsewhere (owner of a git source) may be removed.
            required: spec.required && applies,
            value,
            absent_means: spec.absent_means.map(str::to_string),
            doc: spec.doc,
            line,
        });
        // A map's entries are fields of their own (a port, one variable), right after it.
        for (key, kind) in entries {
            let entry = path.child(&key);
            let line = self.lines.get(&entry).copied().unwrap_or(0);
            self.out.push(Field {
                value: self.get(&entry).cloned(),
                path: entry,
                group: group.clone(),
                kind,
                // An entry can be removed (a port, a variable); the map says if one is needed.
                required: false,
                absent_means: None,
                doc: spec.doc,
                line,
            });
        }
    }
}

/// How one field is described.
struct Spec {
    kind: FieldKind,
    required: bool,
    absent_means: Option<&'static str>,
    doc: &'static str,
}

fn req(kind: FieldKind, doc: &'static str) -> Spec {
    Spec {
        kind,
        required: true,
        absent_means: None,
        doc,
    }
}

fn opt(kind: FieldKind, doc: &'static str) -> Spec {
    Spec {
        kind,
        required: false,
        absent_means: None,
        doc,
    }
}

fn opt_or(kind: FieldKind, absent: &'static str, doc: &'static str) -> Spec {
    Spec {
        kind,
        required: false,
        absent_means: Some(absent),
        doc,
    }
}

fn choices(names: impl IntoIterator<Item = &'static str>) -> FieldKind {
    FieldKind::Enum {
        choices: names.into_iter().map(Choice::text).collect(),
        open: false,
    }
}

fn text_list() -> FieldKind {
    FieldKind::list_of(FieldKind::Text)
}

/// The license pick list: SPDX ids, the common ones offered, any other SPDX id accepted.
pub fn license_kind() -> FieldKind {
    FieldKind::list_of(FieldKind::Enum {
        choices: LICENSE_IDS.iter().map(|id| Choice::text(id)).collect(),
        open: true,
    })
}

fn tier_kind() -> FieldKind {
    FieldKind::Enum {
        choices: Tier::ALL
            .iter()
            .map(|t| Choice {
                value: toml::Value::Integer(i64::from(t.number())),
                label: format!("{} {}", t.number(), t.label()),
            })
            .collect(),
        open: false,
    }
}

/// Every editable field of the draft, in the format's order: metadata, `[source]`, `[build]`,
/// `[check]`, `[atproto]`, then each service (file order) with its options (file order) and
/// hardening exceptions. A map field (`ports`, `env`) is followed by one field per entry.
pub fn schema_for(draft: &Draft) -> Vec<Field> {
    let mut b = Collect {
        draft,
        lines: draft.key_lines(),
        table: draft.plain(),
        out: Vec::new(),
    };
    metadata(&mut b);
    source(&mut b);
    build(&mut b);
    let g = Group::Check;
    let smoke_doc = "Smoke check: a list (program of the package, then arguments), or false when test.nix is the check";
    b.add(
        &g,
        &["check", "smoke"],
        opt_or(FieldKind::Toml, "[main_program, \"--version\"]", smoke_doc),
        true,
    );
    b.add(
        &g,
        &["check", "smoke_env"],
        opt(
            FieldKind::map_of(FieldKind::Text),
            "Environment of the smoke command",
        ),
        true,
    );
    b.add(
        &g,
        &["check", "smoke_expect"],
        opt(
            FieldKind::Text,
            "Text the smoke command's output must contain",
        ),
        true,
    );
    let g = Group::Atproto;
    b.add(
        &g,
        &["atproto", "services"],
        opt(
            text_list(),
            "ATproto roles: pds, relay, feedgen, labeler, appview, plc, ...",
        ),
        true,
    );
    b.add(
        &g,
        &["atproto", "protocols"],
        opt(
            text_list(),
            "What it speaks: xrpc, firehose, jetstream, websocket, ...",
        ),
        true,
    );
    b.add(
        &g,
        &["atproto", "dependencies"],
        opt(
            text_list(),
            "External systems it needs: postgresql, redis, sqlite, ...",
        ),
        true,
    );
    for service in draft.service_names() {
        service_fields(&mut b, &service);
    }
    b.out
}

#[rustfmt::skip]
fn metadata(b: &mut Collect<'_>) {
    let g = Group::Package;
    b.add(&g, &["name"], req(FieldKind::Text, "Package name; equals the folder; [a-z0-9][a-z0-9._+-]*"), true);
    b.add(&g, &["version"], req(FieldKind::Text, "nixpkgs-style version: 1.2.3, 0-unstable-YYYY-MM-DD or 1.2.3-unstable-YYYY-MM-DD"), true);
    b.add(&g, &["tier"], req(tier_kind(), "1 foundation, 2 ecosystem service, 3 specialized"), true);
    b.add(&g, &["category"], req(choices(Category::ALL.map(Category::as_str)), "infrastructure, application, utility or library"), true);
    b.add(&g, &["description"], req(FieldKind::Text, "One line: capitalised, no leading article, no trailing period, not starting with the name"), true);
    b.add(&g, &["long_description"], opt(FieldKind::MultiLineText, "Free text: what it is, how it is built, what is unusual"), true);
    b.add(&g, &["homepage"], req(FieldKind::Text, "http(s):// address of the project"), true);
    b.add(&g, &["license"], req(license_kind(), "SPDX ids; [\"NOASSERTION\"] when upstream states none"), true);
    b.add(&g, &["maintainers"], opt(text_list(), "GitHub handles of the people maintaining it here"), true);
    b.add(&g, &["platforms"], opt_or(text_list(), "Linux", "Nix systems, e.g. x86_64-linux"), true);
    b.add(&g, &["main_program"], opt(FieldKind::Text, "The program `nix run` starts (a file name in bin/)"), true);
}

#[rustfmt::skip]
fn source(b: &mut Collect<'_>) {
    let g = Group::Source;
    let host = b.str_at(&["source", "host"]).map(str::to_string);
    let git = host.as_deref() == Some("git");
    let hosts = [SourceHost::Github, SourceHost::Tangled, SourceHost::Git].map(SourceHost::as_str);
    b.add(&g, &["source", "host"], req(choices(hosts), "github, tangled or git (plain fetchgit of url)"), true);
    b.add(&g, &["source", "owner"], req(FieldKind::Text, "github/tangled: the owner (a Tangled handle without @)"), !git);
    b.add(&g, &["source", "repo"], req(FieldKind::Text, "github/tangled: the repository"), !git);
    b.add(&g, &["source", "url"], req(FieldKind::Text, "git: the URL to fetch"), git);
    b.add(&g, &["source", "rev"], req(FieldKind::Text, "The commit: 40 lowercase hex digits"), true);
    b.add(&g, &["source", "hash"], req(FieldKind::Text, "SRI sha256 of the NAR of the unpacked tree (computed, never typed)"), true);
    b.add(&g, &["source", "submodules"], opt_or(FieldKind::Bool, "false", "Whether git submodules are fetched (the hash depends on it)"), true);
    b.add(&g, &["source", "verified"], opt_or(FieldKind::Bool, "false", "True only when the hash was computed here from upstream content"), true);
    b.add(&g, &["source", "provenance"], req(FieldKind::Text, "How the pin was obtained: command, date, or where it was copied from"), true);
}

#[rustfmt::skip]
fn build(b: &mut Collect<'_>) {
    let g = Group::Build;
    let builder = b.str_at(&["build", "builder"]).and_then(|s| Builder::ALL.into_iter().find(|x| x.as_str() == s));
    let is = |xs: &[Builder]| builder.is_some_and(|b| xs.contains(&b));
    b.add(&g, &["build", "language"], req(FieldKind::Text, "Main language, informational (rust, go, typescript, ...)"), true);
    b.add(&g, &["build", "builder"], req(choices(Builder::ALL.map(Builder::as_str)), "Which builder of lib/packaging.nix builds it"), true);
    b.add(&g, &["build", "workspace"], opt(FieldKind::Text, "Name of a shared upstream build (one derivation for all its packages)"), true);
    b.add(&g, &["build", "members"], opt(text_list(), "rust-workspace: the cargo -p package names"), is(&[Builder::RustWorkspace]));
    b.add(&g, &["build", "sub_packages"], opt(text_list(), "go-module: the Go packages to build, e.g. cmd/relay"), is(&[Builder::GoModule]));
    b.add(&g, &["build", "workspaces"], opt(text_list(), "pnpm/npm: the workspace packages to build"), is(&[Builder::PnpmWorkspace, Builder::NpmPackage]));
    b.add(&g, &["build", "source_root"], opt(FieldKind::Path, "Sub-directory of the source holding the project, relative"), true);
    b.add(&g, &["build", "deps_hash"], req(FieldKind::Text, "SRI hash of the fetched dependencies, or \"unknown\" until the first build"), true);
    b.add(&g, &["build", "build_inputs"], opt(text_list(), "nixpkgs attribute paths (openssl, ...)"), true);
    b.add(&g, &["build", "native_build_inputs"], opt(text_list(), "nixpkgs attribute paths for build tools (pkg-config, ...)"), true);
    b.add(&g, &["build", "env"], opt(FieldKind::map_of(FieldKind::Text), "Build-time environment variables (string values)"), true);
    for kind in toolchains::Kind::ALL {
        let versions = kind.versions();
        let doc = match kind {
            toolchains::Kind::Go => "go-module: Go version (absent: nixpkgs' default)",
            toolchains::Kind::Nodejs => "pnpm/npm: Node major (absent: pkgs.nodejs)",
            toolchains::Kind::Pnpm => "pnpm-workspace: pnpm major (absent: pkgs.pnpm)",
            toolchains::Kind::Rust => "rust builders: the minimum rustc (MAJOR.MINOR)",
        };
        b.add(&g, &["build", kind.key()], opt(choices(versions), doc), is(kind.builders()));
    }
}

#[rustfmt::skip]
fn service_fields(b: &mut Collect<'_>, service: &str) {
    let g = Group::Service { service: service.to_string() };
    let at = |key: &'static str| ["services", service, key];
    let ports: Vec<String> = b
        .get(&FieldPath::new(at("ports")))
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    let public = FieldKind::list_of(FieldKind::Enum {
        choices: ports.iter().map(|p| Choice { value: toml::Value::String(p.clone()), label: p.clone() }).collect(),
        open: false,
    });
    let databases = [Database::None, Database::Postgresql, Database::Sqlite, Database::Rocksdb].map(Database::as_str);
    b.add(&g, &at("exec"), req(text_list(), "Program in the package's bin/, then arguments ({data_dir}, {listen_address}, {port:NAME}, {option:NAME})"), true);
    b.add(&g, &at("ports"), opt(FieldKind::map_of(FieldKind::Port), "Named ports, unique across the whole catalog"), true);
    b.add(&g, &at("public_ports"), opt_or(public, "[\"http\"] when there is an http port", "Ports openFirewall opens (never metrics, pprof or debug)"), true);
    b.add(&g, &at("fixed_listener"), opt_or(FieldKind::Bool, "false", "Upstream hard-codes its address and port; the module refuses changes"), true);
    b.add(&g, &at("database"), opt_or(choices(databases), "none", "What the module's database integration sets up"), true);
    b.add(&g, &at("health_path"), opt(FieldKind::Text, "HTTP path that answers once the service is up (e.g. /xrpc/_health)"), true);
    b.add(&g, &at("jit"), opt_or(FieldKind::Bool, "false", "Runtime with a JIT (Node, Deno): MemoryDenyWriteExecute stays off"), true);
    for option in b.draft.table_keys(&FieldPath::new(["services", service, "options"])) {
        option_fields(b, service, &option);
    }
    for setting in b.draft.table_keys(&FieldPath::new(["services", service, "hardening_exceptions"])) {
        let g = Group::Hardening { service: service.to_string(), setting: setting.clone() };
        let keys = ["services", service, "hardening_exceptions", setting.as_str()];
        b.add(&g, &[&keys[..], &["value"]].concat(), req(FieldKind::Toml, "The systemd value used instead of the preset's"), true);
        b.add(&g, &[&keys[..], &["reason"]].concat(), req(FieldKind::Text, "Why this service needs the relaxation"), true);
    }
}

/// The kind of an option's `default` and `example`, from its `type`.
pub fn option_value_kind(ty: Option<OptionType>, values: &[String]) -> FieldKind {
    match ty {
        Some(OptionType::Str) => FieldKind::Text,
        Some(OptionType::Int) => FieldKind::Integer {
            min: i64::MIN,
            max: i64::MAX,
        },
        Some(OptionType::Port) => FieldKind::Port,
        Some(OptionType::Bool) => FieldKind::Bool,
        Some(OptionType::Enum) => FieldKind::Enum {
            choices: values.iter().map(|v| Choice::text(v)).collect(),
            open: false,
        },
        Some(OptionType::Path) => FieldKind::Path,
        Some(OptionType::SecretFile) => FieldKind::SecretFile,
        Some(OptionType::List) => text_list(),
        None => FieldKind::Toml,
    }
}

/// The option types, in the format's order.
pub const OPTION_TYPES: [OptionType; 8] = [
    OptionType::Str,
    OptionType::Int,
    OptionType::Port,
    OptionType::Bool,
    OptionType::Enum,
    OptionType::Path,
    OptionType::SecretFile,
    OptionType::List,
];

#[rustfmt::skip]
fn option_fields(b: &mut Collect<'_>, service: &str, option: &str) {
    let g = Group::ServiceOption { service: service.to_string(), option: option.to_string() };
    let at = |key: &'static str| ["services", service, "options", option, key];
    let ty = b.str_at(&at("type")).and_then(|t| OPTION_TYPES.into_iter().find(|o| o.as_str() == t));
    let values: Vec<String> = b
        .get(&FieldPath::new(at("values")))
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let secret = ty == Some(OptionType::SecretFile);
    let value_kind = option_value_kind(ty, &values);
    b.add(&g, &at("type"), req(choices(OPTION_TYPES.map(OptionType::as_str)), "str, int, port, bool, enum, path, secret-file or list"), true);
    let default_doc = if secret {
        "A secret-file option never has a default: the user points it at a file outside the store"
    } else {
        "A value of the option's type; absent means the user must set it"
    };
    b.add(&g, &at("default"), opt(value_kind.clone(), default_doc), true);
    b.add(&g, &at("description"), req(FieldKind::Text, "One line for the option's documentation"), true);
    b.add(&g, &at("env"), opt(FieldKind::Text, "The environment variable the program reads"), true);
    b.add(&g, &at("values"), req(text_list(), "The allowed strings of an enum"), ty == Some(OptionType::Enum));
    b.add(&g, &at("example"), opt(value_kind, "A value of the option's type for the VM test (required without a default)"), !secret);
    b.add(&g, &at("example_generate"), opt(text_list(), "secret-file: the package's command that writes a sample file ({file})"), secret);
}
