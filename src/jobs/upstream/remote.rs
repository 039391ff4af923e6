//! What an upstream repository advertises, read with git2's remote ls (the refs only, no
//! objects): its default branch and head, and its tags, each peeled to the commit. Works for
//! any URL a git2 transport handles.

use std::collections::BTreeMap;

/// The refs of one remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRefs {
    /// `main`, from the remote's HEAD symref (or the branch HEAD points at).
    pub default_branch: Option<String>,
    /// The commit the default branch is at.
    pub head: Option<String>,
    /// Tag name (without `refs/tags/`) -> commit (annotated tags peeled).
    pub tags: BTreeMap<String, String>,
}

/// Lists `url`'s refs: `Remote::create_detached` + connect + list, nothing fetched.
pub fn ls_remote(url: &str) -> Result<RemoteRefs, git2::Error> {
    crate::catalog::git_http::register();
    let mut remote = git2::Remote::create_detached(url)?;
    remote.connect(git2::Direction::Fetch)?;
    let default_ref = remote
        .default_branch()
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_string));
    let mut head = None;
    let mut branches = BTreeMap::new();
    let mut tags = BTreeMap::new();
    let mut peeled = BTreeMap::new();
    for h in remote.list()? {
        let oid = h.oid().to_string();
        let name = h.name();
        if name == "HEAD" {
            head = Some(oid);
        } else if let Some(b) = name.strip_prefix("refs/heads/") {
            branches.insert(b.to_string(), oid);
        } else if let Some(t) = name.strip_prefix("refs/tags/") {
            match t.strip_suffix("^{}") {
                Some(base) => peeled.insert(base.to_string(), oid),
                None => tags.insert(t.to_string(), oid),
            };
        }
    }
    remote.disconnect()?;
    // An annotated tag's own ref names the tag object; `^{}` names its commit.
    tags.extend(peeled);
    let mut default_branch = default_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_string);
    if default_branch.is_none() {
        // No symref advertised: the branch at HEAD's commit, preferring the usual names.
        default_branch = ["main", "master"]
            .iter()
            .map(|b| (*b).to_string())
            .chain(branches.keys().cloned())
            .find(|b| branches.get(b).is_some_and(|o| Some(o) == head.as_ref()));
    }
    let head = head.or_else(|| {
        default_branch
            .as_ref()
            .and_then(|b| branches.get(b).cloned())
    });
    Ok(RemoteRefs {
        default_branch,
        head,
        tags,
    })
}
