//! `atwb prefetch URL|PATH`: the pin nurl / nix-prefetch-git would print (rev, NAR hash, commit
//! date, nixpkgs version), computed from git objects with no checkout and no nix.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use super::output::{Mode, with_stdout};
use crate::nix::fetcher::{FetchArgs, Fetcher, PrefetchResult, Rev, prefetch, semantics_name};
use crate::nix::submodules::LocalRepos;
use crate::paths;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FetcherArg {
    /// fetchFromGitHub: the `git archive` tarball (export-ignore applied).
    Github,
    /// fetchgit: a checkout with `.git` removed.
    Git,
}

#[derive(Debug, Args)]
pub struct PrefetchArgs {
    /// A local repository (bare or not), or a URL to clone into atwb's cache.
    pub source: String,
    /// The commit, branch or other revision to pin (default: HEAD).
    #[arg(long, conflicts_with = "tag")]
    pub rev: Option<String>,
    /// A tag to pin; the version is the tag without a leading `v`.
    #[arg(long)]
    pub tag: Option<String>,
    /// Which nixpkgs fetcher's output to reproduce (default: github, or git with --submodules).
    #[arg(long, value_enum)]
    pub fetcher: Option<FetcherArg>,
    /// Include submodules (fetchSubmodules = true; implies fetchgit semantics).
    #[arg(long)]
    pub submodules: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &PrefetchArgs) -> Result<ExitCode> {
    let repo = open_or_clone(&args.source)?;
    let rev = match (&args.rev, &args.tag) {
        (_, Some(t)) => Rev::Tag(t.clone()),
        (Some(r), None) => Rev::Rev(r.clone()),
        (None, None) => Rev::Rev("HEAD".into()),
    };
    let fetch = FetchArgs {
        fetcher: args.fetcher.map(|f| match f {
            FetcherArg::Github => Fetcher::GitHub,
            FetcherArg::Git => Fetcher::Git,
        }),
        submodules: args.submodules.then_some(true),
        ..FetchArgs::default()
    };
    let resolver = LocalRepos::new(vec![repo.clone()]);
    let pin = prefetch(&repo, &rev, &fetch, &resolver)
        .with_context(|| format!("prefetching {}", args.source))?;
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            writeln!(out, "{}", to_json(&pin, &repo))
        } else {
            write_text(out, &pin)
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_text(out: &mut dyn std::io::Write, pin: &PrefetchResult) -> std::io::Result<()> {
    writeln!(out, "rev      {}", pin.rev)?;
    if let Some(tag) = &pin.tag {
        writeln!(out, "tag      {tag}")?;
    }
    writeln!(out, "hash     {}", pin.hash.sri())?;
    writeln!(out, "date     {}", pin.commit_date)?;
    writeln!(out, "version  {}", pin.version)?;
    writeln!(out, "fetcher  {}", semantics_name(pin.semantics))
}

fn to_json(pin: &PrefetchResult, repo: &Path) -> serde_json::Value {
    serde_json::json!({
        "rev": pin.rev,
        "tag": pin.tag,
        "hash": pin.hash.sri(),
        "date": pin.commit_date,
        "version": pin.version,
        "fetcher": semantics_name(pin.semantics),
        "repository": repo.display().to_string(),
    })
}

/// A path that exists is opened as it is; anything else is a URL, cloned (or fetched again)
/// into `<state dir>/prefetch/`.
pub fn open_or_clone(source: &str) -> Result<PathBuf> {
    let path = Path::new(source);
    if path.exists() {
        git2::Repository::open(path)
            .with_context(|| format!("{source} is not a git repository"))?;
        return Ok(path.to_path_buf());
    }
    if !source.contains("://") && !source.contains('@') {
        bail!(
            "{source}: no such directory, and not a URL (expected a repository path or a git URL)"
        );
    }
    let dir = paths::prefetch_cache_dir(source);
    clone_or_fetch(source, &dir).map_err(|e| explain_clone_error(source, &e))?;
    Ok(dir)
}

fn clone_or_fetch(url: &str, dir: &Path) -> Result<(), git2::Error> {
    if let Ok(repo) = git2::Repository::open_bare(dir) {
        let mut remote = repo.find_remote("origin")?;
        let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
        remote.fetch(&refspecs, None, None)?;
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| git2::Error::from_str(&e.to_string()))?;
    }
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(url, dir)
        .map(|_| ())
}

fn explain_clone_error(url: &str, e: &git2::Error) -> anyhow::Error {
    let remote = ["https://", "http://", "ssh://", "git@"]
        .iter()
        .any(|p| url.starts_with(p));
    if remote
        && matches!(
            e.class(),
            git2::ErrorClass::Net
                | git2::ErrorClass::Ssl
                | git2::ErrorClass::Http
                | git2::ErrorClass::Ssh
        )
    {
        anyhow::anyhow!(
            "cloning {url}: {e}\natwb was built without https support in git2; clone it yourself \
             (`git clone --bare {url} DIR`) and pass the path"
        )
    } else {
        anyhow::anyhow!("cloning {url}: {e}")
    }
}
