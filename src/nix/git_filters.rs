//! What git does to a blob's bytes on the way to a file (checkout or `git archive`), decided by
//! its attributes, under the configuration a fetcher has (none: `core.autocrlf` false,
//! `core.eol` native = LF on Linux, no filter drivers):
//!
//! - `eol=crlf` (with `text` set or unspecified, or legacy `crlf`) turns lone LFs into CRLF;
//!   with `text=auto` only for a blob git's heuristic calls text that has no CR yet
//!   (`convert.c`: `will_convert_lf_to_crlf`, `gather_stats`, `convert_is_binary`);
//! - `ident` expands `$Id$`, `working-tree-encoding` re-encodes, and in archives
//!   `export-subst` expands `$Format:...$`: atwb refuses these instead of guessing.

use std::borrow::Cow;

use super::git_attrs::{Attrs, State};
use super::hash_error::HashError;

/// The line-ending conversion git applies to a blob on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crlf {
    /// Bytes as stored.
    Keep,
    /// Every lone LF becomes CRLF (`CRLF_TEXT_CRLF`).
    Text,
    /// Only if the blob looks like text and has no CR (`CRLF_AUTO_CRLF`).
    Auto,
}

/// Output filters for one regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    crlf: Crlf,
    ident: bool,
    encoding: Option<String>,
    export_subst: bool,
}

impl Filters {
    pub const NONE: Filters = Filters {
        crlf: Crlf::Keep,
        ident: false,
        encoding: None,
        export_subst: false,
    };

    /// The filters for a file with `attrs`; `archive` adds `export-subst` (only `git archive`
    /// expands it).
    pub fn for_attrs(attrs: &Attrs, archive: bool) -> Filters {
        Filters {
            crlf: crlf_action(attrs),
            ident: attrs.is_set("ident"),
            encoding: attrs
                .value("working-tree-encoding")
                .filter(|e| !is_utf8_name(e))
                .map(str::to_string),
            export_subst: archive && attrs.is_set("export-subst"),
        }
    }

    pub fn is_none(&self) -> bool {
        *self == Filters::NONE
    }

    /// The bytes git would write for `data`, or the reason atwb cannot know them.
    pub fn apply<'a>(&self, path: &str, data: &'a [u8]) -> Result<Cow<'a, [u8]>, HashError> {
        if self.export_subst && contains(data, b"$Format:") {
            return Err(HashError::ExportSubst { path: path.into() });
        }
        if self.ident && (contains(data, b"$Id$") || contains(data, b"$Id:")) {
            return Err(HashError::Ident { path: path.into() });
        }
        if let Some(encoding) = &self.encoding
            && !data.is_empty()
        {
            return Err(HashError::WorkingTreeEncoding {
                path: path.into(),
                encoding: encoding.clone(),
            });
        }
        Ok(match self.crlf {
            Crlf::Keep => Cow::Borrowed(data),
            Crlf::Text | Crlf::Auto => to_crlf(data, self.crlf == Crlf::Auto),
        })
    }
}

/// Git's `convert_attrs` with `core.autocrlf = false` and `core.eol = lf`, reduced to whether
/// the output gets CRLF.
fn crlf_action(attrs: &Attrs) -> Crlf {
    #[derive(PartialEq)]
    enum Action {
        Undefined,
        Binary,
        Text,
        Input,
        Auto,
    }
    let from = |state: Option<&State>| match state {
        Some(State::Set) => Action::Text,
        Some(State::Unset) => Action::Binary,
        Some(State::Value(v)) if v == "input" => Action::Input,
        Some(State::Value(v)) if v == "auto" => Action::Auto,
        _ => Action::Undefined,
    };
    let mut action = from(attrs.get("text"));
    if action == Action::Undefined {
        action = from(attrs.get("crlf"));
    }
    if action == Action::Binary {
        return Crlf::Keep;
    }
    match (attrs.value("eol"), action) {
        (Some("crlf"), Action::Auto) => Crlf::Auto,
        (Some("crlf"), _) => Crlf::Text,
        // `eol=lf`, `text`, `text=auto`, `input`: LF on output, which is what the blob has
        // (git never converts CRLF to LF on the way out).
        _ => Crlf::Keep,
    }
}

fn is_utf8_name(encoding: &str) -> bool {
    let e = encoding.to_ascii_lowercase();
    e == "utf-8" || e == "utf8"
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

#[derive(Default)]
struct Stats {
    lone_lf: usize,
    lone_cr: usize,
    crlf: usize,
    nul: usize,
    printable: usize,
    nonprintable: usize,
}

fn gather_stats(data: &[u8]) -> Stats {
    let mut s = Stats::default();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        i += 1;
        match c {
            b'\r' if data.get(i) == Some(&b'\n') => {
                s.crlf += 1;
                i += 1;
            }
            b'\r' => s.lone_cr += 1,
            b'\n' => s.lone_lf += 1,
            127 => s.nonprintable += 1,
            // BS, HT, ESC and FF count as printable.
            0x08 | b'\t' | 0x1b | 0x0c => s.printable += 1,
            0 => {
                s.nul += 1;
                s.nonprintable += 1;
            }
            1..=31 => s.nonprintable += 1,
            _ => s.printable += 1,
        }
    }
    // A trailing ^Z (DOS end of file) is not counted as non-printable.
    if data.last() == Some(&0x1a) {
        s.nonprintable -= 1;
    }
    s
}

fn to_crlf(data: &[u8], auto: bool) -> Cow<'_, [u8]> {
    let stats = gather_stats(data);
    if stats.lone_lf == 0 {
        return Cow::Borrowed(data);
    }
    if auto {
        let binary =
            stats.lone_cr > 0 || stats.nul > 0 || (stats.printable >> 7) < stats.nonprintable;
        if stats.lone_cr > 0 || stats.crlf > 0 || binary {
            return Cow::Borrowed(data);
        }
    }
    let mut out = Vec::with_capacity(data.len() + stats.lone_lf);
    let mut prev = 0u8;
    for &c in data {
        if c == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(c);
        prev = c;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::git_attrs::{AttrFile, AttrStack};

    fn filters(attrs: &str) -> Filters {
        let s = AttrStack::default().push(Some(AttrFile::parse(b"", attrs.as_bytes(), true)));
        Filters::for_attrs(&s.lookup(b"f", false), true)
    }

    #[test]
    fn eol_crlf_converts_lone_lfs_only() {
        let f = filters("f eol=crlf\n");
        assert_eq!(&*f.apply("f", b"a\nb\r\nc\n").unwrap(), b"a\r\nb\r\nc\r\n");
        assert!(filters("f -text eol=crlf\n").is_none());
        assert!(filters("f text eol=lf\n").is_none());
    }

    #[test]
    fn auto_leaves_binary_and_mixed_files_alone() {
        let f = filters("f text=auto eol=crlf\n");
        assert_eq!(&*f.apply("f", b"a\nb\n").unwrap(), b"a\r\nb\r\n");
        assert_eq!(&*f.apply("f", b"a\nb\r\n").unwrap(), b"a\nb\r\n");
        assert_eq!(&*f.apply("f", b"a\n\0b\n").unwrap(), b"a\n\0b\n");
    }

    #[test]
    fn refusals_name_the_attribute() {
        let err = filters("f export-subst\n")
            .apply("f", b"v $Format:%H$")
            .unwrap_err();
        assert!(err.to_string().contains("export-subst"), "{err}");
        assert!(filters("f export-subst\n").apply("f", b"plain").is_ok());
        assert!(filters("f ident\n").apply("f", b"$Id$").is_err());
        assert!(
            filters("f working-tree-encoding=UTF-16\n")
                .apply("f", b"x")
                .is_err()
        );
        assert!(filters("f working-tree-encoding=utf-8\n").is_none());
    }
}
