//! Nix ARchive (NAR) serialisation and its SHA-256, streamed: nothing is written to disk and no
//! file is held in memory longer than its source needs.
//!
//! A NAR is what `nix hash path` and every fixed-output fetcher with `outputHashMode =
//! "recursive"` hash. Its grammar (Nix 2.8, `src/libutil/archive.cc`):
//!
//! ```text
//! nar       = str("nix-archive-1") node
//! node      = str("(") str("type") body str(")")
//! body      = str("regular") [str("executable") str("")] str("contents") str(bytes)
//!           | str("symlink") str("target") str(target)
//!           | str("directory") { str("entry") str("(") str("name") str(name) str("node") node str(")") }
//! str(s)    = u64-le(len(s)) s zero-padding-to-8
//! ```
//!
//! Directory entries are sorted by name, byte-wise; only the owner's execute bit of a regular file
//! is recorded (no other permission, no owner, no time).
//!
//! A [`TreeSource`] (a directory on disk, a git tree read from objects) lists nodes; [`dump`]
//! writes them in NAR order through a [`NarWriter`].

use std::fmt;
use std::io::{self, BufWriter, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::hash_error::HashError;

/// A SHA-256 digest as nix prints it: SRI (`sha256-<base64>`), nix32 or hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NarHash(pub [u8; 32]);

/// Nix's base-32 alphabet (no e, o, u, t).
const NIX32_CHARS: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

impl NarHash {
    /// `sha256-<base64>`, the form nixpkgs writes in `hash = ...`.
    pub fn sri(&self) -> String {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    /// Nix's base-32 form (52 characters), as in `sha256 = "..."` and store paths.
    pub fn nix32(&self) -> String {
        nix32_encode(&self.0)
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse `sha256-<base64>`, `sha256:<nix32|hex>`, or a bare 52-char nix32 / 64-char hex.
    pub fn parse(text: &str) -> Option<NarHash> {
        let text = text.trim();
        if let Some(b64) = text.strip_prefix("sha256-") {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            return bytes.try_into().ok().map(NarHash);
        }
        let bare = text.strip_prefix("sha256:").unwrap_or(text);
        match bare.len() {
            52 => nix32_decode(bare).map(NarHash),
            64 => {
                let mut out = [0u8; 32];
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(bare.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                Some(NarHash(out))
            }
            _ => None,
        }
    }
}

impl fmt::Display for NarHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sri())
    }
}

impl fmt::Debug for NarHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NarHash({})", self.sri())
    }
}

/// Nix writes the digest's bits from the last 5-bit group to the first (`printHash32`).
fn nix32_encode(hash: &[u8]) -> String {
    let len = (hash.len() * 8).div_ceil(5);
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        let low = u16::from(hash[i]) >> j;
        let high = hash.get(i + 1).map_or(0, |&b| u16::from(b) << (8 - j));
        out.push(char::from(NIX32_CHARS[usize::from((low | high) & 0x1f)]));
    }
    out
}

fn nix32_decode(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (n, c) in text.bytes().rev().enumerate() {
        let digit = NIX32_CHARS.iter().position(|&x| x == c)?;
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        // Bits shifted past the last byte must be zero, or the text was not a 32-byte digest.
        let wide = (digit as u16) << j;
        out[i] |= (wide & 0xff) as u8;
        let carry = (wide >> 8) as u8;
        match out.get_mut(i + 1) {
            Some(next) => *next |= carry,
            None if carry != 0 => return None,
            None => {}
        }
    }
    Some(out)
}

/// A `Write` that feeds SHA-256 and counts bytes.
#[derive(Default)]
pub struct HashSink {
    hasher: Sha256,
    len: u64,
}

impl HashSink {
    pub fn finish(self) -> (NarHash, u64) {
        (NarHash(self.hasher.finalize().into()), self.len)
    }
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a NAR token by token, refusing sequences that would not be a valid NAR (unsorted or
/// duplicate entry names, contents longer or shorter than announced, unclosed directories).
pub struct NarWriter<W: Write> {
    out: W,
    /// One frame per open directory: the last entry name written in it.
    open_dirs: Vec<Option<Vec<u8>>>,
    /// Bytes of the current regular file still to come, if one is open.
    remaining: Option<u64>,
    written: u64,
}

const ZEROS: [u8; 8] = [0; 8];

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

impl<W: Write> NarWriter<W> {
    /// Starts a NAR on `out` (writes the `nix-archive-1` magic).
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = NarWriter {
            out,
            open_dirs: Vec::new(),
            remaining: None,
            written: 0,
        };
        w.str(b"nix-archive-1")?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let pad = (8 - (len % 8) as usize) % 8;
        self.raw(&ZEROS[..pad])
    }

    fn str(&mut self, s: &[u8]) -> io::Result<()> {
        self.raw(&(s.len() as u64).to_le_bytes())?;
        self.raw(s)?;
        self.pad(s.len() as u64)
    }

    /// Opens a regular file of `size` bytes; follow with [`Self::contents`] and
    /// [`Self::end_regular`].
    pub fn begin_regular(&mut self, executable: bool, size: u64) -> io::Result<()> {
        self.str(b"(")?;
        self.str(b"type")?;
        self.str(b"regular")?;
        if executable {
            self.str(b"executable")?;
            self.str(b"")?;
        }
        self.str(b"contents")?;
        self.raw(&size.to_le_bytes())?;
        self.remaining = Some(size);
        Ok(())
    }

    pub fn contents(&mut self, chunk: &[u8]) -> io::Result<()> {
        let left = self.remaining.unwrap_or(0);
        if chunk.len() as u64 > left {
            return Err(invalid("file contents longer than announced".into()));
        }
        self.remaining = Some(left - chunk.len() as u64);
        self.raw(chunk)
    }

    pub fn end_regular(&mut self, size: u64) -> io::Result<()> {
        match self.remaining.take() {
            Some(0) => {}
            _ => return Err(invalid("file contents shorter than announced".into())),
        }
        self.pad(size)?;
        self.str(b")")
    }

    /// A whole regular file from memory.
    pub fn regular(&mut self, executable: bool, data: &[u8]) -> io::Result<()> {
        self.begin_regular(executable, data.len() as u64)?;
        self.contents(data)?;
        self.end_regular(data.len() as u64)
    }

    pub fn symlink(&mut self, target: &[u8]) -> io::Result<()> {
        self.str(b"(")?;
        self.str(b"type")?;
        self.str(b"symlink")?;
        self.str(b"target")?;
        self.str(target)?;
        self.str(b")")
    }

    pub fn begin_directory(&mut self) -> io::Result<()> {
        self.str(b"(")?;
        self.str(b"type")?;
        self.str(b"directory")?;
        self.open_dirs.push(None);
        Ok(())
    }

    /// Opens entry `name` of the current directory; names must come in strictly increasing
    /// byte order. Write the entry's node next, then [`Self::end_entry`].
    pub fn begin_entry(&mut self, name: &[u8]) -> io::Result<()> {
        check_name(name)?;
        let Some(last) = self.open_dirs.last_mut() else {
            return Err(invalid("directory entry outside a directory".into()));
        };
        if last.as_deref().is_some_and(|prev| prev >= name) {
            return Err(invalid(format!(
                "directory entries out of order or duplicated at {:?}",
                String::from_utf8_lossy(name)
            )));
        }
        *last = Some(name.to_vec());
        self.str(b"entry")?;
        self.str(b"(")?;
        self.str(b"name")?;
        self.str(name)?;
        self.str(b"node")
    }

    pub fn end_entry(&mut self) -> io::Result<()> {
        self.str(b")")
    }

    pub fn end_directory(&mut self) -> io::Result<()> {
        if self.open_dirs.pop().is_none() {
            return Err(invalid("closing a directory that is not open".into()));
        }
        self.str(b")")
    }

    /// Ends the NAR and returns the sink and the NAR's length in bytes.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        if !self.open_dirs.is_empty() || self.remaining.is_some() {
            return Err(invalid("NAR ended inside an open node".into()));
        }
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// The names nix itself refuses when it reads a NAR back.
fn check_name(name: &[u8]) -> io::Result<()> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return Err(invalid(format!(
            "invalid NAR entry name {:?}",
            String::from_utf8_lossy(name)
        )));
    }
    Ok(())
}

/// What a node of a tree is, as far as a NAR cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Directory,
    Regular { executable: bool },
    Symlink,
}

/// A directory's entries: name (bytes) and node.
pub type Entries<N> = Vec<(Vec<u8>, N)>;

/// A tree that can be serialised as a NAR: a directory on disk, a git tree read from objects, or
/// a composite staged from several of them.
pub trait TreeSource {
    type Node;

    fn root(&mut self) -> Result<Self::Node, HashError>;

    fn kind(&self, node: &Self::Node) -> NodeKind;

    /// The entries of a directory, in any order ([`dump`] sorts them).
    fn children(&mut self, dir: &Self::Node) -> Result<Entries<Self::Node>, HashError>;

    fn symlink_target(&mut self, link: &Self::Node) -> Result<Vec<u8>, HashError>;

    /// Writes a regular file: `nar.begin_regular(executable, size)`, the contents, then
    /// `nar.end_regular(size)`.
    fn write_regular<W: Write>(
        &mut self,
        file: &Self::Node,
        executable: bool,
        nar: &mut NarWriter<W>,
    ) -> Result<(), HashError>;
}

/// Writes `source`'s root node at the writer's current position (the whole NAR after
/// [`NarWriter::new`], or the node of an entry opened with [`NarWriter::begin_entry`]).
///
/// The walk keeps its own stack, so a deep tree cannot overflow a small thread stack.
pub fn dump<S: TreeSource, W: Write>(
    source: &mut S,
    nar: &mut NarWriter<W>,
) -> Result<(), HashError> {
    let root = source.root()?;
    let mut stack: Vec<std::vec::IntoIter<(Vec<u8>, S::Node)>> = Vec::new();
    if let Some(children) = write_node(source, &root, nar)? {
        stack.push(children.into_iter());
    }
    while let Some(top) = stack.last_mut() {
        if let Some((name, child)) = top.next() {
            nar.begin_entry(&name).map_err(HashError::Write)?;
            match write_node(source, &child, nar)? {
                Some(children) => stack.push(children.into_iter()),
                None => nar.end_entry().map_err(HashError::Write)?,
            }
        } else {
            stack.pop();
            nar.end_directory().map_err(HashError::Write)?;
            if !stack.is_empty() {
                nar.end_entry().map_err(HashError::Write)?;
            }
        }
    }
    Ok(())
}

/// Writes a leaf whole, or opens a directory and returns its children, sorted.
fn write_node<S: TreeSource, W: Write>(
    source: &mut S,
    node: &S::Node,
    nar: &mut NarWriter<W>,
) -> Result<Option<Entries<S::Node>>, HashError> {
    match source.kind(node) {
        NodeKind::Regular { executable } => {
            source.write_regular(node, executable, nar)?;
            Ok(None)
        }
        NodeKind::Symlink => {
            let target = source.symlink_target(node)?;
            nar.symlink(&target).map_err(HashError::Write)?;
            Ok(None)
        }
        NodeKind::Directory => {
            let mut children = source.children(node)?;
            children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            nar.begin_directory().map_err(HashError::Write)?;
            Ok(Some(children))
        }
    }
}

/// The NAR hash of `source`, as `nix hash path` prints it for the same tree on disk.
pub fn hash_tree<S: TreeSource>(source: &mut S) -> Result<NarHash, HashError> {
    hash_with(|nar| dump(source, nar))
}

/// Runs `write` on a NAR writer over a hasher and returns the digest: for composite NARs built
/// token by token (the cargo vendor staging directory).
pub fn hash_with<E: From<HashError>>(
    write: impl FnOnce(&mut NarWriter<BufWriter<HashSink>>) -> Result<(), E>,
) -> Result<NarHash, E> {
    // Small tokens (lengths, padding) are batched before they reach SHA-256; contents chunks
    // larger than the buffer go straight through.
    let sink = BufWriter::with_capacity(64 * 1024, HashSink::default());
    let mut nar = NarWriter::new(sink).map_err(HashError::Write)?;
    write(&mut nar)?;
    let (buffered, _) = nar.finish().map_err(HashError::Write)?;
    let sink = buffered
        .into_inner()
        .map_err(|e| HashError::Write(e.into_error()))?;
    Ok(sink.finish().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix32_round_trips_and_matches_nix() {
        // `nix hash to-base32 sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=` (the empty string).
        let empty = NarHash::parse("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").unwrap();
        assert_eq!(
            empty.nix32(),
            "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
        );
        assert_eq!(NarHash::parse(&empty.nix32()), Some(empty));
        assert_eq!(
            NarHash::parse(&format!("sha256:{}", empty.hex())),
            Some(empty)
        );
        assert_eq!(NarHash::parse("sha256-AAAA"), None);
        assert_eq!(NarHash::parse(&"z".repeat(52)), None, "overflowing digest");
    }

    #[test]
    fn writer_refuses_unsorted_entries_and_bad_lengths() {
        let mut nar = NarWriter::new(Vec::new()).unwrap();
        nar.begin_directory().unwrap();
        nar.begin_entry(b"b").unwrap();
        nar.regular(false, b"x").unwrap();
        nar.end_entry().unwrap();
        assert!(nar.begin_entry(b"a").is_err());
        assert!(nar.begin_entry(b"b").is_err());
        assert!(nar.begin_entry(b"c/d").is_err());

        let mut nar = NarWriter::new(Vec::new()).unwrap();
        nar.begin_regular(false, 3).unwrap();
        nar.contents(b"ab").unwrap();
        assert!(nar.end_regular(3).is_err());
    }

    #[test]
    fn a_single_file_nar_has_the_documented_layout() {
        let mut nar = NarWriter::new(Vec::new()).unwrap();
        nar.regular(true, b"hi").unwrap();
        let (bytes, len) = nar.finish().unwrap();
        assert_eq!(len as usize, bytes.len());
        let mut expect = Vec::new();
        for token in [
            &b"nix-archive-1"[..],
            b"(",
            b"type",
            b"regular",
            b"executable",
            b"",
            b"contents",
            b"hi",
            b")",
        ] {
            expect.extend_from_slice(&(token.len() as u64).to_le_bytes());
            expect.extend_from_slice(token);
            expect.resize(expect.len().div_ceil(8) * 8, 0);
        }
        assert_eq!(bytes, expect);
    }
}
