//! Scaffolding a new package from an upstream repository: open or clone it, pin a commit, detect
//! how it builds (Cargo, Go, pnpm/npm, Deno, static sites; several parts per repository), its
//! license, metadata and services, compute the hashes natively, and propose it all as data
//! ([`Proposal`]) for the user to accept or change; then render one `package.toml` per part
//! from the templates in `assets/templates/` and write them, validated, never over a file.
//!
//! A layer of its own between `jobs` and `catalog`: it reads the catalog (names, ports, the
//! validator) and uses `nix` (clone cache, native hashing), and both front ends (`atwb new`,
//! the TUI wizard) call it; it knows nothing of either.

mod cargo;
mod deno;
mod deps;
pub mod evidence;
mod go;
pub mod license;
pub mod meta;
mod node;
pub mod proposal;
pub mod render;
pub mod repo;
mod services;
pub mod write;

use std::path::PathBuf;

pub use proposal::{FieldView, Part, Proposal};
pub use write::write_packages;

use crate::nix::fetcher::{FetchArgs, Fetcher, prefetch};
use crate::nix::submodules::LocalRepos;

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// A local repository path or a git URL.
    pub source: String,
    pub org: Option<String>,
    pub tier: Option<u8>,
    /// A commit, branch or tag; default: newest release tag, else the default branch's head.
    pub rev: Option<String>,
}

/// Why nothing can be proposed or written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0} is not a git repository (atwb new takes a repository path or a git URL)")]
    NotARepo(PathBuf),
    #[error("{0}: no such directory, and not a URL (expected a repository path or a git URL)")]
    NoSuchPath(String),
    #[error("{url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{0} is an empty repository (no commits): nothing to package yet")]
    Empty(PathBuf),
    #[error("no revision `{rev}` in the repository: {reason}")]
    NoRev { rev: String, reason: String },
    #[error(
        "no build system detected at {rev}: looked for Cargo.toml with a binary, go.mod with a main package, package.json, deno.json(c) and index.html"
    )]
    NoBuildSystem { rev: String },
    #[error("hashing the source: {0}")]
    Hash(String),
    #[error("{0} already exists: atwb new never overwrites a package")]
    Exists(PathBuf),
    #[error("package `{0}` is already in the catalog: choose another name")]
    Taken(String),
    #[error("--org: {0}")]
    BadOrg(String),
    #[error("nothing to write: every part was left out")]
    NothingToWrite,
    #[error("the rendered package.toml does not pass the validator:\n{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

/// A manifest's say on the metadata, first one found wins.
#[derive(Debug, Clone, Default)]
pub struct ManifestMeta {
    pub file: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub license: Option<String>,
}

/// What the detectors collect.
#[derive(Debug, Default)]
pub struct Found {
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
    pub manifests: Vec<ManifestMeta>,
}

impl Found {
    fn manifest(
        &mut self,
        file: &str,
        description: Option<String>,
        homepage: Option<String>,
        license: Option<String>,
    ) {
        self.manifests.push(ManifestMeta {
            file: file.to_string(),
            description: description.filter(|d| !d.trim().is_empty()),
            homepage,
            license,
        });
    }
}

/// Detects everything for `request`; `progress` hears each step as it starts.
pub fn detect(
    request: &Request,
    progress: &mut dyn FnMut(&str),
) -> Result<Proposal, ScaffoldError> {
    if let Some(org) = &request.org
        && let Err(p) = crate::catalog::validate::rules::name(org)
    {
        return Err(ScaffoldError::BadOrg(format!("{}; {}", p.message, p.hint)));
    }
    progress(&format!("opening {}", request.source));
    let opened = repo::open(&request.source)?;
    let chosen = repo::choose_rev(&opened.path, request.rev.as_deref())?;
    let hosted = meta::hosted(opened.url.as_deref(), &opened.path);
    progress("hashing the source tree");
    let pin = pin_source(&opened, &chosen, &hosted)?;
    progress("detecting the build system");
    let files = repo::CommitFiles::new(&opened.path, &pin.rev)?;
    let repo_name = hosted
        .repo
        .clone()
        .or_else(|| {
            let u = hosted
                .url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/');
            Some(repo::basename(u.trim_end_matches(".git")).to_string())
        })
        .and_then(|n| meta::kebab(&n))
        .unwrap_or_else(|| "package".into());
    let mut found = detect_parts(&files, &repo_name);
    if found.parts.is_empty() {
        return Err(ScaffoldError::NoBuildSystem { rev: pin.rev });
    }
    name_parts(&mut found.parts, &repo_name);
    unify_toolchains(&mut found.parts);
    // Names read from manifests are shown and written: one with a control character is dropped.
    for p in &mut found.parts {
        let plain = |s: &String| !s.chars().any(char::is_control);
        p.programs.retain(plain);
        p.scripts.retain(plain);
        p.main_program = p.main_program.take().filter(plain);
    }
    progress("reading services, license and metadata");
    services::assign(&mut found.parts, &evidence::collect(&files));
    let first = found.parts[0].name.clone();
    let meta = meta::read(&files, &found, &hosted, &first);
    progress("computing dependency hashes");
    deps::compute(&mut found.parts, &files, &opened.path);
    if files.is_file(".gitmodules") {
        found.notes.push(
            "the repository has submodules; the source hash is for submodules = false".into(),
        );
    }
    let (org, org_why) = match (&request.org, &hosted.owner) {
        (Some(o), _) => (o.clone(), "as asked (--org)".to_string()),
        (None, Some(owner)) => (
            meta::kebab(owner).unwrap_or_else(|| "local".into()),
            "the upstream owner".to_string(),
        ),
        (None, None) => (
            "local".into(),
            "no upstream owner known: change it".to_string(),
        ),
    };
    let mut reasons = meta.reasons;
    reasons.org = org_why;
    let homepage = if meta.homepage_guessed {
        format!("https://github.com/{org}/{repo_name}")
    } else {
        meta.homepage
    };
    let source = source_pin(&hosted, &opened, pin, chosen.why);
    Ok(Proposal {
        category: meta::category(&found.parts).to_string(),
        source,
        org,
        tier: request.tier.unwrap_or(3),
        description: meta.description,
        homepage,
        license: meta.license,
        reasons,
        parts: found.parts,
        notes: found.notes,
    })
}

/// The commit's NAR hash as the catalog's fetcher for this host will check it.
fn pin_source(
    opened: &repo::Opened,
    chosen: &repo::Chosen,
    hosted: &meta::Hosted,
) -> Result<crate::nix::fetcher::PrefetchResult, ScaffoldError> {
    let fetch = FetchArgs {
        fetcher: Some(if hosted.host == "git" {
            Fetcher::Git
        } else {
            Fetcher::GitHub
        }),
        submodules: Some(false),
        ..FetchArgs::default()
    };
    let resolver = LocalRepos::new(vec![opened.path.clone()]);
    prefetch(&opened.path, &chosen.rev, &fetch, &resolver).map_err(|e| match e {
        crate::nix::hash_error::HashError::RevNotFound { rev, source, .. } => {
            ScaffoldError::NoRev {
                rev,
                reason: source.message().to_string(),
            }
        }
        other => ScaffoldError::Hash(other.to_string()),
    })
}

/// Every builder's parts; Deno replaces Node when `deno.json` exists, a static site is only
/// looked for when nothing else builds.
fn detect_parts(files: &repo::CommitFiles, repo_name: &str) -> Found {
    let mut found = Found::default();
    cargo::detect(files, &mut found);
    go::detect(files, repo_name, &mut found);
    if files.is_file("deno.json") || files.is_file("deno.jsonc") {
        deno::detect(files, repo_name, &mut found);
    } else {
        node::detect(files, repo_name, &mut found);
    }
    if found.parts.is_empty() {
        deno::detect_static(files, repo_name, &mut found);
    }
    found
}

fn source_pin(
    hosted: &meta::Hosted,
    opened: &repo::Opened,
    pin: crate::nix::fetcher::PrefetchResult,
    rev_reason: String,
) -> proposal::SourcePin {
    proposal::SourcePin {
        host: hosted.host.to_string(),
        owner: hosted.owner.clone(),
        repo: hosted.repo.clone(),
        url: hosted.url.clone(),
        provenance: format!(
            "computed natively by atwb {} new from git objects of {} at {} ({}), {}",
            env!("CARGO_PKG_VERSION"),
            hosted.web().or(hosted.url.clone()).unwrap_or_default(),
            &pin.rev[..12],
            fetcher_name(pin.semantics),
            crate::time::today_utc()
        ),
        rev: pin.rev,
        tag: pin.tag,
        version: pin.version,
        commit_date: pin.commit_date,
        hash: pin.hash.sri(),
        rev_reason,
        repository: opened.path.display().to_string(),
    }
}

/// Valid, unique package names; a single part takes the repository's name, and parts of one
/// upstream build share a `workspace`.
fn name_parts(parts: &mut [Part], repo_name: &str) {
    let single = parts.len() == 1;
    let mut seen: Vec<String> = Vec::new();
    for p in parts.iter_mut() {
        let base = if single {
            repo_name.to_string()
        } else {
            meta::kebab(&p.name).unwrap_or_else(|| repo_name.to_string())
        };
        let mut name = base.clone();
        let mut n = 2;
        while seen.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        seen.push(name.clone());
        p.name = name;
    }
    // One shared build per builder with several parts; when two builders share, each group
    // gets its language in the name (a workspace is one builder).
    let groups: Vec<_> = {
        let mut g: Vec<crate::catalog::model::Builder> = parts
            .iter()
            .map(|p| p.builder)
            .filter(|b| parts_share_build(*b))
            .filter(|b| parts.iter().filter(|p| p.builder == *b).count() > 1)
            .collect();
        g.dedup();
        g
    };
    for p in parts.iter_mut() {
        if groups.contains(&p.builder) {
            p.workspace = Some(if groups.len() == 1 {
                repo_name.to_string()
            } else {
                format!("{repo_name}-{}", p.language)
            });
        }
    }
}

/// Packages of one workspace are one build: they name the same toolchains (the newest any
/// member asks for).
fn unify_toolchains(parts: &mut [Part]) {
    let newest = |a: &Option<String>, b: &Option<String>| -> Option<String> {
        let key = |v: &String| {
            v.split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        };
        match (a, b) {
            (Some(x), Some(y)) => Some(if key(y) > key(x) {
                y.clone()
            } else {
                x.clone()
            }),
            (x, y) => x.clone().or(y.clone()),
        }
    };
    let names: Vec<Option<String>> = parts.iter().map(|p| p.workspace.clone()).collect();
    for ws in names.iter().flatten() {
        let mut t = proposal::Toolchains::default();
        for p in parts.iter().filter(|p| p.workspace.as_ref() == Some(ws)) {
            t.go = newest(&t.go, &p.toolchains.go);
            t.nodejs = newest(&t.nodejs, &p.toolchains.nodejs);
            t.pnpm = newest(&t.pnpm, &p.toolchains.pnpm);
            t.rust = newest(&t.rust, &p.toolchains.rust);
        }
        for p in parts
            .iter_mut()
            .filter(|p| p.workspace.as_ref() == Some(ws))
        {
            p.toolchains = t.clone();
        }
    }
}

/// How the source hash was made, for the provenance.
fn fetcher_name(s: crate::nix::git_tree::Semantics) -> &'static str {
    use crate::nix::git_tree::Semantics;
    match s {
        Semantics::Archive => "fetchFromGitHub semantics, git archive",
        Semantics::Checkout { .. } => "fetchgit semantics, checkout",
    }
}

/// Builders whose parts are one upstream build (members, sub-packages, workspace filters).
fn parts_share_build(b: crate::catalog::model::Builder) -> bool {
    use crate::catalog::model::Builder;
    matches!(
        b,
        Builder::RustWorkspace | Builder::GoModule | Builder::PnpmWorkspace
    )
}
