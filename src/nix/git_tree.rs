//! A git commit's tree as a [`TreeSource`], read straight from objects (no checkout), in the
//! shape one of nixpkgs' fetchers leaves it:
//!
//! - [`Semantics::Archive`]: the unpacked GitHub tarball (`git archive`): `export-ignore` drops
//!   entries, `export-subst` files with a placeholder are refused, a submodule is an empty
//!   directory. As in git 2.47's `archive.c`, a directory is written once the walk meets any
//!   non-directory entry below it (even one that `export-ignore` then drops), so a directory
//!   whose files are all ignored stays as an empty directory, while one whose subdirectories are
//!   all ignored, or that holds only empty trees, disappears.
//! - [`Semantics::Checkout`]: nix-prefetch-git's clone with every `.git` removed: no
//!   `export-ignore`, submodules checked out recursively when asked (else empty directories),
//!   and directories that hold no file at all (empty trees) are absent, since git's index cannot
//!   hold them.
//!
//! Both apply git's output filters for line endings (`eol=crlf`) and refuse `ident` and
//! `working-tree-encoding` (see `git_filters`). Symlinks stay symlinks; a blob mode with the
//! owner's execute bit is executable.
//!
//! The tree's skeleton (names, modes, attributes, submodules) is built first, in memory, so
//! the pruning rules above can be decided before anything is written; blobs are then read one
//! at a time as the NAR is written.

use std::io::Write;

use git2::{Oid, Repository};

use super::git_attrs::AttrStack;
use super::git_blobs::{BlobJob, Prefetch};
use super::git_filters::Filters;
use super::git_objects::{
    check_name, join, read_dir_entries, read_gitmodules, skip_rehashing_objects,
};
use super::hash_error::HashError;
use super::nar::{Entries, NarHash, NarWriter, NodeKind, TreeSource, hash_tree};
use super::submodules::{RepoResolver, Submodule, resolve_url};

/// Git's own limit for tree depth (`core.maxTreeDepth`) is 2048 in git 2.47.
const MAX_DEPTH: usize = 2048;

/// Which fetcher's output to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// `fetchFromGitHub` without the options that switch it to fetchgit: `git archive`.
    Archive,
    /// `fetchgit` (and fetchFromGitHub with `fetchSubmodules`/`forceFetchGit`): a checkout.
    Checkout { submodules: bool },
}

enum Node {
    Dir(Entries<usize>),
    File {
        repo: usize,
        oid: Oid,
        executable: bool,
        filters: Filters,
        path: Box<str>,
    },
    Link {
        repo: usize,
        oid: Oid,
    },
}

/// One repository of the walk: the top-level one or a submodule's.
struct RepoCtx<'r> {
    repo: RepoHandle<'r>,
    /// Its url, to resolve its submodules' relative urls.
    url: Option<String>,
    /// `.gitmodules` at the commit being walked (checkout with submodules only).
    submodules: Vec<Submodule>,
}

enum RepoHandle<'r> {
    Borrowed(&'r Repository),
    Owned(Box<Repository>),
}

impl RepoHandle<'_> {
    fn get(&self) -> &Repository {
        match self {
            RepoHandle::Borrowed(r) => r,
            RepoHandle::Owned(r) => r,
        }
    }
}

/// A git tree laid out as a fetcher leaves it; see the module docs. It is written once: the
/// walk hands each directory's entries over instead of copying them.
pub struct GitTree<'r> {
    repos: Vec<RepoCtx<'r>>,
    nodes: Vec<Node>,
    root: usize,
    /// Blobs read ahead on worker threads, for trees big enough to be worth it.
    prefetch: Option<Prefetch>,
}

/// Trees with fewer files are read on the calling thread.
const PARALLEL_MIN_FILES: usize = 16;

/// The NAR hash of `object`'s tree (a commit, tag or tree id in `repo`) under `semantics`.
pub fn hash_git_tree(
    repo: &Repository,
    object: Oid,
    url: Option<&str>,
    semantics: Semantics,
    resolver: &dyn RepoResolver,
) -> Result<NarHash, HashError> {
    hash_tree(&mut GitTree::new(repo, object, url, semantics, resolver)?)
}

impl<'r> GitTree<'r> {
    /// Reads the skeleton of `object`'s tree. `url` is the repository's remote url, used only to
    /// resolve relative submodule urls for the resolver and for messages.
    pub fn new(
        repo: &'r Repository,
        object: Oid,
        url: Option<&str>,
        semantics: Semantics,
        resolver: &dyn RepoResolver,
    ) -> Result<GitTree<'r>, HashError> {
        skip_rehashing_objects();
        let tree = repo
            .find_object(object, None)
            .and_then(|o| o.peel_to_tree())
            .map_err(HashError::git(format!("reading the tree of {object}")))?;
        let mut this = GitTree {
            repos: vec![RepoCtx {
                repo: RepoHandle::Borrowed(repo),
                url: url.map(str::to_string),
                submodules: Vec::new(),
            }],
            nodes: Vec::new(),
            root: 0,
            prefetch: None,
        };
        let mut walk = Walk {
            semantics,
            resolver,
        };
        let children = walk.repo_root(&mut this, 0, tree.id(), "", 0)?;
        this.nodes.push(Node::Dir(children));
        this.root = this.nodes.len() - 1;
        Ok(this)
    }
}

struct Walk<'a> {
    semantics: Semantics,
    resolver: &'a dyn RepoResolver,
}

/// Where a directory being walked sits: in its repository and in the whole output.
struct DirAt<'p> {
    repo: usize,
    /// Path inside its repository ("" for the repository's root), for attributes.
    rel: &'p str,
    /// Path in the output (through submodules), for messages.
    shown: &'p str,
    depth: usize,
}

impl Walk<'_> {
    /// The entries of one repository's root tree (the top level or a submodule's checkout),
    /// which is kept even if empty.
    fn repo_root(
        &mut self,
        t: &mut GitTree<'_>,
        repo: usize,
        tree: Oid,
        shown: &str,
        depth: usize,
    ) -> Result<Entries<usize>, HashError> {
        if matches!(self.semantics, Semantics::Checkout { submodules: true }) {
            let subs = read_gitmodules(t.repos[repo].repo.get(), tree, shown)?;
            t.repos[repo].submodules = subs;
        }
        let at = DirAt {
            repo,
            rel: "",
            shown,
            depth,
        };
        Ok(self.dir(t, &at, tree, &AttrStack::default())?.0)
    }

    /// The kept children of a tree, sorted by name, and whether git would write the directory
    /// at all (it holds some non-directory entry).
    fn dir(
        &mut self,
        t: &mut GitTree<'_>,
        at: &DirAt,
        tree_id: Oid,
        parent_attrs: &AttrStack,
    ) -> Result<(Entries<usize>, bool), HashError> {
        if at.depth > MAX_DEPTH {
            return Err(HashError::TooDeep {
                path: at.shown.to_string(),
                limit: MAX_DEPTH,
            });
        }
        let (entries, attrs) = read_dir_entries(
            t.repos[at.repo].repo.get(),
            tree_id,
            at.rel,
            at.shown,
            parent_attrs,
        )?;
        let mut kept = Vec::with_capacity(entries.len());
        let mut has_leaf = false;
        for (name, oid, mode) in entries {
            let name_str = String::from_utf8_lossy(&name).into_owned();
            let shown = join(at.shown, &name_str);
            check_name(&name, mode, &shown)?;
            let rel = join(at.rel, &name_str);
            let is_tree = mode == 0o040000;
            has_leaf |= !is_tree;
            let archive = self.semantics == Semantics::Archive;
            let entry_attrs = (!attrs.is_empty())
                .then(|| attrs.lookup(rel.as_bytes(), is_tree || mode == 0o160000));
            if archive
                && entry_attrs
                    .as_ref()
                    .is_some_and(|a| a.is_set("export-ignore"))
            {
                continue;
            }
            let node = match mode {
                0o040000 => {
                    let sub = DirAt {
                        repo: at.repo,
                        rel: &rel,
                        shown: &shown,
                        depth: at.depth + 1,
                    };
                    let (children, keep) = self.dir(t, &sub, oid, &attrs)?;
                    has_leaf |= keep;
                    if !keep {
                        continue;
                    }
                    Node::Dir(children)
                }
                0o120000 => Node::Link { repo: at.repo, oid },
                0o160000 => self.gitlink(t, at, &rel, &shown, oid)?,
                _ => Node::File {
                    repo: at.repo,
                    oid,
                    executable: mode & 0o100 != 0,
                    filters: entry_attrs.map_or(Filters::NONE, |a| Filters::for_attrs(&a, archive)),
                    path: shown.into(),
                },
            };
            t.nodes.push(node);
            kept.push((name, t.nodes.len() - 1));
        }
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = kept.windows(2).find(|w| w[0].0 == w[1].0) {
            let name = String::from_utf8_lossy(&w[0].0);
            return Err(HashError::DuplicateEntry {
                path: join(at.shown, &name),
            });
        }
        Ok((kept, has_leaf))
    }

    /// A submodule entry: an empty directory, or with submodules on, its commit's checkout.
    fn gitlink(
        &mut self,
        t: &mut GitTree<'_>,
        at: &DirAt,
        rel: &str,
        shown: &str,
        commit: Oid,
    ) -> Result<Node, HashError> {
        if !matches!(self.semantics, Semantics::Checkout { submodules: true }) {
            return Ok(Node::Dir(Vec::new()));
        }
        let ctx = &t.repos[at.repo];
        let Some(sub) = ctx.submodules.iter().find(|s| s.path == rel).cloned() else {
            return Err(HashError::SubmoduleWithoutUrl {
                path: shown.to_string(),
            });
        };
        let Some(raw_url) = sub.url.as_deref() else {
            return Err(HashError::SubmoduleWithoutUrl {
                path: shown.to_string(),
            });
        };
        if sub.update_none {
            return Ok(Node::Dir(Vec::new()));
        }
        let url = resolve_url(ctx.url.as_deref(), raw_url);
        let parent = ctx.repo.get();
        let missing = || HashError::SubmoduleMissing {
            name: sub.name.clone(),
            path: shown.to_string(),
            url: url.clone(),
            commit: commit.to_string(),
        };
        let repo = self
            .resolver
            .find(Some(parent), &sub.name, rel, &url, commit)?
            .ok_or_else(missing)?;
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|_| missing())?
            .id();
        t.repos.push(RepoCtx {
            repo: RepoHandle::Owned(Box::new(repo)),
            url: Some(url),
            submodules: Vec::new(),
        });
        let index = t.repos.len() - 1;
        let children = self.repo_root(t, index, tree, shown, at.depth + 1)?;
        Ok(Node::Dir(children))
    }
}

impl TreeSource for GitTree<'_> {
    type Node = usize;

    fn root(&mut self) -> Result<usize, HashError> {
        let jobs = self.blob_jobs();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if jobs.len() >= PARALLEL_MIN_FILES && workers > 1 {
            let paths = self.repos.iter().map(|r| r.repo.get().path().to_path_buf());
            self.prefetch = Some(Prefetch::start(paths.collect(), jobs, workers));
        }
        Ok(self.root)
    }

    fn kind(&self, node: &usize) -> NodeKind {
        match &self.nodes[*node] {
            Node::Dir(_) => NodeKind::Directory,
            Node::File { executable, .. } => NodeKind::Regular {
                executable: *executable,
            },
            Node::Link { .. } => NodeKind::Symlink,
        }
    }

    fn children(&mut self, dir: &usize) -> Result<Entries<usize>, HashError> {
        // Each directory is listed once per NAR: hand the list over instead of copying it.
        match &mut self.nodes[*dir] {
            Node::Dir(children) => Ok(std::mem::take(children)),
            _ => Ok(Vec::new()),
        }
    }

    fn symlink_target(&mut self, link: &usize) -> Result<Vec<u8>, HashError> {
        let Node::Link { repo, oid } = &self.nodes[*link] else {
            return Ok(Vec::new());
        };
        let blob = self.repos[*repo]
            .repo
            .get()
            .find_blob(*oid)
            .map_err(HashError::git(format!("reading symlink blob {oid}")))?;
        Ok(blob.content().to_vec())
    }

    fn write_regular<W: Write>(
        &mut self,
        file: &usize,
        executable: bool,
        nar: &mut NarWriter<W>,
    ) -> Result<(), HashError> {
        let Node::File {
            repo,
            oid,
            filters,
            path,
            ..
        } = &self.nodes[*file]
        else {
            return Ok(());
        };
        if let Some(prefetch) = &mut self.prefetch {
            let (node, data) = prefetch.take_next()?;
            if node != *file {
                // The walk visits files in another order than `blob_jobs` listed them.
                return Err(HashError::Write(std::io::Error::other(format!(
                    "blob read ahead for the wrong file at `{path}`"
                ))));
            }
            return nar.regular(executable, &data).map_err(HashError::Write);
        }
        let blob = self.repos[*repo]
            .repo
            .get()
            .find_blob(*oid)
            .map_err(HashError::git(format!("reading `{path}` (blob {oid})")))?;
        let data = filters.apply(path, blob.content())?;
        nar.regular(executable, &data).map_err(HashError::Write)
    }
}

impl GitTree<'_> {
    /// The regular files in the order [`super::nar::dump`] writes them: depth first, each
    /// directory's entries by name (the skeleton's lists are sorted already).
    fn blob_jobs(&self) -> Vec<BlobJob> {
        let mut jobs = Vec::new();
        let mut stack = vec![self.root];
        while let Some(i) = stack.pop() {
            match &self.nodes[i] {
                Node::Dir(children) => stack.extend(children.iter().rev().map(|c| c.1)),
                Node::File {
                    repo,
                    oid,
                    filters,
                    path,
                    ..
                } => jobs.push(BlobJob {
                    node: i,
                    repo: *repo,
                    oid: *oid,
                    filters: filters.clone(),
                    path: path.clone(),
                }),
                Node::Link { .. } => {}
            }
        }
        jobs
    }
}
