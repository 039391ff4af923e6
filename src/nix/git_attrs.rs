//! `.gitattributes` as `git archive` and `git checkout` read them from the tree itself (not from
//! a work tree or `$GIT_DIR/info/attributes`, which a fetcher's fresh clone does not have).
//!
//! Semantics followed (git 2.47, `attr.c`): one file per directory, patterns relative to it;
//! a pattern without `/` matches the basename at any depth below; a trailing `/` matches only
//! directories; `!pattern` lines and invalid attribute names make git ignore the whole line;
//! `[attr]name ...` macros only in the top-level file, plus the built-in `binary`. Precedence:
//! the deepest file first, the last matching line first, the first value decided wins, and a
//! macro set to true fills in the attributes it names that are still undecided.

use std::rc::Rc;

use super::wildmatch::wildmatch;

/// Git ignores longer lines (`ATTR_MAX_LINE`).
const MAX_LINE: usize = 2048;
/// Git ignores larger attribute files (`ATTR_MAX_FILE_SIZE`).
pub const MAX_FILE_SIZE: usize = 100 * 1024 * 1024;

/// The value an attribute has for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// `name`
    Set,
    /// `-name`
    Unset,
    /// `name=value`
    Value(String),
    /// `!name`: explicitly unspecified (and decided: lower-precedence lines cannot set it).
    Unspecified,
}

#[derive(Debug, Clone)]
struct Pattern {
    text: Vec<u8>,
    /// No `/` in the pattern: match the basename only.
    basename_only: bool,
    /// Trailing `/`: match directories only.
    dir_only: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    assigns: Vec<(String, State)>,
}

type Macro = (String, Vec<(String, State)>);

/// One parsed `.gitattributes` file and the directory it applies to.
#[derive(Debug, Clone)]
pub struct AttrFile {
    /// The directory, relative to the repository root, without a trailing slash ("" for root).
    base: Vec<u8>,
    rules: Vec<Rule>,
    macros: Vec<Macro>,
}

impl AttrFile {
    /// Parses `text`, the `.gitattributes` of directory `base` (`top_level` allows macros).
    pub fn parse(base: &[u8], text: &[u8], top_level: bool) -> AttrFile {
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        let mut file = AttrFile {
            base: base.to_vec(),
            rules: Vec::new(),
            macros: Vec::new(),
        };
        for line in text.split(|&b| b == b'\n') {
            if line.len() >= MAX_LINE {
                continue;
            }
            match parse_line(line) {
                Some(Line::Rule(rule)) => file.rules.push(rule),
                Some(Line::Macro(name, assigns)) if top_level => file.macros.push((name, assigns)),
                _ => {}
            }
        }
        file
    }

    fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.macros.is_empty()
    }
}

enum Line {
    Rule(Rule),
    Macro(String, Vec<(String, State)>),
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn parse_line(line: &[u8]) -> Option<Line> {
    let start = line.iter().position(|&b| !is_blank(b))?;
    let line = &line[start..];
    if line[0] == b'#' {
        return None;
    }
    let (pattern, rest) = if line[0] == b'"' {
        unquote_c(line)?
    } else {
        let end = line.iter().position(|&b| is_blank(b)).unwrap_or(line.len());
        (line[..end].to_vec(), &line[end..])
    };
    let mut assigns = Vec::new();
    for token in rest.split(|&b| is_blank(b)).filter(|t| !t.is_empty()) {
        assigns.push(parse_assign(token)?);
    }
    if let Some(name) = pattern.strip_prefix(b"[attr]") {
        let name = std::str::from_utf8(name).ok().filter(|n| valid_name(n))?;
        return Some(Line::Macro(name.to_string(), assigns));
    }
    if pattern.first() == Some(&b'!') {
        // Negative patterns are ignored in git attributes (with a warning).
        return None;
    }
    let mut text = pattern;
    let dir_only = text.last() == Some(&b'/');
    if dir_only {
        text.pop();
    }
    let basename_only = !text.contains(&b'/');
    if !basename_only && text.first() == Some(&b'/') {
        text.remove(0);
    }
    Some(Line::Rule(Rule {
        pattern: Pattern {
            text,
            basename_only,
            dir_only,
        },
        assigns,
    }))
}

fn parse_assign(token: &[u8]) -> Option<(String, State)> {
    let token = std::str::from_utf8(token).ok()?;
    let (name, state) = if let Some(n) = token.strip_prefix('-') {
        (n, State::Unset)
    } else if let Some(n) = token.strip_prefix('!') {
        (n, State::Unspecified)
    } else if let Some((n, v)) = token.split_once('=') {
        (n, State::Value(v.to_string()))
    } else {
        (token, State::Set)
    };
    valid_name(name).then(|| (name.to_string(), state))
}

/// Git's attribute names: `[-._0-9A-Za-z]+`, not starting with `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// A C-style quoted pattern (`"a b\tc"`): the unquoted bytes and the rest of the line.
fn unquote_c(line: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let c = *line.get(i)?;
        i += 1;
        match c {
            b'"' => return Some((out, &line[i..])),
            b'\\' => {
                let e = *line.get(i)?;
                i += 1;
                let byte = match e {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 0x0b,
                    b'\\' | b'"' => e,
                    b'0'..=b'3' => {
                        let digits = line.get(i..i + 2)?;
                        if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                            return None;
                        }
                        i += 2;
                        ((e - b'0') << 6) | ((digits[0] - b'0') << 3) | (digits[1] - b'0')
                    }
                    _ => return None,
                };
                out.push(byte);
            }
            _ => out.push(c),
        }
    }
}

impl Pattern {
    /// `path` is relative to the repository root; `is_dir` for trees and submodules.
    fn matches(&self, base: &[u8], path: &[u8], is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        // Git only consults the files of a path's ancestor directories; checking the base here
        // too keeps a stack built for another directory from matching.
        let rel = if base.is_empty() {
            path
        } else {
            match path.strip_prefix(base).and_then(|r| r.strip_prefix(b"/")) {
                Some(rel) => rel,
                None => return false,
            }
        };
        if self.basename_only {
            let name = rel.rsplit(|&b| b == b'/').next().unwrap_or(rel);
            return wildmatch(&self.text, name, false);
        }
        wildmatch(&self.text, rel, true)
    }
}

/// The `.gitattributes` files that apply inside one directory: its own and its ancestors'.
/// Cheap to extend per directory (a shared tail), like git's attribute stack.
#[derive(Debug, Clone, Default)]
pub struct AttrStack {
    files: Vec<Rc<AttrFile>>,
}

impl AttrStack {
    /// The stack for a subdirectory whose own `.gitattributes` is `file` (if any).
    #[must_use]
    pub fn push(&self, file: Option<AttrFile>) -> AttrStack {
        let mut files = self.files.clone();
        if let Some(f) = file.filter(|f| !f.is_empty()) {
            files.push(Rc::new(f));
        }
        AttrStack { files }
    }

    /// Whether no attribute can apply (no file, or only empty ones): lets callers skip lookups.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The attributes of `path` (relative to the repository root, no trailing slash).
    pub fn lookup(&self, path: &[u8], is_dir: bool) -> Attrs {
        let mut attrs = Attrs::default();
        if self.files.is_empty() {
            return attrs;
        }
        let macros = self.macros();
        for file in self.files.iter().rev() {
            for rule in file.rules.iter().rev() {
                if rule.pattern.matches(&file.base, path, is_dir) {
                    for (name, state) in rule.assigns.iter().rev() {
                        attrs.fill(name, state, &macros, 0);
                    }
                }
            }
        }
        attrs
    }

    /// Macros by name: the last definition in the top-level file wins, then the built-ins.
    fn macros(&self) -> Vec<&Macro> {
        let mut out: Vec<&Macro> = Vec::new();
        let top = self.files.first().filter(|f| f.base.is_empty());
        for m in top.into_iter().flat_map(|f| f.macros.iter().rev()) {
            if !out.iter().any(|o| o.0 == m.0) {
                out.push(m);
            }
        }
        if !out.iter().any(|o| o.0 == "binary") {
            out.push(&BINARY);
        }
        out
    }
}

static BINARY: std::sync::LazyLock<Macro> = std::sync::LazyLock::new(|| {
    (
        "binary".to_string(),
        ["diff", "merge", "text"]
            .map(|n| (n.to_string(), State::Unset))
            .to_vec(),
    )
});

/// Macro expansion depth limit: git has none, but a macro naming itself must not loop.
const MAX_MACRO_DEPTH: usize = 32;

/// The decided attributes of one path.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    decided: Vec<(String, State)>,
}

impl Attrs {
    fn fill(&mut self, name: &str, state: &State, macros: &[&Macro], depth: usize) {
        if self.get(name).is_some() || depth > MAX_MACRO_DEPTH {
            return;
        }
        self.decided.push((name.to_string(), state.clone()));
        if *state == State::Set
            && let Some((_, assigns)) = macros.iter().find(|m| m.0 == name)
        {
            for (n, s) in assigns.iter().rev() {
                self.fill(n, s, macros, depth + 1);
            }
        }
    }

    /// The state of `name`; `None` when no line decided it (git's "unspecified" too).
    pub fn get(&self, name: &str) -> Option<&State> {
        self.decided.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.get(name) == Some(&State::Set)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(State::Value(v)) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(files: &[(&str, &str)]) -> AttrStack {
        files.iter().fold(AttrStack::default(), |s, (base, text)| {
            s.push(Some(AttrFile::parse(
                base.as_bytes(),
                text.as_bytes(),
                base.is_empty(),
            )))
        })
    }

    #[test]
    fn deeper_files_and_later_lines_win() {
        let s = stack(&[
            ("", "*.txt export-ignore\n*.txt -export-ignore text\n"),
            ("docs", "*.txt export-ignore\n"),
        ]);
        assert_eq!(
            s.lookup(b"a.txt", false).get("export-ignore"),
            Some(&State::Unset)
        );
        assert!(s.lookup(b"docs/a.txt", false).is_set("export-ignore"));
        assert!(s.lookup(b"docs/a.txt", false).is_set("text"));
    }

    #[test]
    fn paths_patterns_are_relative_and_dir_patterns_need_dirs() {
        let s = stack(&[
            ("", "/top export-ignore\nsub/ export-ignore\n"),
            ("d", "x/*.c ident\n"),
        ]);
        assert!(s.lookup(b"top", false).is_set("export-ignore"));
        assert!(!s.lookup(b"d/top", false).is_set("export-ignore"));
        assert!(s.lookup(b"a/sub", true).is_set("export-ignore"));
        assert!(!s.lookup(b"a/sub", false).is_set("export-ignore"));
        assert!(s.lookup(b"d/x/m.c", false).is_set("ident"));
        assert!(!s.lookup(b"x/m.c", false).is_set("ident"));
    }

    #[test]
    fn macros_expand_only_when_set_and_only_from_the_top() {
        let s = stack(&[
            (
                "",
                "[attr]noexp export-ignore export-subst\n*.a noexp\n*.b -noexp\n",
            ),
            ("d", "[attr]local export-ignore\n*.c local\n"),
        ]);
        assert!(s.lookup(b"x.a", false).is_set("export-subst"));
        assert!(!s.lookup(b"x.b", false).is_set("export-ignore"));
        assert!(!s.lookup(b"d/x.c", false).is_set("export-ignore"));
        let bin = stack(&[("", "*.png binary\n")]);
        assert_eq!(bin.lookup(b"i.png", false).get("text"), Some(&State::Unset));
    }

    #[test]
    fn invalid_lines_are_ignored_whole() {
        let s = stack(&[(
            "",
            "!neg export-ignore\n*.x export-ignore -bad@name\n\"q u\" export-ignore\n# c\n",
        )]);
        assert!(!s.lookup(b"neg", false).is_set("export-ignore"));
        assert!(!s.lookup(b"a.x", false).is_set("export-ignore"));
        assert!(s.lookup(b"q u", false).is_set("export-ignore"));
    }
}
