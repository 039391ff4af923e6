//! Strings stored once each, named by a 4-byte [`Sym`]: a tree of thousands of derivations
//! repeats the same phase and host names, and a record holding symbols has a fixed size.
//! The table is capped ([`MAX_SYMBOLS`], [`MAX_SYMBOL_BYTES`]): a log inventing a new phase
//! name per line cannot grow it past the cap (such strings are then not kept).

use std::collections::HashMap;

/// Distinct strings kept: paths and names of [`super::MAX_NODES`] nodes, plus phases and hosts.
pub const MAX_SYMBOLS: usize = 3 * super::MAX_NODES;
/// Longest string kept (store paths are at most 211 bytes after `/nix/store/`).
pub const MAX_SYMBOL_BYTES: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

#[derive(Debug, Default)]
pub struct Interner {
    strings: Vec<Box<str>>,
    index: HashMap<Box<str>, Sym>,
    bytes: usize,
}

impl Interner {
    /// The symbol of `s`, added if new; None when `s` is too long or the table is full.
    pub fn intern(&mut self, s: &str) -> Option<Sym> {
        if let Some(&sym) = self.index.get(s) {
            return Some(sym);
        }
        if s.len() > MAX_SYMBOL_BYTES || self.strings.len() >= MAX_SYMBOLS {
            return None;
        }
        let sym = Sym(self.strings.len() as u32);
        self.strings.push(s.into());
        self.index.insert(s.into(), sym);
        self.bytes += 2 * s.len();
        Some(sym)
    }

    /// The symbol of `s` if it was interned, without adding it.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.index.get(s).copied()
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Bytes held: the strings (twice: table and index) and the tables' slots.
    pub fn bytes(&self) -> usize {
        self.bytes
            + self.strings.capacity() * std::mem::size_of::<Box<str>>()
            + self.index.capacity() * (std::mem::size_of::<(Box<str>, Sym)>() + 8)
    }
}
