//! The derivations a build will realise, read from the `.drv` files before nix says so.
//!
//! Nix 2.8 only counts a build's planned derivations (Builds `expected`) and names each when it
//! starts it, so a tree fed by nix alone shows an unnamed count. Like nix-output-monitor, this
//! reads the store's `.drv` files instead: from the job's derivation down through its input
//! derivations, every derivation with an output the build needs that is not in the store yet.
//! A derivation whose needed outputs are all present is not entered (nix will not need its
//! inputs either), so a mostly built closure costs a few reads.
//!
//! The `.drv` file is an ATerm, `Derive([outputs],[inputDrvs],[inputSrcs],system,builder,[args],
//! [env])` (newer Nix writes `DrvWithVersion("xp-dyn-drv",...)` for dynamic derivations, whose
//! input entries may be `([outputs],[(output,entry),...])`). Only the outputs and the input
//! derivations are read; they come first, so a file is read up to where they end and never past
//! [`Limits::head_bytes`] (environments can be large). Strings escape `"`, `\`, and `\n`,
//! `\r`, `\t`.
//!
//! Bounded and read-only: at most [`Limits::max_drvs`] files are read, every path followed must
//! be a `.drv` file in the root's own store directory, and a file that cannot be read or parsed
//! is skipped and counted, never fatal. Nothing is run. Presence is checked on the file system
//! (nix deletes a path that is not valid before it builds it): an output with no path (a
//! floating content-addressed or deferred one) counts as missing.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::Path;

/// How much one walk may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `.drv` files read at most; the walk stops there (a nixpkgs closure is a few thousand).
    pub max_drvs: usize,
    /// Bytes of one file read at most: its outputs and input derivations must end within them.
    pub head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_drvs: 20_000,
            head_bytes: 1 << 20,
        }
    }
}

/// The part of a `.drv` the walk needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrvHead {
    /// Output name and store path (empty for a floating content-addressed or deferred output).
    pub outputs: Vec<(String, String)>,
    /// Input derivation and the names of its outputs this derivation uses.
    pub inputs: Vec<(String, Vec<String>)>,
}

/// Where a `.drv` stops making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the file.
    pub offset: usize,
    pub expected: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte {}: expected {}", self.offset, self.expected)
    }
}

impl std::error::Error for ParseError {}

/// A derivation the build will realise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDrv {
    pub drv: String,
    /// Its outputs' store paths (those with a path), to tell a substitution of it from a build.
    pub outputs: Vec<String>,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// The root first (when it is missing), then breadth first in the order the files list them.
    pub missing: Vec<MissingDrv>,
    /// `.drv` files read.
    pub read: usize,
    /// Files skipped: unreadable, malformed, over the byte cap, or naming paths outside the
    /// store directory.
    pub skipped: usize,
    /// The first skipped file and why (`PATH: byte 12: expected ','`), for the log.
    pub first_error: Option<String>,
    /// The walk stopped at [`Limits::max_drvs`]: derivations further down are not listed.
    pub truncated: bool,
}

/// Parses the outputs and input derivations at the start of a `.drv` file's bytes.
pub fn parse_head(text: &[u8]) -> Result<DrvHead, ParseError> {
    let mut c = Cursor { text, pos: 0 };
    let dynamic = if c.eat(b"Derive(") {
        false
    } else if c.eat(b"DrvWithVersion(") {
        if c.string()? != "xp-dyn-drv" {
            return Err(c.error("the format version \"xp-dyn-drv\""));
        }
        c.expect(b",", "','")?;
        true
    } else {
        return Err(c.error("'Derive(' or 'DrvWithVersion('"));
    };
    let mut head = DrvHead::default();
    c.list(|c| {
        c.expect(b"(", "'(' starting an output")?;
        let name = c.string()?;
        c.expect(b",", "','")?;
        let path = c.string()?;
        c.expect(b",", "','")?;
        c.string()?;
        c.expect(b",", "','")?;
        c.string()?;
        c.expect(b")", "')' ending an output")?;
        head.outputs.push((name, path));
        Ok(())
    })?;
    c.expect(b",", "',' before the input derivations")?;
    c.list(|c| {
        c.expect(b"(", "'(' starting an input derivation")?;
        let drv = c.string()?;
        c.expect(b",", "','")?;
        let mut wanted = Vec::new();
        c.input_outputs(dynamic, &mut wanted)?;
        c.expect(b")", "')' ending an input derivation")?;
        head.inputs.push((drv, wanted));
        Ok(())
    })?;
    c.expect(b",", "',' before the input sources")?;
    Ok(head)
}

struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn error(&self, expected: &'static str) -> ParseError {
        ParseError {
            offset: self.pos,
            expected,
        }
    }

    fn eat(&mut self, s: &[u8]) -> bool {
        let hit = self.text[self.pos..].starts_with(s);
        if hit {
            self.pos += s.len();
        }
        hit
    }

    fn expect(&mut self, s: &[u8], what: &'static str) -> Result<(), ParseError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// `[item,item,...]`.
    fn list(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.expect(b"[", "'['")?;
        if self.eat(b"]") {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(b"]") {
                return Ok(());
            }
            self.expect(b",", "',' or ']'")?;
        }
    }

    /// A quoted string with its escapes undone; store paths and output names are UTF-8.
    fn string(&mut self) -> Result<String, ParseError> {
        self.expect(b"\"", "'\"' starting a string")?;
        let mut out = Vec::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.text.len();
                return Err(self.error("'\"' ending a string"));
            };
            out.extend_from_slice(&rest[..k]);
            self.pos += k + 1;
            if rest[k] == b'"' {
                break;
            }
            let Some(&e) = self.text.get(self.pos) else {
                return Err(self.error("an escaped character"));
            };
            self.pos += 1;
            out.push(match e {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                other => other,
            });
        }
        String::from_utf8(out).map_err(|_| self.error("a UTF-8 string"))
    }

    /// The outputs of an input derivation: `["out",...]`, or for a dynamic derivation also
    /// `(["out",...],[("out",ENTRY),...])`, whose inner names are outputs of a derivation that
    /// this one's output *is*: building it needs that output, so its name counts.
    fn input_outputs(&mut self, dynamic: bool, wanted: &mut Vec<String>) -> Result<(), ParseError> {
        if dynamic && self.eat(b"(") {
            self.list(|c| c.string().map(|s| wanted.push(s)))?;
            self.expect(b",", "','")?;
            self.list(|c| {
                c.expect(b"(", "'('")?;
                wanted.push(c.string()?);
                c.expect(b",", "','")?;
                c.input_outputs(true, &mut Vec::new())?;
                c.expect(b")", "')'")
            })?;
            return self.expect(b")", "')'");
        }
        self.list(|c| c.string().map(|s| wanted.push(s)))
    }
}

/// One derivation met by the walk.
struct Entry {
    head: Option<DrvHead>,
    /// Per output: whether its path is in the store (None: not looked yet).
    present: Vec<Option<bool>>,
    /// Listed as missing (and its inputs queued): nothing more to learn from it.
    planned: bool,
}

/// The derivations under `root` (a `.drv` path) with an output the build needs missing from
/// the store: all of the root's outputs, and of each input derivation the outputs the
/// derivations that need it name.
pub fn missing_closure(root: &str, limits: Limits) -> Closure {
    let mut out = Closure::default();
    let Some(store_dir) = Path::new(root).parent() else {
        out.skipped = 1;
        out.first_error = Some(format!("{root}: not a store path"));
        return out;
    };
    let mut entries: HashMap<String, Entry> = HashMap::new();
    // (drv, the outputs wanted; None: all of them)
    let mut queue: VecDeque<(String, Option<Vec<String>>)> = VecDeque::new();
    queue.push_back((root.to_string(), None));
    let mut buf = Vec::new();
    while let Some((drv, wanted)) = queue.pop_front() {
        if !entries.contains_key(&drv) {
            if out.read >= limits.max_drvs {
                out.truncated = true;
                continue;
            }
            out.read += 1;
            let head = read_head(Path::new(&drv), store_dir, limits.head_bytes, &mut buf)
                .map_err(|why| {
                    out.skipped += 1;
                    out.first_error
                        .get_or_insert_with(|| format!("{drv}: {why}"));
                })
                .ok();
            let n = head.as_ref().map_or(0, |h| h.outputs.len());
            let entry = Entry {
                head,
                present: vec![None; n],
                planned: false,
            };
            entries.insert(drv.clone(), entry);
        }
        let e = entries.get_mut(&drv).expect("inserted above");
        let Some(head) = e.head.as_mut().filter(|_| !e.planned) else {
            continue;
        };
        let needed = |name: &str| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == name));
        let mut missing = false;
        for (i, (name, path)) in head.outputs.iter().enumerate() {
            if needed(name) {
                let here = *e.present[i].get_or_insert_with(|| {
                    !path.is_empty() && std::fs::symlink_metadata(path).is_ok()
                });
                missing |= !here;
            }
        }
        if !missing {
            continue;
        }
        e.planned = true;
        out.missing.push(MissingDrv {
            drv: drv.clone(),
            outputs: head
                .outputs
                .iter()
                .filter(|(_, p)| !p.is_empty())
                .map(|(_, p)| p.clone())
                .collect(),
        });
        for (input, outs) in std::mem::take(&mut head.inputs) {
            queue.push_back((input, Some(outs)));
        }
    }
    out
}

/// Reads and checks one `.drv`: it and every path it names lie in `store_dir`.
fn read_head(
    path: &Path,
    store_dir: &Path,
    cap: usize,
    buf: &mut Vec<u8>,
) -> Result<DrvHead, String> {
    let in_store = |p: &str| {
        let p = Path::new(p);
        p.parent() == Some(store_dir) && p.file_name().is_some_and(|n| n != "..")
    };
    if !path.to_str().is_some_and(in_store) || path.extension().is_none_or(|x| x != "drv") {
        return Err(format!("not a .drv in {}", store_dir.display()));
    }
    buf.clear();
    std::fs::File::open(path)
        .and_then(|f| f.take(cap as u64).read_to_end(buf))
        .map_err(|e| e.to_string())?;
    let head = parse_head(buf).map_err(|e| {
        if e.offset >= buf.len() && buf.len() >= cap {
            format!("its outputs and inputs do not end within {cap} bytes")
        } else {
            e.to_string()
        }
    })?;
    let outside = head
        .outputs
        .iter()
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
        .chain(head.inputs.iter().map(|(d, _)| d))
        .find(|p| !in_store(p) || p.contains('\0'));
    if let Some(p) = outside {
        return Err(format!("names {p}, outside {}", store_dir.display()));
    }
    if let Some((d, _)) = head.inputs.iter().find(|(d, _)| !d.ends_with(".drv")) {
        return Err(format!("input {d} is not a .drv"));
    }
    Ok(head)
}

/// Whether a nix store setting (`NIX_REMOTE`, `store`) is a store whose paths are files on this
/// machine where their names say (the local store itself, or a daemon serving it), which is
/// when reading `/nix/store` tells what nix will find there.
pub fn store_is_local_files(store: &str) -> bool {
    match store {
        "" | "auto" | "local" | "daemon" => true,
        s => s.strip_prefix("unix://").is_some_and(|p| !p.contains('?')),
    }
}

#[cfg(test)]
mod tests;
