//! A directory on disk as a [`TreeSource`]: the same NAR `nix hash path` dumps (Nix 2.8
//! `dumpPath`): `lstat` semantics (a symlink is hashed as a link, never followed), the owner's
//! execute bit, files streamed in fixed-size chunks.

use std::fs::{self, File, Metadata};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::hash_error::HashError;
use super::nar::{Entries, NarHash, NarWriter, NodeKind, TreeSource, hash_tree};

/// Chunk size for streaming file contents (what nix uses too).
const CHUNK: usize = 64 * 1024;

/// A directory (or a single file or symlink) on disk.
pub struct DiskTree {
    root: PathBuf,
    buf: Vec<u8>,
}

pub struct DiskNode {
    path: PathBuf,
    kind: NodeKind,
    size: u64,
}

impl DiskTree {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskTree {
            root: root.into(),
            buf: vec![0; CHUNK],
        }
    }
}

/// `nix hash path PATH`, natively.
pub fn hash_path(path: &Path) -> Result<NarHash, HashError> {
    hash_tree(&mut DiskTree::new(path))
}

fn node_for(path: PathBuf, meta: &Metadata) -> Result<DiskNode, HashError> {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        NodeKind::Directory
    } else if ft.is_symlink() {
        NodeKind::Symlink
    } else if ft.is_file() {
        NodeKind::Regular {
            executable: meta.permissions().mode() & 0o100 != 0,
        }
    } else {
        let kind = if ft.is_fifo() {
            "fifo"
        } else if ft.is_socket() {
            "socket"
        } else if ft.is_block_device() || ft.is_char_device() {
            "device"
        } else {
            "unknown"
        };
        return Err(HashError::UnsupportedFileType { path, kind });
    };
    Ok(DiskNode {
        path,
        kind,
        size: meta.len(),
    })
}

impl TreeSource for DiskTree {
    type Node = DiskNode;

    fn root(&mut self) -> Result<DiskNode, HashError> {
        let meta = fs::symlink_metadata(&self.root).map_err(HashError::io(&self.root))?;
        node_for(self.root.clone(), &meta)
    }

    fn kind(&self, node: &DiskNode) -> NodeKind {
        node.kind
    }

    fn children(&mut self, dir: &DiskNode) -> Result<Entries<DiskNode>, HashError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir.path).map_err(HashError::io(&dir.path))? {
            let entry = entry.map_err(HashError::io(&dir.path))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(HashError::io(&path))?;
            let name = entry.file_name().as_bytes().to_vec();
            out.push((name, node_for(path, &meta)?));
        }
        Ok(out)
    }

    fn symlink_target(&mut self, link: &DiskNode) -> Result<Vec<u8>, HashError> {
        let target = fs::read_link(&link.path).map_err(HashError::io(&link.path))?;
        Ok(target.as_os_str().as_bytes().to_vec())
    }

    fn write_regular<W: Write>(
        &mut self,
        file: &DiskNode,
        executable: bool,
        nar: &mut NarWriter<W>,
    ) -> Result<(), HashError> {
        let mut f = File::open(&file.path).map_err(HashError::io(&file.path))?;
        nar.begin_regular(executable, file.size)
            .map_err(HashError::Write)?;
        let mut left = file.size;
        while left > 0 {
            let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let n = f
                .read(&mut self.buf[..want])
                .map_err(HashError::io(&file.path))?;
            if n == 0 {
                return Err(HashError::FileChanged {
                    path: file.path.clone(),
                    expected: file.size,
                });
            }
            nar.contents(&self.buf[..n]).map_err(HashError::Write)?;
            left -= n as u64;
        }
        nar.end_regular(file.size).map_err(HashError::Write)
    }
}
