//! The catalog's data model: what one `catalog/pkgs/<org>/<name>/package.toml` says once loaded
//! and validated. The same files are read by Nix (`catalog/lib/atproto-core.nix`), so every field
//! here is documented in `catalog/README.md` and must stay expressible with `builtins.fromTOML`
//! (no dates).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The whole catalog, packages sorted by (tier, org, name).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    /// The `catalog/` directory this was loaded from.
    pub root: PathBuf,
    pub packages: Vec<Package>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Distinct orgs, sorted.
    pub fn orgs(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = self.packages.iter().map(|p| p.org.as_str()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        orgs
    }
}

/// Tier 1 foundation, 2 ecosystem service, 3 specialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Tier {
    Foundation = 1,
    Ecosystem = 2,
    Specialized = 3,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Foundation, Tier::Ecosystem, Tier::Specialized];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Foundation => "foundation",
            Tier::Ecosystem => "ecosystem services",
            Tier::Specialized => "specialized",
        }
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t as u8
    }
}

impl TryFrom<u8> for Tier {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(Tier::Foundation),
            2 => Ok(Tier::Ecosystem),
            3 => Ok(Tier::Specialized),
            other => Err(format!(
                "tier {other} is out of range: use 1 (foundation), 2 (ecosystem service) or 3 (specialized)"
            )),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Infrastructure,
    Application,
    Utility,
    Library,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Infrastructure,
        Category::Application,
        Category::Utility,
        Category::Library,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Infrastructure => "infrastructure",
            Category::Application => "application",
            Category::Utility => "utility",
            Category::Library => "library",
        }
    }
}

/// One package, as validated. `org` comes from the parent folder, not from the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    pub name: String,
    pub org: String,
    /// Directory holding `package.toml` (and optional `package.nix`, `module.nix`, `test.nix`).
    pub dir: PathBuf,
    pub version: String,
    pub tier: Tier,
    pub category: Category,
    pub description: String,
    pub long_description: String,
    pub homepage: String,
    /// SPDX identifiers; more than one means mixed licensing.
    pub license: Vec<String>,
    pub maintainers: Vec<String>,
    pub platforms: Vec<String>,
    pub main_program: Option<String>,
    pub source: Source,
    pub build: Build,
    pub atproto: AtprotoMeta,
    /// Services by name, sorted.
    pub services: BTreeMap<String, Service>,
    /// Which optional Nix files sit beside `package.toml`.
    pub extra_files: ExtraFiles,
}

/// The search (`/`, `atwb list --filter`) matches a package by these fields.
impl crate::search::Searchable for Package {
    fn name(&self) -> &str {
        &self.name
    }
    fn org(&self) -> &str {
        &self.org
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn services(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExtraFiles {
    pub package_nix: bool,
    pub module_nix: bool,
    pub test_nix: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceHost {
    Github,
    Tangled,
    Git,
}

impl SourceHost {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceHost::Github => "github",
            SourceHost::Tangled => "tangled",
            SourceHost::Git => "git",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub host: SourceHost,
    /// github/tangled: `owner` and `repo`; git: `url`.
    pub owner: Option<String>,
    pub repo: Option<String>,
    pub url: Option<String>,
    /// 40 hex digits, never a branch or tag name.
    pub rev: String,
    /// SRI `sha256-<base64>` of the NAR of the unpacked source.
    pub hash: String,
    pub submodules: bool,
    /// True only when `hash` was computed here from the real upstream content.
    pub verified: bool,
    /// How the pin was obtained (command, date, or where it was copied from).
    pub provenance: String,
}

impl Source {
    /// A short human form: `github:owner/repo @abcdef1`.
    pub fn short(&self) -> String {
        let rev: String = self.rev.chars().take(7).collect();
        match (&self.owner, &self.repo, &self.url) {
            (Some(o), Some(r), _) => format!("{}:{o}/{r} @{rev}", self.host.as_str()),
            (_, _, Some(u)) => format!("{u} @{rev}"),
            _ => format!("{} @{rev}", self.host.as_str()),
        }
    }

    /// The git URL to clone for upstream checks and scaffolding.
    pub fn git_url(&self) -> Option<String> {
        match (self.host, &self.owner, &self.repo, &self.url) {
            (_, _, _, Some(u)) => Some(u.clone()),
            (SourceHost::Github, Some(o), Some(r), _) => {
                Some(format!("https://github.com/{o}/{r}"))
            }
            (SourceHost::Tangled, Some(o), Some(r), _) => {
                Some(format!("https://tangled.org/{o}/{r}"))
            }
            _ => None,
        }
    }
}

/// What kind of Nix builder `catalog/lib/packaging.nix` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    RustWorkspace,
    RustPackage,
    GoModule,
    PnpmWorkspace,
    NpmPackage,
    DenoApp,
    StaticSite,
}

impl Builder {
    pub const ALL: [Builder; 7] = [
        Builder::RustWorkspace,
        Builder::RustPackage,
        Builder::GoModule,
        Builder::PnpmWorkspace,
        Builder::NpmPackage,
        Builder::DenoApp,
        Builder::StaticSite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Builder::RustWorkspace => "rust-workspace",
            Builder::RustPackage => "rust-package",
            Builder::GoModule => "go-module",
            Builder::PnpmWorkspace => "pnpm-workspace",
            Builder::NpmPackage => "npm-package",
            Builder::DenoApp => "deno-app",
            Builder::StaticSite => "static-site",
        }
    }

    /// The field of `[build]` that holds the dependency hash's Nix name, for messages.
    pub fn deps_hash_nix_name(self) -> &'static str {
        match self {
            Builder::RustWorkspace | Builder::RustPackage => "cargoHash",
            Builder::GoModule => "vendorHash",
            Builder::PnpmWorkspace => "pnpmDeps.hash",
            Builder::NpmPackage => "npmDepsHash",
            Builder::DenoApp => "denoDepsHash",
            Builder::StaticSite => "(none)",
        }
    }
}

/// A dependency hash: either a real SRI hash, or explicitly unknown (becomes `lib.fakeHash`, so the
/// first real build reports the right value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepsHash {
    Known(String),
    Unknown,
}

/// Serialized as in `package.toml` (the hash, or "unknown"), not as JSON null.
impl Serialize for DepsHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl DepsHash {
    pub fn as_str(&self) -> &str {
        match self {
            DepsHash::Known(h) => h,
            DepsHash::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Build {
    pub language: String,
    pub builder: Builder,
    /// Packages naming the same `workspace` share one derivation in Nix (one compile of the shared
    /// dependencies); they must then have the same `[source]`, `builder` and `deps_hash`.
    pub workspace: Option<String>,
    /// rust-workspace: cargo members (`-p` names) built from one derivation.
    pub members: Vec<String>,
    /// go-module: `subPackages` (e.g. `cmd/relay`).
    pub sub_packages: Vec<String>,
    /// pnpm-workspace / npm-package: workspace filters.
    pub workspaces: Vec<String>,
    /// Subdirectory of the source holding the project (`sourceRoot`), if not the top.
    pub source_root: Option<String>,
    pub deps_hash: DepsHash,
    /// nixpkgs attribute names, e.g. `openssl`.
    pub build_inputs: Vec<String>,
    pub native_build_inputs: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// The design's `meta.atproto` (category and tier live at the top level).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AtprotoMeta {
    /// pds, relay, feedgen, labeler, appview, ...
    pub services: Vec<String>,
    /// xrpc, jetstream, firehose, ...
    pub protocols: Vec<String>,
    /// postgresql, redis, sqlite, rocksdb, ...
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    None,
    Postgresql,
    Sqlite,
    Rocksdb,
}

impl Database {
    pub fn as_str(self) -> &'static str {
        match self {
            Database::None => "none",
            Database::Postgresql => "postgresql",
            Database::Sqlite => "sqlite",
            Database::Rocksdb => "rocksdb",
        }
    }
}

/// One long-running service a package provides; becomes `services.atproto.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    /// Program (relative to the package's `bin/`) plus arguments.
    pub exec: Vec<String>,
    /// Named ports, e.g. `http = 6789`, `metrics = 8765`.
    pub ports: BTreeMap<String, u16>,
    pub database: Database,
    /// HTTP path the VM test expects to answer (e.g. `/xrpc/_health`).
    pub health_path: Option<String>,
    /// Runtime with a JIT (Node, Deno): `MemoryDenyWriteExecute` must stay off.
    pub jit: bool,
    /// Hardening settings relaxed for this service, each with its reason.
    pub hardening_exceptions: BTreeMap<String, HardeningException>,
    /// Options by name, in file order.
    pub options: Vec<ServiceOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardeningException {
    /// The systemd value used instead of the preset's (as TOML would write it).
    pub value: toml::Value,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionType {
    Str,
    Int,
    Port,
    Bool,
    Enum,
    Path,
    SecretFile,
    List,
}

impl OptionType {
    pub fn as_str(self) -> &'static str {
        match self {
            OptionType::Str => "str",
            OptionType::Int => "int",
            OptionType::Port => "port",
            OptionType::Bool => "bool",
            OptionType::Enum => "enum",
            OptionType::Path => "path",
            OptionType::SecretFile => "secret-file",
            OptionType::List => "list",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceOption {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: OptionType,
    /// None: the option has no default (required, or secret).
    pub default: Option<toml::Value>,
    pub description: String,
    /// Environment variable the service reads it from.
    pub env: Option<String>,
    /// Allowed values of an `enum` option.
    pub values: Vec<String>,
}
