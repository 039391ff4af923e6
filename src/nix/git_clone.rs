//! Opening a repository given as a path, or cloning a URL into atwb's cache (one bare clone per
//! URL under `<state dir>/prefetch/`), shared by `atwb prefetch`, `atwb hash` and the scaffold.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::paths;

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
    let dir = cache_dir(source);
    clone_or_fetch(source, &dir).map_err(|e| explain_clone_error(source, &e))?;
    Ok(dir)
}

/// `<state dir>/prefetch/<url with every non-alphanumeric byte as `_`>`: one bare clone per URL.
pub fn cache_dir(url: &str) -> PathBuf {
    let name: String = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    paths::state_dir().join("prefetch").join(name)
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
