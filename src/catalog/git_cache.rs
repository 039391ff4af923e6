//! atwb's cache of upstream repositories: one bare clone per URL under `<state dir>/prefetch/`,
//! filled by `atwb prefetch URL`, `atwb new URL` (the scaffold), `atwb outdated` (to count commits behind) and `atwb bump`, and
//! read by `atwb hash` and `atwb bump` to hash a commit from git objects.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

use crate::paths;

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

/// `url` after the rewrites of `ATWB_GIT_INSTEAD_OF` (`NEW=OLD` pairs separated by `,`, as
/// git's `url.NEW.insteadOf OLD`): the first pair whose OLD prefixes `url` replaces that
/// prefix. For mirrors, and for tests that stand in a local repository for github.com.
pub fn effective_url(url: &str) -> String {
    match std::env::var("ATWB_GIT_INSTEAD_OF") {
        Ok(rules) => rewrite(url, &rules),
        Err(_) => url.to_string(),
    }
}

fn rewrite(url: &str, rules: &str) -> String {
    for rule in rules.split(',') {
        if let Some((new, old)) = rule.split_once('=')
            && !old.is_empty()
            && let Some(rest) = url.strip_prefix(old)
        {
            return format!("{new}{rest}");
        }
    }
    url.to_string()
}

/// Clones `url` (after [`effective_url`]) into `dir` as a bare repository, or fetches every
/// branch and tag into the clone already there. `cancel`, when set, aborts the transfer at its
/// next progress report (a timed-out caller sets it so the thread stops too).
pub fn clone_or_fetch(
    url: &str,
    dir: &Path,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<(), git2::Error> {
    super::git_http::register();
    let fetch_url = effective_url(url);
    let mut options = git2::FetchOptions::new();
    let mut callbacks = git2::RemoteCallbacks::new();
    if let Some(flag) = cancel {
        callbacks.transfer_progress(move |_| !flag.load(Ordering::Relaxed));
    }
    options.remote_callbacks(callbacks);
    if let Ok(repo) = git2::Repository::open_bare(dir) {
        // Anonymous: the clone's `origin` may predate a rewrite of the URL.
        let mut remote = repo.remote_anonymous(&fetch_url)?;
        let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
        remote.fetch(&refspecs, Some(&mut options), None)?;
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| git2::Error::from_str(&e.to_string()))?;
    }
    git2::build::RepoBuilder::new()
        .bare(true)
        .fetch_options(options)
        .clone(&fetch_url, dir)
        .map(|_| ())
}

/// The clone error in words, with what to do when git2 has no transport for the URL (ssh:
/// atwb speaks git over http(s) and local paths only).
pub fn explain_clone_error(url: &str, e: &git2::Error) -> anyhow::Error {
    let ssh = url.starts_with("ssh://") || url.starts_with("git@");
    if ssh {
        anyhow::anyhow!(
            "cloning {url}: {}\natwb fetches over https and local paths, not ssh; use the https \
             URL, or clone it yourself (`git clone --bare {url} DIR`) and pass the path",
            e.message()
        )
    } else {
        anyhow::anyhow!("cloning {url}: {}", e.message())
    }
}

/// Where `source` is: a local repository (`Local`, opened as it is), or the cache folder of a
/// URL (`Cache`), which the caller fills as deep as it needs.
pub enum Located {
    Local(PathBuf),
    Cache(PathBuf),
}

/// A path that exists must be a git repository; anything else must look like a URL.
pub fn locate(source: &str) -> Result<Located> {
    let path = Path::new(source);
    if path.exists() {
        git2::Repository::open(path)
            .with_context(|| format!("{source} is not a git repository"))?;
        return Ok(Located::Local(path.to_path_buf()));
    }
    if !source.contains("://") && !source.contains('@') {
        bail!(
            "{source}: no such directory, and not a URL (expected a repository path or a git URL)"
        );
    }
    Ok(Located::Cache(cache_dir(source)))
}

/// A local repository as it is, or a URL cloned (or fetched again, every branch and tag) into
/// `<state dir>/prefetch/`.
pub fn open_or_clone(source: &str) -> Result<PathBuf> {
    match locate(source)? {
        Located::Local(path) => Ok(path),
        Located::Cache(dir) => {
            clone_or_fetch(source, &dir, None).map_err(|e| explain_clone_error(source, &e))?;
            Ok(dir)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dirs_are_one_per_url() {
        let a = cache_dir("https://github.com/o/r.git");
        assert_eq!(a, cache_dir("https://github.com/o/r/"));
        assert!(
            a.ends_with("prefetch/https___github_com_o_r"),
            "{}",
            a.display()
        );
    }

    #[test]
    fn instead_of_rewrites_the_first_matching_prefix() {
        let rules = "file:///m/gh/=https://github.com/,file:///m/t/=https://tangled.org/";
        assert_eq!(rewrite("https://github.com/o/r", rules), "file:///m/gh/o/r");
        assert_eq!(rewrite("https://tangled.org/o/r", rules), "file:///m/t/o/r");
        assert_eq!(
            rewrite("https://example.org/x", rules),
            "https://example.org/x"
        );
        assert_eq!(
            rewrite("https://github.com/o/r", "nonsense"),
            "https://github.com/o/r"
        );
    }
}
