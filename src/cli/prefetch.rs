//! `atwb prefetch URL|PATH`: the pin nurl / nix-prefetch-git would print (rev, NAR hash, commit
//! date, nixpkgs version), computed from git objects with no checkout and no nix.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::output::{Mode, with_stdout};
use crate::catalog::git_cache::{Located, locate};
use crate::nix::fetcher::{FetchArgs, Fetcher, PrefetchResult, Rev, prefetch, semantics_name};
use crate::nix::git_remote::{self, Want};
use crate::nix::submodules::LocalRepos;

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
    let rev = match (&args.rev, &args.tag) {
        (_, Some(t)) => Rev::Tag(t.clone()),
        (Some(r), None) => Rev::Rev(r.clone()),
        (None, None) => Rev::Rev("HEAD".into()),
    };
    let want = match &rev {
        Rev::Tag(t) => Want::Tag(t.clone()),
        Rev::Rev(r) => Want::from_rev(r),
    };
    let repo = open_or_clone(&args.source, &want)?;
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
/// into `<state dir>/prefetch/`, only as deep as `want` needs.
pub fn open_or_clone(source: &str, want: &Want) -> Result<PathBuf> {
    match locate(source)? {
        Located::Local(path) => Ok(path),
        Located::Cache(dir) => {
            git_remote::ensure(source, &dir, want)?;
            Ok(dir)
        }
    }
}
