//! The upstream repository as the scaffold sees it: opened (or cloned into the prefetch cache),
//! the commit to pin chosen, and that commit's files read straight from git objects (no
//! checkout, so a dirty working tree never leaks into a proposal).

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use super::ScaffoldError;
use crate::nix::fetcher::{Rev, version_from_tag};

/// Files bigger than this are not read (a manifest or README never is).
const MAX_FILE: usize = 1 << 20;
/// Folders never searched for build or service files.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    "dist",
    "build",
    ".next",
];

/// Where the repository is on disk, and the URL it came from (given, or its `origin`).
#[derive(Debug, Clone)]
pub struct Opened {
    pub path: PathBuf,
    pub url: Option<String>,
}

/// Opens `source` as a local repository, or clones it (a URL) into atwb's prefetch cache.
pub fn open(source: &str) -> Result<Opened, ScaffoldError> {
    let path = Path::new(source);
    if path.exists() {
        if !path.is_dir() {
            return Err(ScaffoldError::NotARepo(path.to_path_buf()));
        }
        let repo =
            Repository::open(path).map_err(|_| ScaffoldError::NotARepo(path.to_path_buf()))?;
        let url = repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string));
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        return Ok(Opened { path, url });
    }
    if !source.contains("://") && !source.contains('@') {
        return Err(ScaffoldError::NoSuchPath(source.to_string()));
    }
    let path = crate::catalog::git_cache::open_or_clone(source).map_err(|e| {
        ScaffoldError::Unreachable {
            url: source.to_string(),
            reason: format!("{e:#}"),
        }
    })?;
    Ok(Opened {
        path,
        url: Some(source.to_string()),
    })
}

/// The commit to pin and why it was chosen.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub rev: Rev,
    pub why: String,
}

/// `asked` when given (a tag name is pinned as a tag); else the newest release tag when the
/// project tags releases; else the head of the default branch.
pub fn choose_rev(repo_path: &Path, asked: Option<&str>) -> Result<Chosen, ScaffoldError> {
    let repo = Repository::open(repo_path)
        .map_err(|_| ScaffoldError::NotARepo(repo_path.to_path_buf()))?;
    if repo.is_empty().unwrap_or(false) || repo.head().is_err() && newest_tag(&repo).is_none() {
        return Err(ScaffoldError::Empty(repo_path.to_path_buf()));
    }
    if let Some(r) = asked {
        if repo.find_reference(&format!("refs/tags/{r}")).is_ok() {
            return Ok(Chosen {
                rev: Rev::Tag(r.to_string()),
                why: format!("tag {r}, as asked"),
            });
        }
        return Ok(Chosen {
            rev: Rev::Rev(r.to_string()),
            why: format!("{r}, as asked"),
        });
    }
    if let Some((tag, count)) = newest_tag(&repo) {
        return Ok(Chosen {
            why: format!("newest of {count} release tag(s)"),
            rev: Rev::Tag(tag),
        });
    }
    let branch = default_branch(&repo);
    Ok(Chosen {
        rev: Rev::Rev("HEAD".into()),
        why: format!("head of the default branch {branch} (no release tags)"),
    })
}

/// The branch HEAD names (in a bare clone: upstream's default branch).
fn default_branch(repo: &Repository) -> String {
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD")
        && let Ok(Some(target)) = r.symbolic_target()
    {
        return target
            .trim_start_matches("refs/remotes/origin/")
            .to_string();
    }
    repo.head()
        .ok()
        .and_then(|h| h.shorthand().ok().map(str::to_string))
        .unwrap_or_else(|| "HEAD".into())
}

/// A tag that names a release: `v1.2`, `1.0.0`, `v0.3.0-rc1` (a version after an optional `v`).
pub fn is_release_tag(tag: &str) -> bool {
    version_from_tag(tag).starts_with(|c: char| c.is_ascii_digit())
}

/// The release tag whose commit is newest (ties: the higher version), and how many there are.
fn newest_tag(repo: &Repository) -> Option<(String, usize)> {
    let names = repo.tag_names(None).ok()?;
    let mut best: Option<(i64, Vec<u64>, String)> = None;
    let mut count = 0;
    for name in names
        .iter()
        .flatten()
        .flatten()
        .filter(|n| is_release_tag(n))
    {
        let Ok(commit) = repo
            .revparse_single(&format!("refs/tags/{name}"))
            .and_then(|o| o.peel_to_commit())
        else {
            continue;
        };
        count += 1;
        let key = (commit.time().seconds(), version_key(name), name.to_string());
        if best.as_ref().is_none_or(|b| (key.0, &key.1) > (b.0, &b.1)) {
            best = Some(key);
        }
    }
    best.map(|b| (b.2, count))
}

fn version_key(tag: &str) -> Vec<u64> {
    version_from_tag(tag)
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse().unwrap_or(0))
        .collect()
}

/// The files of one commit, read from git objects.
pub struct CommitFiles {
    repo: Repository,
    tree: Oid,
}

impl CommitFiles {
    pub fn new(repo_path: &Path, rev: &str) -> Result<CommitFiles, ScaffoldError> {
        let repo = Repository::open(repo_path)
            .map_err(|_| ScaffoldError::NotARepo(repo_path.to_path_buf()))?;
        let tree = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| ScaffoldError::NoRev {
                rev: rev.to_string(),
                reason: e.message().to_string(),
            })?
            .id();
        Ok(CommitFiles { repo, tree })
    }

    fn entry(&self, path: &str) -> Option<(ObjectType, Oid)> {
        let tree = self.repo.find_tree(self.tree).ok()?;
        let path = path.trim_matches('/');
        if path.is_empty() || path == "." {
            return Some((ObjectType::Tree, self.tree));
        }
        let e = tree.get_path(Path::new(path)).ok()?;
        Some((e.kind()?, e.id()))
    }

    /// A file's text (lossy UTF-8), or None when it is absent, a folder or too big.
    pub fn read(&self, path: &str) -> Option<String> {
        let (ObjectType::Blob, id) = self.entry(path)? else {
            return None;
        };
        let blob = self.repo.find_blob(id).ok()?;
        (blob.size() <= MAX_FILE).then(|| String::from_utf8_lossy(blob.content()).into_owned())
    }

    pub fn is_file(&self, path: &str) -> bool {
        matches!(self.entry(path), Some((ObjectType::Blob, _)))
    }

    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.entry(path), Some((ObjectType::Tree, _)))
    }

    /// `(name, is_folder)` of a folder's entries, sorted by name.
    pub fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let Some((ObjectType::Tree, id)) = self.entry(dir) else {
            return Vec::new();
        };
        let Ok(tree) = self.repo.find_tree(id) else {
            return Vec::new();
        };
        let mut out: Vec<(String, bool)> = tree
            .iter()
            .filter_map(|e| {
                let name = e.name().ok()?.to_string();
                Some((name, e.kind() == Some(ObjectType::Tree)))
            })
            .collect();
        out.sort();
        out
    }

    /// Folders matching a workspace pattern: `crates/*`, `apps/**` (any depth below), or a
    /// literal path; `./` and trailing `/` are ignored.
    pub fn glob_dirs(&self, pattern: &str) -> Vec<String> {
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        let mut out = Vec::new();
        if let Some(base) = pattern.strip_suffix("/**") {
            self.dirs_below(base, 3, &mut out);
        } else if let Some(base) = pattern.strip_suffix("/*") {
            let base = base.trim_end_matches('/');
            for (name, dir) in self.list(base) {
                if dir && !SKIP_DIRS.contains(&name.as_str()) {
                    out.push(join(base, &name));
                }
            }
        } else if !pattern.contains('*') && self.is_dir(pattern) {
            out.push(pattern.to_string());
        }
        out
    }

    fn dirs_below(&self, base: &str, depth: usize, out: &mut Vec<String>) {
        if depth == 0 {
            return;
        }
        for (name, dir) in self.list(base) {
            if dir && !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                let path = join(base, &name);
                out.push(path.clone());
                self.dirs_below(&path, depth - 1, out);
            }
        }
    }

    /// Every file up to `depth` folders down whose name `wanted` accepts, in path order.
    pub fn find_files(&self, depth: usize, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        self.find_in("", depth, wanted, &mut out);
        out
    }

    fn find_in(
        &self,
        dir: &str,
        depth: usize,
        wanted: &dyn Fn(&str) -> bool,
        out: &mut Vec<String>,
    ) {
        for (name, is_dir) in self.list(dir) {
            let path = join(dir, &name);
            if is_dir {
                if depth > 0 && !SKIP_DIRS.contains(&name.as_str()) {
                    self.find_in(&path, depth - 1, wanted, out);
                }
            } else if wanted(&name) {
                out.push(path);
            }
        }
    }
}

/// `dir/name`, or `name` at the top.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The last path component (`apps/web` -> `web`).
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
