//! What the loader agrees to open in a catalog it may not trust (a fresh clone). A package file
//! must be a regular file of at most [`MAX_FILE_BYTES`]: `/dev/zero` would be read until memory
//! runs out, a FIFO would block the loader forever, and git carries links to either. Links are
//! followed only when they resolve inside the catalog, so a clone cannot make atwb read (or Nix
//! evaluate) files elsewhere on the machine. The type is checked before opening (opening some
//! devices has effects), and again on the open file, which is opened without following a link
//! and without blocking, in case the path changed in between.

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::catalog::diagnostic::Diagnostic;

/// Largest package file read. The biggest shipped `package.toml` is under 5 KB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The catalog's root as given (for the paths in diagnostics) and as the file system resolves it
/// (to tell inside from outside).
pub struct CatalogRoot {
    pub given: PathBuf,
    real: PathBuf,
}

impl CatalogRoot {
    pub fn new(given: &Path) -> io::Result<CatalogRoot> {
        Ok(CatalogRoot {
            given: given.to_path_buf(),
            real: fs::canonicalize(given)?,
        })
    }
}

/// Why a path was not read.
#[derive(Debug)]
pub enum Refusal {
    /// A link resolving outside the catalog, to this path.
    Outside(PathBuf),
    /// Not what the place needs; the kind it is ("a FIFO", "a folder", ...).
    WrongKind(&'static str),
    TooLarge(u64),
    Io(io::Error),
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Self {
        Refusal::Io(e)
    }
}

impl Refusal {
    /// A whole-file diagnostic about `path`, which should have been a file (`field` "file") or a
    /// folder ("folder").
    pub fn diagnostic(&self, path: &Path, field: &str) -> Diagnostic {
        let thing = if field == "folder" { "folder" } else { "file" };
        let (message, hint) = match self {
            Refusal::Outside(target) => (
                format!(
                    "is a link to {}, outside the catalog: atwb does not follow links out of the catalog",
                    target.display()
                ),
                format!(
                    "replace the link with the {thing} itself, or link to a {thing} inside the catalog"
                ),
            ),
            Refusal::WrongKind(kind) => (
                format!("is {kind}, not a regular {thing}"),
                format!(
                    "put a regular {thing} here (a FIFO or a device would block the loader or never end)"
                ),
            ),
            Refusal::TooLarge(size) => (
                format!(
                    "is {size} bytes: atwb reads package files of at most {} MiB ({MAX_FILE_BYTES} bytes)",
                    MAX_FILE_BYTES >> 20
                ),
                "a package.toml is a few KB: remove what does not belong in it".to_string(),
            ),
            Refusal::Io(e) => (
                format!("cannot be read: {e}"),
                "check that it exists and that its permissions let you read it".to_string(),
            ),
        };
        Diagnostic::new(path.to_path_buf(), (0, 0), field, message, hint)
    }
}

/// `path` itself, or where it links to when that is inside the catalog; with its metadata (not
/// following a link: a resolved path has none left).
fn resolve(root: &CatalogRoot, path: &Path) -> Result<(PathBuf, Metadata), Refusal> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.file_type().is_symlink() {
        return Ok((path.to_path_buf(), meta));
    }
    let target = fs::canonicalize(path)?;
    if !target.starts_with(&root.real) {
        return Err(Refusal::Outside(target));
    }
    let meta = fs::symlink_metadata(&target)?;
    Ok((target, meta))
}

fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a link"
    }
}

fn regular_file(meta: &Metadata) -> Result<(), Refusal> {
    if !meta.is_file() {
        return Err(Refusal::WrongKind(kind(meta)));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge(meta.len()));
    }
    Ok(())
}

/// `path` is (or links inside the catalog to) a regular file of at most [`MAX_FILE_BYTES`];
/// nothing is opened. For the Nix files beside `package.toml`, which Nix reads, not atwb.
pub fn check_file(root: &CatalogRoot, path: &Path) -> Result<(), Refusal> {
    let (_, meta) = resolve(root, path)?;
    regular_file(&meta)
}

/// The bytes of the regular file at `path`, refused as [`check_file`] would refuse it.
pub fn read_file(root: &CatalogRoot, path: &Path) -> Result<Vec<u8>, Refusal> {
    let (resolved, meta) = resolve(root, path)?;
    regular_file(&meta)?;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&resolved)
        .map_err(|e| match e.raw_os_error() {
            // A link put in its place since it was checked.
            Some(libc::ELOOP) => Refusal::WrongKind("a link"),
            _ => Refusal::Io(e),
        })?;
    regular_file(&file.metadata()?)?;
    read_capped(file)
}

/// At most one byte more than the cap, so a file that grew since its size was checked is still
/// refused instead of read to its end.
fn read_capped(file: File) -> Result<Vec<u8>, Refusal> {
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Whether the directory entry at `path` is a folder to descend into: a folder, or a link to one
/// inside the catalog. A link out of the catalog is refused; anything else is not a folder.
pub fn is_folder(root: &CatalogRoot, path: &Path) -> Result<bool, Refusal> {
    match resolve(root, path) {
        Ok((_, meta)) => Ok(meta.is_dir()),
        Err(Refusal::Outside(target)) => Err(Refusal::Outside(target)),
        // A dangling link is a stray file, as before: not a folder, not an error.
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = CatalogRoot::new(dir.path()).unwrap();
        let file = dir.path().join("a.toml");
        fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(read_file(&root, &file).unwrap(), b"x = 1\n");
        let inside = dir.path().join("link.toml");
        std::os::unix::fs::symlink("a.toml", &inside).unwrap();
        assert_eq!(read_file(&root, &inside).unwrap(), b"x = 1\n");
        let zero = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(
            matches!(read_file(&root, &zero), Err(Refusal::Outside(p)) if p == Path::new("/dev/zero"))
        );
        assert!(matches!(
            read_file(&root, dir.path()),
            Err(Refusal::WrongKind("a folder"))
        ));
        let big = dir.path().join("big.toml");
        fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(
            matches!(read_file(&root, &big), Err(Refusal::TooLarge(n)) if n == MAX_FILE_BYTES + 1)
        );
        fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        assert_eq!(read_file(&root, &big).unwrap().len() as u64, MAX_FILE_BYTES);
    }

    #[test]
    fn a_file_growing_past_the_cap_while_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 10]).unwrap();
        let f = File::open(&big).unwrap();
        assert!(matches!(read_capped(f), Err(Refusal::TooLarge(n)) if n == MAX_FILE_BYTES + 1));
    }
}
