//! Submodules for a fetchgit checkout: what `.gitmodules` at the commit says (name, url, `update`
//! mode, per path), and where their objects are found locally without a network.
//!
//! `git submodule update --init --recursive` (what nix-prefetch-git runs with `fetchSubmodules`)
//! checks out, for every gitlink of the tree, the commit the gitlink records, using the url from
//! `.gitmodules`; a gitlink without a url there makes it fail; `update = none` leaves the
//! directory empty.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::hash_error::HashError;

/// One `[submodule "name"]` section of `.gitmodules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submodule {
    pub name: String,
    pub path: String,
    pub url: Option<String>,
    /// `update = none`: git leaves the submodule's directory empty.
    pub update_none: bool,
}

/// Parses a `.gitmodules` blob (git-config syntax, read with libgit2's own parser).
pub fn parse_gitmodules(blob: &[u8], origin: &str) -> Result<Vec<Submodule>, HashError> {
    let mut tmp = tempfile::NamedTempFile::new().map_err(HashError::io(std::env::temp_dir()))?;
    tmp.write_all(blob).map_err(HashError::io(tmp.path()))?;
    let config = git2::Config::open(tmp.path()).map_err(HashError::git(origin.to_string()))?;
    let mut subs: Vec<Submodule> = Vec::new();
    let mut entries = config
        .entries(Some("submodule\\..*"))
        .map_err(HashError::git(origin.to_string()))?;
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(HashError::git(origin.to_string()))?;
        let (Ok(key), Ok(value)) = (entry.name(), entry.value()) else {
            continue;
        };
        let Some((name, field)) = key
            .strip_prefix("submodule.")
            .and_then(|rest| rest.rsplit_once('.'))
        else {
            continue;
        };
        let index = if let Some(i) = subs.iter().position(|s| s.name == name) {
            i
        } else {
            subs.push(Submodule {
                name: name.to_string(),
                path: String::new(),
                url: None,
                update_none: false,
            });
            subs.len() - 1
        };
        let sub = &mut subs[index];
        match field {
            "path" => sub.path = value.trim_end_matches('/').to_string(),
            "url" => sub.url = Some(value.to_string()),
            "update" => sub.update_none = value == "none",
            _ => {}
        }
    }
    Ok(subs)
}

/// Resolves a relative submodule url (`../lib.git`) against the superproject's url, as git does;
/// absolute urls are returned as they are.
pub fn resolve_url(base: Option<&str>, url: &str) -> String {
    let Some(base) = base.filter(|_| url.starts_with("./") || url.starts_with("../")) else {
        return url.to_string();
    };
    let mut base = base.trim_end_matches('/').to_string();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            match base.rfind(['/', ':']) {
                Some(i) => base.truncate(i),
                None => base.clear(),
            }
        } else {
            break;
        }
    }
    format!("{base}/{rest}")
}

/// Finds a local repository holding a submodule's (or a git dependency's) commit.
pub trait RepoResolver {
    /// A repository that contains `commit`: for submodule `name` at `path` of `parent`, whose
    /// `.gitmodules` url is `url`. `None` if no local copy has it.
    fn find(
        &self,
        parent: Option<&Repository>,
        name: &str,
        path: &str,
        url: &str,
        commit: Oid,
    ) -> Result<Option<Repository>, HashError>;
}

/// Looks where git and cargo keep clones: the superproject's `modules/<name>` (git's layout
/// after `git submodule update --init`), an old-style `.git` inside the submodule's directory,
/// then the listed repositories (a cache of clones, `$CARGO_HOME/git/db/*`), then the
/// superproject itself. Objects are content-addressed, so any repository holding the commit
/// gives the same tree.
#[derive(Debug, Clone, Default)]
pub struct LocalRepos {
    pub candidates: Vec<PathBuf>,
}

impl LocalRepos {
    pub fn new(candidates: Vec<PathBuf>) -> Self {
        LocalRepos { candidates }
    }

    /// The first candidate repository that holds `commit`.
    pub fn find_commit(&self, commit: Oid) -> Option<Repository> {
        self.candidates
            .iter()
            .find_map(|p| open_with_commit(p, commit))
    }
}

fn open_with_commit(path: &Path, commit: Oid) -> Option<Repository> {
    let repo = Repository::open(path).ok()?;
    let found = repo.find_commit(commit).is_ok();
    found.then_some(repo)
}

impl RepoResolver for LocalRepos {
    fn find(
        &self,
        parent: Option<&Repository>,
        name: &str,
        path: &str,
        _url: &str,
        commit: Oid,
    ) -> Result<Option<Repository>, HashError> {
        if let Some(parent) = parent {
            let mut near = vec![parent.path().join("modules").join(name)];
            if let Some(workdir) = parent.workdir() {
                near.push(workdir.join(path));
            }
            if let Some(repo) = near.iter().find_map(|p| open_with_commit(p, commit)) {
                return Ok(Some(repo));
            }
        }
        if let Some(repo) = self.find_commit(commit) {
            return Ok(Some(repo));
        }
        Ok(parent.and_then(|p| open_with_commit(p.path(), commit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitmodules_sections_by_name() {
        let text = b"[submodule \"lib.core\"]\n\tpath = vendor/lib/\n\turl = ../lib.git\n\
                     [submodule \"docs\"]\n\tpath = docs\n\tupdate = none\n";
        let subs = parse_gitmodules(text, ".gitmodules").unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].name, "lib.core");
        assert_eq!(subs[0].path, "vendor/lib");
        assert_eq!(subs[0].url.as_deref(), Some("../lib.git"));
        assert!(subs[1].update_none);
        assert_eq!(subs[1].url, None);
    }

    #[test]
    fn relative_urls_resolve_against_the_superproject() {
        let base = Some("https://github.com/o/app.git");
        assert_eq!(
            resolve_url(base, "../lib.git"),
            "https://github.com/o/lib.git"
        );
        assert_eq!(
            resolve_url(base, "./sub"),
            "https://github.com/o/app.git/sub"
        );
        assert_eq!(resolve_url(base, "https://x/y"), "https://x/y");
        assert_eq!(resolve_url(None, "../lib"), "../lib");
    }
}
