//! Bare clones of remote repositories in atwb's cache, fetched only as deep as a pin needs.
//!
//! A NAR hash needs one commit's tree, never its history, so over http(s) and ssh only the
//! wanted ref (or commit id) is fetched with depth 1. libgit2's local transport (`file://`,
//! paths) refuses shallow fetches, so there a normal fetch is made. A commit id already in the
//! cache is not fetched again: commit ids are immutable.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use git2::{AutotagOption, Direction, FetchOptions, ProxyOptions, Repository};

/// What the pin needs from the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// The remote's default branch (`HEAD`); the cache's `HEAD` is pointed at it.
    Head,
    /// A full commit id (40 hex digits).
    Commit(String),
    /// A tag name, without `refs/tags/`.
    Tag(String),
    /// A branch name, or any other revision (an abbreviated id, `main~2`): the branch is tried
    /// shallow, then everything is fetched.
    Other(String),
}

impl Want {
    /// `HEAD`, a full commit id, or anything else git can resolve.
    pub fn from_rev(rev: &str) -> Want {
        if rev == "HEAD" {
            Want::Head
        } else if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            Want::Commit(rev.to_ascii_lowercase())
        } else {
            Want::Other(rev.to_string())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "cannot reach {url}: {message}\nCheck the URL (a repository that does not exist answers \
         404) and the network; a local clone can be passed as a path instead"
    )]
    Unreachable { url: String, message: String },
    #[error("fetching {what} from {url}: {message}")]
    Fetch {
        url: String,
        what: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
}

/// Seconds libgit2 waits for a connection and for each read or write: `ATWB_GIT_TIMEOUT`, else 30.
fn timeout() -> Duration {
    std::env::var("ATWB_GIT_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

fn set_timeouts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let ms = i32::try_from(timeout().as_millis()).unwrap_or(i32::MAX);
        // SAFETY: libgit2 options are process-global; they are set once, before any transfer.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
            let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
        }
    });
}

/// libgit2's local transport cannot fetch shallow.
fn is_local(url: &str) -> bool {
    url.starts_with("file://") || !url.contains("://") && !url.contains('@')
}

/// Makes sure the bare repository at `dir` (created when absent) holds what `want` names from
/// `url`. A new clone is built beside `dir` and renamed into place, so a failed first fetch
/// leaves no half-made cache behind.
pub fn ensure(url: &str, dir: &Path, want: &Want) -> Result<(), RemoteError> {
    set_timeouts();
    let cache_err = |message: String| RemoteError::Cache {
        path: dir.to_path_buf(),
        message,
    };
    if let Ok(repo) = Repository::open_bare(dir) {
        if let Want::Commit(id) = want
            && has_commit(&repo, id)
        {
            return Ok(());
        }
        return fetch_want(&repo, url, want);
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| cache_err(e.to_string()))?;
    let part = tempfile::Builder::new()
        .prefix(".clone-")
        .tempdir_in(parent)
        .map_err(|e| cache_err(e.to_string()))?;
    let repo = Repository::init_bare(part.path()).map_err(|e| cache_err(e.to_string()))?;
    repo.remote("origin", url)
        .map_err(|e| cache_err(e.message().to_string()))?;
    fetch_want(&repo, url, want)?;
    drop(repo);
    let part = part.keep();
    std::fs::rename(&part, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&part);
        cache_err(format!("moving the new clone into place: {e}"))
    })
}

fn has_commit(repo: &Repository, id: &str) -> bool {
    git2::Oid::from_str(id)
        .ok()
        .and_then(|oid| repo.find_commit(oid).ok())
        .is_some()
}

fn options<'a>(depth: Option<i32>) -> FetchOptions<'a> {
    let mut proxy = ProxyOptions::new();
    proxy.auto();
    let mut opts = FetchOptions::new();
    opts.proxy_options(proxy);
    // Tags are fetched only when asked for: following them would undo the shallow fetch.
    opts.download_tags(AutotagOption::None);
    if let Some(d) = depth {
        opts.depth(d);
    }
    opts
}

/// libgit2's `GIT_FETCH_DEPTH_UNSHALLOW`.
const UNSHALLOW: i32 = i32::MAX;

const EVERYTHING: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

fn fetch_want(repo: &Repository, url: &str, want: &Want) -> Result<(), RemoteError> {
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| unreachable(url, &e))?;
    // Connecting first tells an unreachable or missing repository from a refused ref.
    remote
        .connect(Direction::Fetch)
        .map_err(|e| unreachable(url, &e))?;
    remote.disconnect().ok();
    let depth = (!is_local(url)).then_some(1);
    let fetch = |specs: &[String], depth: Option<i32>| {
        let mut remote = repo
            .remote_anonymous(url)
            .map_err(|e| unreachable(url, &e))?;
        remote
            .fetch(specs, Some(&mut options(depth)), None)
            .map_err(|e| RemoteError::Fetch {
                url: url.to_string(),
                what: describe(want),
                message: e.message().to_string(),
            })
    };
    let all: Vec<String> = EVERYTHING.iter().map(|s| (*s).to_string()).collect();
    // A full fetch into a shallow cache must lift the boundary, or older commits stay absent.
    let full = || {
        let unshallow = repo.is_shallow() && !is_local(url);
        fetch(&all, unshallow.then_some(UNSHALLOW))
    };
    match want {
        Want::Head => {
            fetch(&["+HEAD:refs/remotes/origin/HEAD".to_string()], depth)?;
            let head = repo
                .refname_to_id("refs/remotes/origin/HEAD")
                .map_err(|e| fetch_error(url, want, &e))?;
            repo.set_head_detached(head)
                .map_err(|e| fetch_error(url, want, &e))
        }
        Want::Tag(t) => fetch(&[format!("+refs/tags/{t}:refs/tags/{t}")], depth),
        Want::Commit(id) => {
            // Servers that do not allow fetching an unadvertised commit refuse the shallow
            // request; then the branches and tags are fetched in full, as git itself would.
            let shallow = fetch(&[format!("+{id}:refs/atwb/{id}")], depth);
            if shallow.is_ok() && has_commit(repo, id) {
                return Ok(());
            }
            full()
        }
        Want::Other(rev) => {
            let branch = format!("+refs/heads/{rev}:refs/heads/{rev}");
            if fetch(&[branch], depth).is_ok() && repo.revparse_single(rev).is_ok() {
                return Ok(());
            }
            full()
        }
    }
}

fn describe(want: &Want) -> String {
    match want {
        Want::Head => "the default branch".into(),
        Want::Commit(id) => format!("commit {id}"),
        Want::Tag(t) => format!("tag {t}"),
        Want::Other(r) => format!("revision {r}"),
    }
}

fn fetch_error(url: &str, want: &Want, e: &git2::Error) -> RemoteError {
    RemoteError::Fetch {
        url: url.to_string(),
        what: describe(want),
        message: e.message().to_string(),
    }
}

fn unreachable(url: &str, e: &git2::Error) -> RemoteError {
    let mut message = e.message().to_string();
    if message.contains("timed out") {
        message.push_str(&format!(
            " (after {}s; set ATWB_GIT_TIMEOUT to wait longer)",
            timeout().as_secs()
        ));
    }
    RemoteError::Unreachable {
        url: url.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_map_to_what_is_fetched() {
        assert_eq!(Want::from_rev("HEAD"), Want::Head);
        let id = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(Want::from_rev(id), Want::Commit(id.to_ascii_lowercase()));
        assert_eq!(Want::from_rev("0123abc"), Want::Other("0123abc".into()));
        assert_eq!(Want::from_rev("main"), Want::Other("main".into()));
    }

    #[test]
    fn only_remote_transports_fetch_shallow() {
        assert!(is_local("file:///tmp/repo"));
        assert!(is_local("/tmp/repo"));
        assert!(!is_local("https://github.com/o/r"));
        assert!(!is_local("git@github.com:o/r"));
    }
}
