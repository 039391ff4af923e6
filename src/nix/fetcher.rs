//! Source pins as nixpkgs' git fetchers produce them, computed from a local repository.
//!
//! `fetchFromGitHub` downloads GitHub's tarball (`git archive` of the commit, unpacked by
//! fetchzip with its top directory stripped) unless one of the options that only a clone can
//! honour is set: `fetchSubmodules`, `leaveDotGit`, `deepClone`, `fetchLFS`, `fetchTags`,
//! `forceFetchGit` (also `rootDir`, `sparseCheckout`, `postCheckout`, which atwb does not
//! model); then it calls `fetchgit`, which runs nix-prefetch-git: a clone, `git checkout`,
//! `git submodule update --init --recursive` when `fetchSubmodules` (fetchgit's default is true,
//! fetchFromGitHub's false), then `find -name .git | xargs rm -rf` unless `leaveDotGit`
//! (fetchgit's default for it is `deepClone || fetchTags`).

use std::path::Path;

use git2::Repository;

use super::git_tree::{Semantics, hash_git_tree};
use super::hash_error::HashError;
use super::nar::NarHash;
use super::submodules::RepoResolver;

/// The nixpkgs fetcher a package's `src` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetcher {
    GitHub,
    Git,
}

/// The fetcher arguments that change what ends up in the store path.
#[derive(Debug, Clone, Default)]
pub struct FetchArgs {
    pub fetcher: Option<Fetcher>,
    /// `fetchSubmodules`; `None` takes the fetcher's default.
    pub submodules: Option<bool>,
    /// `leaveDotGit`; `None` takes fetchgit's default (`deepClone || fetchTags`).
    pub leave_dot_git: Option<bool>,
    pub force_fetch_git: bool,
    pub deep_clone: bool,
    pub fetch_lfs: bool,
    pub fetch_tags: bool,
}

impl FetchArgs {
    pub fn github() -> Self {
        FetchArgs {
            fetcher: Some(Fetcher::GitHub),
            ..FetchArgs::default()
        }
    }

    pub fn git() -> Self {
        FetchArgs {
            fetcher: Some(Fetcher::Git),
            ..FetchArgs::default()
        }
    }

    /// Which output to reproduce, as fetchFromGitHub and fetchgit decide it, or why atwb
    /// cannot reproduce it.
    pub fn semantics(&self) -> Result<Semantics, HashError> {
        let fetcher = self.fetcher.unwrap_or(Fetcher::GitHub);
        let use_git = fetcher == Fetcher::Git
            || self.submodules == Some(true)
            || self.leave_dot_git == Some(true)
            || self.force_fetch_git
            || self.deep_clone
            || self.fetch_lfs
            || self.fetch_tags;
        if !use_git {
            return Ok(Semantics::Archive);
        }
        if self
            .leave_dot_git
            .unwrap_or(self.deep_clone || self.fetch_tags)
        {
            return Err(HashError::LeaveDotGit);
        }
        if self.fetch_lfs {
            return Err(HashError::UnsupportedOption {
                option: "fetchLFS",
                reason: "LFS file contents come from the LFS server, not from git objects",
            });
        }
        let default_submodules = fetcher == Fetcher::Git;
        Ok(Semantics::Checkout {
            submodules: self.submodules.unwrap_or(default_submodules),
        })
    }
}

/// Which commit to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rev {
    /// Anything git can resolve: a commit id (full or abbreviated), a branch, `HEAD`.
    Rev(String),
    /// A tag name (without `refs/tags/`), as `tag = "..."` in nixpkgs.
    Tag(String),
}

/// What `nurl`/`nix-prefetch-git` report for a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefetchResult {
    /// The commit id, 40 hex digits.
    pub rev: String,
    pub tag: Option<String>,
    pub hash: NarHash,
    /// Committer date, ISO 8601 with the committer's offset (nix-prefetch-git's `date`, `%cI`).
    pub commit_date: String,
    /// The tag without a leading `v` before a digit, else `0-unstable-YYYY-MM-DD` from the
    /// committer date in the committer's offset (`%cs`, as nixpkgs' unstableGitUpdater writes).
    pub version: String,
    pub semantics: Semantics,
}

/// Pins `rev` of the repository at `repo_path` (a clone, bare or not) as `args`' fetcher would:
/// the commit, its NAR hash, its date and a nixpkgs-style version.
///
/// `resolver` finds submodule commits (see [`super::submodules::LocalRepos`]).
pub fn prefetch(
    repo_path: &Path,
    rev: &Rev,
    args: &FetchArgs,
    resolver: &dyn RepoResolver,
) -> Result<PrefetchResult, HashError> {
    let semantics = args.semantics()?;
    let repo = Repository::open(repo_path)
        .map_err(HashError::git(format!("opening {}", repo_path.display())))?;
    let (spec, tag) = match rev {
        Rev::Rev(r) => (r.clone(), None),
        Rev::Tag(t) => (format!("refs/tags/{t}"), Some(t.clone())),
    };
    let commit = repo
        .revparse_single(&spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|source| HashError::RevNotFound {
            repo: repo_path.to_path_buf(),
            rev: spec.clone(),
            source,
        })?;
    let url = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string));
    let hash = hash_git_tree(&repo, commit.id(), url.as_deref(), semantics, resolver)?;
    let time = commit.committer().when();
    let version = match &tag {
        Some(t) => version_from_tag(t),
        None => format!("0-unstable-{}", iso_date(time)),
    };
    Ok(PrefetchResult {
        rev: commit.id().to_string(),
        tag,
        hash,
        commit_date: iso_datetime(time),
        version,
        semantics,
    })
}

/// `v1.2.3` -> `1.2.3`; other tags as they are.
pub fn version_from_tag(tag: &str) -> String {
    match tag.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_string(),
        _ => tag.to_string(),
    }
}

/// Local seconds (UTC seconds shifted by the committer's offset) split into date and time.
fn local_parts(time: git2::Time) -> ((i64, u32, u32), i64) {
    let local = time.seconds() + i64::from(time.offset_minutes()) * 60;
    (
        crate::time::civil_from_days(local.div_euclid(86_400)),
        local.rem_euclid(86_400),
    )
}

/// `YYYY-MM-DD` in the committer's offset (git's `%cs`).
pub fn iso_date(time: git2::Time) -> String {
    let ((y, m, d), _) = local_parts(time);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SS+HH:MM` in the committer's offset (git's `%cI`).
pub fn iso_datetime(time: git2::Time) -> String {
    let ((y, m, d), secs) = local_parts(time);
    let offset = time.offset_minutes();
    let sign = if offset < 0 { '-' } else { '+' };
    let (oh, om) = (offset.abs() / 60, offset.abs() % 60);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{oh:02}:{om:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// How `s` is named to users: the nixpkgs fetcher whose output it reproduces.
pub fn semantics_name(s: Semantics) -> &'static str {
    match s {
        Semantics::Archive => "fetchFromGitHub (git archive)",
        Semantics::Checkout { submodules: true } => "fetchgit (checkout, with submodules)",
        Semantics::Checkout { submodules: false } => "fetchgit (checkout)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_switches_to_fetchgit_as_nixpkgs_does() {
        assert_eq!(FetchArgs::github().semantics().unwrap(), Semantics::Archive);
        let subs = FetchArgs {
            submodules: Some(true),
            ..FetchArgs::github()
        };
        assert_eq!(
            subs.semantics().unwrap(),
            Semantics::Checkout { submodules: true }
        );
        let forced = FetchArgs {
            force_fetch_git: true,
            ..FetchArgs::github()
        };
        assert_eq!(
            forced.semantics().unwrap(),
            Semantics::Checkout { submodules: false }
        );
        assert_eq!(
            FetchArgs::git().semantics().unwrap(),
            Semantics::Checkout { submodules: true }
        );
    }

    #[test]
    fn dot_git_and_lfs_are_refused_with_the_reason() {
        let leave = FetchArgs {
            leave_dot_git: Some(true),
            ..FetchArgs::git()
        };
        assert!(matches!(leave.semantics(), Err(HashError::LeaveDotGit)));
        let deep = FetchArgs {
            deep_clone: true,
            ..FetchArgs::github()
        };
        assert!(matches!(deep.semantics(), Err(HashError::LeaveDotGit)));
        let deep_no_git = FetchArgs {
            leave_dot_git: Some(false),
            ..deep
        };
        assert!(deep_no_git.semantics().is_ok());
        let lfs = FetchArgs {
            fetch_lfs: true,
            ..FetchArgs::git()
        };
        assert!(
            lfs.semantics()
                .unwrap_err()
                .to_string()
                .contains("fetchLFS")
        );
    }

    #[test]
    fn dates_and_versions() {
        // 2024-02-29 23:30:00 UTC; +01:00 makes it March 1st locally.
        let t = git2::Time::new(1_709_249_400, 60);
        assert_eq!(iso_date(t), "2024-03-01");
        assert_eq!(iso_datetime(t), "2024-03-01T00:30:00+01:00");
        let west = git2::Time::new(1_709_249_400, -330);
        assert_eq!(iso_datetime(west), "2024-02-29T18:00:00-05:30");
        assert_eq!(version_from_tag("v0.16.0"), "0.16.0");
        assert_eq!(version_from_tag("version-2"), "version-2");
    }
}
