//! Reading what a tree walk needs from git objects: a tree's entries with the attributes
//! that apply inside it, `.gitattributes` and `.gitmodules` blobs, and the path checks git makes
//! before it writes an entry.

use git2::{ObjectType, Oid, Repository};

use super::git_attrs::{AttrFile, AttrStack, MAX_FILE_SIZE};
use super::hash_error::HashError;
use super::submodules::{Submodule, parse_gitmodules};

/// `prefix/name`, or `name` at the top.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// A tree entry as stored: name, object id, mode.
pub(crate) type RawEntry = (Vec<u8>, Oid, i32);

/// A tree's entries and the attribute stack inside it.
pub(crate) fn read_dir_entries(
    repo: &Repository,
    tree_id: Oid,
    rel: &str,
    shown: &str,
    parent_attrs: &AttrStack,
) -> Result<(Vec<RawEntry>, AttrStack), HashError> {
    let tree = repo.find_tree(tree_id).map_err(HashError::git(format!(
        "reading tree {tree_id} at `{shown}`"
    )))?;
    let attrs = parent_attrs.push(read_attr_file(repo, &tree, rel)?);
    let entries = tree
        .iter()
        .map(|e| (e.name_bytes().to_vec(), e.id(), e.filemode()))
        .collect();
    Ok((entries, attrs))
}

/// libgit2 re-hashes every object it reads with collision-detecting SHA-1 (about 40% of the time
/// spent hashing a tree); `git archive` and checkout read blobs without re-hashing them, trusting
/// the object store that fetch and `git fsck` verify. The option is process-wide; turning it off
/// only skips that re-check.
pub(crate) fn skip_rehashing_objects() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

/// The directory's own `.gitattributes`, if it is a regular file (git does not follow a
/// symlinked one) no larger than git's limit.
fn read_attr_file(
    repo: &Repository,
    tree: &git2::Tree,
    rel: &str,
) -> Result<Option<AttrFile>, HashError> {
    let Some(entry) = tree.get_name(".gitattributes") else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Blob) || entry.filemode() & 0o170000 != 0o100000 {
        return Ok(None);
    }
    let blob = repo.find_blob(entry.id()).map_err(HashError::git(format!(
        "reading {}",
        join(rel, ".gitattributes")
    )))?;
    if blob.size() >= MAX_FILE_SIZE {
        return Ok(None);
    }
    Ok(Some(AttrFile::parse(
        rel.as_bytes(),
        blob.content(),
        rel.is_empty(),
    )))
}

pub(crate) fn read_gitmodules(
    repo: &Repository,
    tree: Oid,
    shown: &str,
) -> Result<Vec<Submodule>, HashError> {
    let tree = repo
        .find_tree(tree)
        .map_err(HashError::git(format!("reading tree {tree}")))?;
    let Some(entry) = tree.get_name(".gitmodules") else {
        return Ok(Vec::new());
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(Vec::new());
    }
    let origin = join(shown, ".gitmodules");
    let blob = repo
        .find_blob(entry.id())
        .map_err(HashError::git(format!("reading {origin}")))?;
    parse_gitmodules(blob.content(), &origin)
}

/// The paths git's `verify_path` refuses to check out (with `core.protectNTFS`, on by default
/// since git 2.24.1): `.git` in any case or NTFS spelling, `.`/`..`, and a symlinked
/// `.gitmodules`. A name with `/` or NUL cannot come from git either.
pub(crate) fn check_name(name: &[u8], mode: i32, shown: &str) -> Result<(), HashError> {
    let refuse = |reason| {
        Err(HashError::InvalidPath {
            path: shown.to_string(),
            reason,
        })
    };
    if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        return refuse("not a valid file name");
    }
    if name == b"." || name == b".." {
        return refuse("`.` and `..` are not allowed in a tree");
    }
    let lower = name.to_ascii_lowercase();
    let trimmed = trim_ntfs(&lower);
    if trimmed == b".git" || trimmed == b"git~1" || lower.starts_with(b".git:") {
        return refuse("a `.git` entry would become the repository itself");
    }
    if mode == 0o120000 && (trimmed == b".gitmodules" || trimmed == b"gitmod~1") {
        return refuse("`.gitmodules` must not be a symlink");
    }
    Ok(())
}

/// NTFS ignores trailing dots and spaces, so `.git. ` is `.git` there.
fn trim_ntfs(name: &[u8]) -> &[u8] {
    let end = name
        .iter()
        .rposition(|&b| b != b'.' && b != b' ')
        .map_or(0, |i| i + 1);
    &name[..end]
}
