//! Where upstream moved: per package, the default-branch head and newest tag (git2 remote ls),
//! the commits the pin is behind (after a fetch into atwb's clone cache) and, with a GitHub
//! token and a github.com source, the release notes. Used by `atwb outdated` and the TUI's
//! updates view.
//!
//! Network work is slow and fails: every step has a timeout, at most `jobs` packages are
//! checked at once, each result is sent as soon as it is known, and any failure becomes that
//! package's row with its reason, never an error of the whole run.

pub mod github;
pub mod remote;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex, Semaphore, mpsc};

use crate::catalog::git_cache::{cache_dir, clone_or_fetch, effective_url};
use crate::catalog::{Package, SourceHost};

pub use crate::catalog::tags::newest_tag;
pub use github::{GithubApi, Release};
pub use remote::{RemoteRefs, ls_remote};

/// One package to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamQuery {
    pub name: String,
    /// The catalog's URL (the cache is keyed by it; `ATWB_GIT_INSTEAD_OF` may redirect it).
    pub url: String,
    pub rev: String,
    pub version: String,
    /// `(owner, repo)` of a github.com source: release notes come from the GitHub API.
    pub github: Option<(String, String)>,
}

impl UpstreamQuery {
    pub fn of(p: &Package) -> Option<UpstreamQuery> {
        let url = p.source.git_url()?;
        let github = match (p.source.host, &p.source.owner, &p.source.repo) {
            (SourceHost::Github, Some(o), Some(r)) => Some((o.clone(), r.clone())),
            _ => None,
        };
        Some(UpstreamQuery {
            name: p.name.clone(),
            url,
            rev: p.source.rev.clone(),
            version: p.version.clone(),
            github,
        })
    }
}

#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// Packages checked at once.
    pub jobs: usize,
    /// Limit for listing refs and for each API request.
    pub timeout: Duration,
    /// Limit for fetching into the cache (the first fetch is a whole clone).
    pub fetch_timeout: Duration,
    /// Fetch to count commits behind; without it only refs are listed.
    pub fetch: bool,
    pub github: Option<GithubApi>,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        let timeout = Duration::from_secs(20);
        UpstreamOptions {
            jobs: 4,
            timeout,
            fetch_timeout: Duration::from_secs(300),
            fetch: true,
            github: GithubApi::from_env(timeout),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    UpToDate,
    Outdated,
    /// The refs could not be listed; `reason` says why.
    Unreachable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::UpToDate => "up-to-date",
            Status::Outdated => "outdated",
            Status::Unreachable => "unreachable",
        }
    }
}

/// One package's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamRow {
    pub name: String,
    pub url: String,
    pub pinned_rev: String,
    pub pinned_version: String,
    pub default_branch: Option<String>,
    pub head: Option<String>,
    pub newest_tag: Option<String>,
    pub newest_tag_rev: Option<String>,
    /// Commits on the default branch that the pin lacks (None: not fetched, or the fetch failed).
    pub behind: Option<usize>,
    pub status: Status,
    /// The status in words: why unreachable, what is new, what it is at.
    pub reason: String,
    /// What else failed (the fetch, the release notes), each with its reason.
    pub problems: Vec<String>,
    pub release: Option<Release>,
}

impl UpstreamRow {
    /// The tag a bump would move to: the newest one when the package follows releases.
    pub fn follows_tags(&self) -> bool {
        self.newest_tag.is_some() && !self.pinned_version.contains("unstable")
    }
}

/// libgit2's own socket timeouts, so a silent server cannot hold a thread forever.
fn set_git_timeouts(timeout: Duration) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    ONCE.call_once(|| {
        // SAFETY: global libgit2 options, set once before this module opens any connection.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
            let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
        }
    });
}

/// Checks every query (at most `opts.jobs` at once) on the current tokio runtime; rows arrive
/// on the receiver as they are done, in no particular order, and the channel closes after the
/// last one.
pub fn check_all(
    queries: Vec<UpstreamQuery>,
    opts: UpstreamOptions,
) -> mpsc::UnboundedReceiver<UpstreamRow> {
    set_git_timeouts(opts.timeout);
    let (tx, rx) = mpsc::unbounded_channel();
    let client = reqwest::Client::builder()
        .connect_timeout(opts.timeout)
        .build()
        .map_err(|e| format!("GitHub API client: {e}"));
    let shared = Arc::new(Shared {
        permits: Semaphore::new(opts.jobs.max(1)),
        opts,
        client,
        // Siblings share a clone; one fetch into it at a time.
        repo_locks: queries
            .iter()
            .map(|q| (q.url.clone(), Arc::new(Mutex::new(()))))
            .collect(),
    });
    for q in queries {
        let (shared, tx) = (shared.clone(), tx.clone());
        tokio::spawn(async move {
            let Ok(_permit) = shared.permits.acquire().await else {
                return;
            };
            let row = check_one(&shared, q).await;
            let _ = tx.send(row);
        });
    }
    rx
}

struct Shared {
    permits: Semaphore,
    opts: UpstreamOptions,
    client: Result<reqwest::Client, String>,
    repo_locks: HashMap<String, Arc<Mutex<()>>>,
}

async fn check_one(shared: &Shared, q: UpstreamQuery) -> UpstreamRow {
    let mut row = UpstreamRow {
        name: q.name.clone(),
        url: q.url.clone(),
        pinned_rev: q.rev.clone(),
        pinned_version: q.version.clone(),
        default_branch: None,
        head: None,
        newest_tag: None,
        newest_tag_rev: None,
        behind: None,
        status: Status::Unreachable,
        reason: String::new(),
        problems: Vec::new(),
        release: None,
    };
    let refs = match list_refs(&q.url, shared.opts.timeout).await {
        Ok(refs) => refs,
        Err(reason) => {
            row.reason = reason;
            return row;
        }
    };
    row.default_branch = refs.default_branch.clone();
    row.head = refs.head.clone();
    if let Some(tag) = newest_tag(&refs.tags, &q.version) {
        row.newest_tag = Some(tag.to_string());
        row.newest_tag_rev = refs.tags.get(tag).cloned();
    }
    let (behind, release) = tokio::join!(
        commits_behind(shared, &q, row.head.clone()),
        release_notes(shared, &q, row.newest_tag.clone())
    );
    match behind {
        Ok(n) => row.behind = n,
        Err(e) => row.problems.push(e),
    }
    match release {
        Ok(r) => row.release = r,
        Err(e) => row.problems.push(e),
    }
    judge(&mut row);
    row
}

/// Sets the status and its words from what was found.
fn judge(row: &mut UpstreamRow) {
    let branch = row.default_branch.as_deref().unwrap_or("HEAD");
    let behind = match row.behind {
        Some(1) => format!(", 1 commit behind {branch}"),
        Some(n) if n > 0 => format!(", {n} commits behind {branch}"),
        _ => String::new(),
    };
    if row.follows_tags() {
        let tag = row.newest_tag.as_deref().unwrap_or_default();
        if row.newest_tag_rev.as_deref() == Some(row.pinned_rev.as_str()) {
            row.status = Status::UpToDate;
            row.reason = format!("at the newest tag {tag}{behind}");
        } else {
            row.status = Status::Outdated;
            row.reason = format!("new tag {tag} (pinned {}){behind}", row.pinned_version);
        }
        return;
    }
    match &row.head {
        Some(h) if *h == row.pinned_rev => {
            row.status = Status::UpToDate;
            row.reason = format!("at the head of {branch}");
        }
        Some(_) => {
            row.status = Status::Outdated;
            row.reason = match row.behind {
                Some(_) => format!("new commits{behind}"),
                None => format!("{branch} moved (commits behind not counted)"),
            };
        }
        None => {
            row.status = Status::Unreachable;
            row.reason = "the remote advertises no HEAD and no default branch".into();
        }
    }
}

async fn list_refs(url: &str, timeout: Duration) -> Result<RemoteRefs, String> {
    let fetch_url = effective_url(url);
    let shown = url.to_string();
    let task = tokio::task::spawn_blocking(move || ls_remote(&fetch_url));
    match tokio::time::timeout(timeout, task).await {
        Err(_) => Err(format!(
            "listing refs of {shown}: no answer within {}s",
            timeout.as_secs_f32()
        )),
        Ok(Err(e)) => Err(format!("listing refs of {shown}: {e}")),
        Ok(Ok(Err(e))) => Err(format!("listing refs of {shown}: {}", e.message())),
        Ok(Ok(Ok(refs))) => Ok(refs),
    }
}

/// Fetches into the cache, then counts the commits of `head` the pin lacks.
async fn commits_behind(
    shared: &Shared,
    q: &UpstreamQuery,
    head: Option<String>,
) -> Result<Option<usize>, String> {
    let Some(head) = head.filter(|_| shared.opts.fetch) else {
        return Ok(None);
    };
    let _lock = match shared.repo_locks.get(&q.url) {
        Some(l) => Some(l.lock().await),
        None => None,
    };
    let (url, rev) = (q.url.clone(), q.rev.clone());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let task = tokio::task::spawn_blocking(move || {
        let dir = cache_dir(&url);
        clone_or_fetch(&url, &dir, Some(flag))
            .map_err(|e| format!("fetching {url} into {}: {}", dir.display(), e.message()))?;
        count_behind(&dir, &head, &rev)
    });
    let limit = shared.opts.fetch_timeout;
    match tokio::time::timeout(limit, task).await {
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            Err(format!(
                "fetching {}: not done within {}s (commits behind not counted)",
                q.url,
                limit.as_secs_f32()
            ))
        }
        Ok(Err(e)) => Err(format!("fetching {}: {e}", q.url)),
        Ok(Ok(r)) => r.map(Some),
    }
}

fn count_behind(dir: &std::path::Path, head: &str, rev: &str) -> Result<usize, String> {
    let repo = git2::Repository::open_bare(dir).map_err(|e| e.message().to_string())?;
    let oid = |s: &str| git2::Oid::from_str(s).map_err(|e| e.message().to_string());
    let (head, pinned) = (oid(head)?, oid(rev)?);
    if repo.find_commit(pinned).is_err() {
        return Err(format!(
            "the pinned rev {rev} is not in upstream's history (force-pushed away, or another repository)"
        ));
    }
    let (ahead, _) = repo
        .graph_ahead_behind(head, pinned)
        .map_err(|e| e.message().to_string())?;
    Ok(ahead)
}

async fn release_notes(
    shared: &Shared,
    q: &UpstreamQuery,
    tag: Option<String>,
) -> Result<Option<Release>, String> {
    let (Some(api), Some((owner, repo))) = (&shared.opts.github, &q.github) else {
        return Ok(None);
    };
    let client = shared.client.as_ref().map_err(Clone::clone)?;
    // The request has its own timeout; this one also bounds a body that trickles in.
    let limit = api.timeout + Duration::from_secs(1);
    match tokio::time::timeout(
        limit,
        github::release(client, api, owner, repo, tag.as_deref()),
    )
    .await
    {
        Err(_) => Err(format!(
            "GitHub API ({}) did not answer within {}s",
            api.base,
            api.timeout.as_secs_f32()
        )),
        Ok(r) => r.map(Some).map_err(|e| format!("release notes: {e}")),
    }
}

#[cfg(test)]
mod tests;
