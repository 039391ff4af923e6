//! Why a NAR hash could not be computed. Each refusal says what nixpkgs' fetcher would do with the
//! input that atwb cannot reproduce, so the user knows to take the fixed-output route instead.

use std::io;
use std::path::PathBuf;

/// Hint shared by the refusals: the fixed-output route always works because nix itself fetches.
const FOD_HINT: &str = "compute this hash with a fixed-output build instead (a fake hash, then \
                        nix's `got:` line; the TUI's `f`)";

/// A lockfile problem at a line, shared by the cargo and npm readers.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct LockfileLine {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing the NAR: {0}")]
    Write(#[source] io::Error),
    #[error(
        "{}: unsupported file type ({kind}); a NAR holds only regular files, symlinks and \
         directories, so `nix hash path` refuses it too",
        path.display()
    )]
    UnsupportedFileType { path: PathBuf, kind: &'static str },
    #[error("{}: the file changed while it was hashed (its size was {expected} bytes)", path.display())]
    FileChanged { path: PathBuf, expected: u64 },
    #[error("git: {context}: {}", source.message())]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{path}: git refuses to check out this path ({reason}), so no fetcher produces a tree")]
    InvalidPath { path: String, reason: &'static str },
    #[error("{path}: a tree entry appears twice in its git tree object")]
    DuplicateEntry { path: String },
    #[error("{path}: the git tree is nested deeper than {limit} levels")]
    TooDeep { path: String, limit: usize },
    #[error(
        "{path}: `.gitattributes` marks it `export-subst` and it contains `$Format:`; GitHub's \
         tarball replaces that placeholder with values (abbreviated hashes, ref names, dates) \
         taken from GitHub's copy of the repository at download time, so the hash cannot be \
         derived from the commit alone. Use fetchgit (`forceFetchGit = true`, which ignores \
         export-subst), or {FOD_HINT}"
    )]
    ExportSubst { path: String },
    #[error(
        "{path}: `.gitattributes` sets `ident` and the file contains `$Id`; git expands it on \
         checkout and in archives. atwb does not expand it; {FOD_HINT}"
    )]
    Ident { path: String },
    #[error(
        "{path}: `.gitattributes` sets `working-tree-encoding={encoding}`; git re-encodes the file \
         on checkout and in archives. atwb does not re-encode; {FOD_HINT}"
    )]
    WorkingTreeEncoding { path: String, encoding: String },
    #[error(
        "leaveDotGit = true keeps a `.git` directory whose bytes (packfiles, index of the repack, \
         refs) depend on the git version and on what the server sent, not only on the commit; \
         nixpkgs repacks it to make it stable, but it cannot be derived from the tree. Drop \
         leaveDotGit if the build does not need it, or {FOD_HINT}"
    )]
    LeaveDotGit,
    #[error("{option} is not supported: {reason}; {FOD_HINT}")]
    UnsupportedOption {
        option: &'static str,
        reason: &'static str,
    },
    #[error(
        "{path}: the tree has a submodule here but `.gitmodules` has no url for it; `git \
         submodule update --init` (what fetchgit runs) fails the same way"
    )]
    SubmoduleWithoutUrl { path: String },
    #[error(
        "submodule `{name}` at {path} (commit {commit}, url {url}) is not available locally; \
         run `git submodule update --init --recursive` in the repository, or fetch {url} into \
         the cache, then try again"
    )]
    SubmoduleMissing {
        name: String,
        path: String,
        url: String,
        commit: String,
    },
    #[error("{repo}: cannot resolve `{rev}` to a commit: {}", source.message())]
    RevNotFound {
        repo: PathBuf,
        rev: String,
        #[source]
        source: git2::Error,
    },
}

impl HashError {
    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Self {
        let context = context.into();
        move |source| HashError::Git { context, source }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| HashError::Io { path, source }
    }
}
