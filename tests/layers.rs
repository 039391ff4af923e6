//! The layering of `src/`: `cli` -> `tui` -> `jobs` -> `scaffold` -> `catalog` -> `nix` ->
//! {`search`, `config`, `paths`, `time`}. A module may name its own layer and the layers below it, never one above; and
//! no two files in different folders may name each other in a loop (a loop means neither side
//! can be understood, or moved, without the other).
//!
//! The check reads the source, not the compiler's view: every path that starts with `crate::`,
//! `super::`, `self::` or a child module's name (in `use` trees too) is resolved to the file that
//! defines its module. Comments and string literals are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, lowest layer first; modules on one line share a layer.
const LAYERS: &[&[&str]] = &[
    &["search", "config", "paths", "time"],
    &["nix"],
    &["catalog"],
    &["scaffold"],
    &["jobs"],
    &["tui"],
    &["cli"],
];

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

// ---------------------------------------------------------------------------------------------
// Lexing: identifiers and the punctuation paths are made of, without comments and literals.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A cursor over one file's characters that keeps the line number.
struct Lexer {
    s: Vec<char>,
    i: usize,
    line: usize,
    out: Vec<(Tok, usize)>,
}

impl Lexer {
    fn at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    /// Moves on by `n` characters, counting the newlines passed.
    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if self.at(0) == Some('\n') {
                self.line += 1;
            }
            self.i += 1;
        }
    }

    fn push(&mut self, t: Tok, len: usize) {
        self.out.push((t, self.line));
        self.advance(len);
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.at(0).is_some_and(&keep) {
            self.advance(1);
        }
    }

    fn skip_block_comment(&mut self) {
        let mut depth = 0;
        while self.i < self.s.len() {
            match (self.at(0), self.at(1)) {
                (Some('/'), Some('*')) => {
                    depth += 1;
                    self.advance(2);
                }
                (Some('*'), Some('/')) => {
                    depth -= 1;
                    self.advance(2);
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.advance(1),
            }
        }
    }

    /// A string literal whose opening quote is the current character; `raw_hashes` are the `#`s
    /// of a raw string (no escapes in it).
    fn skip_string(&mut self, raw_hashes: Option<usize>) {
        self.advance(1);
        while let Some(c) = self.at(0) {
            match raw_hashes {
                None if c == '\\' => self.advance(2),
                None if c == '"' => return self.advance(1),
                Some(n) if c == '"' && (1..=n).all(|k| self.at(k) == Some('#')) => {
                    return self.advance(1 + n);
                }
                _ => self.advance(1),
            }
        }
    }

    /// A char literal (`'x'`, `'\''`, `'\u{..}'`) or a lifetime / label (`'a`).
    fn skip_quote(&mut self) {
        if self.at(1) == Some('\\') {
            self.advance(3);
            self.skip_while(|c| c != '\'');
            self.advance(1);
        } else if self.at(2) == Some('\'') {
            self.advance(3);
        } else {
            self.advance(1);
            self.skip_while(is_ident_char);
        }
    }

    /// An identifier, or the prefix of a literal: `r".."`, `r#".."#`, `b".."`, `br".."`, `b'x'`,
    /// or a raw identifier `r#name`.
    fn word(&mut self) {
        let start = self.i;
        self.skip_while(is_ident_char);
        let word: String = self.s[start..self.i].iter().collect();
        let hashes = (0..self.s.len())
            .take_while(|k| self.at(*k) == Some('#'))
            .count();
        let quote = self.at(hashes) == Some('"');
        match word.as_str() {
            "r" | "br" if quote => {
                self.advance(hashes);
                self.skip_string(Some(hashes));
            }
            "b" if hashes == 0 && quote => self.skip_string(None),
            "b" if self.at(0) == Some('\'') => {
                self.advance(1);
                while let Some(c) = self.at(0).filter(|c| *c != '\'') {
                    self.advance(if c == '\\' { 2 } else { 1 });
                }
                self.advance(1);
            }
            // The raw identifier itself is lexed next.
            "r" if hashes == 1 && self.at(1).is_some_and(is_ident_start) => self.advance(1),
            _ => self.out.push((Tok::Ident(word), self.line)),
        }
    }

    fn token(&mut self) {
        let (c, next) = (self.at(0).expect("in bounds"), self.at(1));
        match c {
            '/' if next == Some('/') => self.skip_while(|c| c != '\n'),
            '/' if next == Some('*') => self.skip_block_comment(),
            '"' => self.skip_string(None),
            '\'' => self.skip_quote(),
            ':' if next == Some(':') => self.push(Tok::PathSep, 2),
            '{' => self.push(Tok::Open, 1),
            '}' => self.push(Tok::Close, 1),
            ',' => self.push(Tok::Comma, 1),
            '*' => self.push(Tok::Star, 1),
            c if is_ident_start(c) => self.word(),
            c if c.is_ascii_digit() => {
                self.push(Tok::Other, 0);
                self.skip_while(is_ident_char);
            }
            // `$crate` in a macro is the macro's crate, not a module reference.
            '$' => {
                self.push(Tok::Other, 1);
                self.skip_while(is_ident_char);
            }
            c if c.is_whitespace() => self.advance(1),
            _ => self.push(Tok::Other, 1),
        }
    }
}

/// The tokens of `text` with their line numbers, without comments and literals.
fn lex(text: &str) -> Vec<(Tok, usize)> {
    let mut lexer = Lexer {
        s: text.chars().collect(),
        i: 0,
        line: 1,
        out: Vec::new(),
    };
    while lexer.i < lexer.s.len() {
        lexer.token();
    }
    lexer.out
}

// ---------------------------------------------------------------------------------------------
// Paths: `a::b::{c, d::e}` expands to `a::b::c` and `a::b::d::e`.

/// Parses a path (with `use`-style groups) starting at `i`; returns every full path and the index
/// after it.
fn parse_tree(toks: &[(Tok, usize)], mut i: usize, prefix: &[String]) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(w)) => {
                // `use a::b::{self, c}`: the `self` is `a::b` itself.
                if w != "self" || path.is_empty() {
                    path.push(w.clone());
                }
                i += 1;
            }
            Some(Tok::Open) => {
                let mut all = Vec::new();
                i += 1;
                while let Some((t, _)) = toks.get(i) {
                    match t {
                        Tok::Close => {
                            i += 1;
                            break;
                        }
                        Tok::Comma => i += 1,
                        _ => {
                            let (paths, next) = parse_tree(toks, i, &path);
                            all.extend(paths);
                            // A token that is not part of a tree would not move `next`.
                            i = next.max(i + 1);
                        }
                    }
                }
                return (all, i);
            }
            Some(Tok::Star) => return (vec![path], i + 1),
            _ => return (vec![path], i),
        }
        if toks.get(i).map(|t| &t.0) == Some(&Tok::PathSep) {
            i += 1;
        } else {
            return (vec![path], i);
        }
    }
}

/// One source file of the crate, as the check sees it.
struct SourceFile {
    /// Shown in messages, e.g. `src/jobs/cli.rs`.
    name: String,
    /// Module path, e.g. `["jobs", "cli"]`; empty for `lib.rs`.
    module: Vec<String>,
    /// The folder the file belongs to: a `foo.rs` beside a `foo/` belongs to `foo/`.
    folder: String,
    text: String,
}

/// A reference from one file to a module path of the crate.
#[derive(Debug, Clone)]
struct Reference {
    line: usize,
    /// Absolute, without `crate`, e.g. `["catalog", "edit", "write_atomic"]`.
    target: Vec<String>,
    /// As written, e.g. `crate::catalog::edit::write_atomic`.
    written: String,
}

fn references(file: &SourceFile, modules: &BTreeSet<Vec<String>>) -> Vec<Reference> {
    let toks = lex(&file.text);
    let mut refs = Vec::new();
    // Inline `mod name { .. }` blocks change what `super` and `self` mean.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                }
            }
            _ => {}
        }
        let starts_path = matches!(&toks[i].0, Tok::Ident(_))
            && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep)
            && (i == 0 || toks[i - 1].0 != Tok::PathSep);
        if !starts_path {
            i += 1;
            continue;
        }
        let here: Vec<String> = file
            .module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect();
        let (paths, next) = parse_tree(&toks, i, &[]);
        for p in paths {
            if let Some(target) = resolve(&here, &p, modules) {
                refs.push(Reference {
                    line: toks[i].1,
                    target,
                    written: p.join("::"),
                });
            }
        }
        i = next.max(i + 1);
    }
    refs
}

/// The absolute path `p` names from module `here`, if it names a module of this crate.
fn resolve(here: &[String], p: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    match p[0].as_str() {
        "crate" => Some(p[1..].to_vec()),
        "super" => {
            let ups = p.iter().take_while(|s| *s == "super").count();
            let mut base = here[..here.len().saturating_sub(ups)].to_vec();
            base.extend_from_slice(&p[ups..]);
            Some(base)
        }
        "self" => Some(here.iter().chain(&p[1..]).cloned().collect()),
        first => {
            let mut child = here.to_vec();
            child.push(first.to_string());
            modules
                .contains(&child)
                .then(|| here.iter().chain(p).cloned().collect())
        }
    }
}

/// The file (index) defining the longest module prefix of `target`.
fn file_of(target: &[String], files: &[SourceFile]) -> Option<usize> {
    (1..=target.len())
        .rev()
        .find_map(|n| files.iter().position(|f| f.module == target[..n]))
}

// ---------------------------------------------------------------------------------------------
// The two rules.

fn layer_violations(files: &[SourceFile]) -> Vec<String> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut out = Vec::new();
    for f in files {
        let Some(top) = f.module.first() else {
            continue; // lib.rs declares the modules
        };
        let Some(own) = layer_of(top) else {
            out.push(format!(
                "{}: module `{top}` is in no layer; add it to LAYERS in tests/layers.rs",
                f.name
            ));
            continue;
        };
        for r in references(f, &modules) {
            let Some(target_top) = r.target.first() else {
                continue;
            };
            match layer_of(target_top) {
                Some(l) if l > own => out.push(format!(
                    "{}:{}: `{top}` (layer {own}) names `{}` of the higher layer `{target_top}` (layer {l})",
                    f.name, r.line, r.written
                )),
                _ => {}
            }
        }
    }
    out
}

/// A loop of references through files of more than one folder.
struct Loop {
    /// Sorted.
    folders: Vec<String>,
    message: String,
}

/// Loops of references between files of different folders.
fn folder_loops(files: &[SourceFile]) -> Vec<Loop> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    // edges[a][b]: the references in file a that name file b.
    let mut edges: Vec<BTreeMap<usize, Vec<Reference>>> = vec![BTreeMap::new(); files.len()];
    for (a, f) in files.iter().enumerate() {
        for r in references(f, &modules) {
            match file_of(&r.target, files) {
                Some(b) if b != a && !files[b].module.is_empty() => {
                    edges[a].entry(b).or_default().push(r);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for component in strongly_connected(&edges) {
        let folders: BTreeSet<&str> = component
            .iter()
            .map(|&i| files[i].folder.as_str())
            .collect();
        if component.len() < 2 || folders.len() < 2 {
            continue;
        }
        let mut msg = format!(
            "files in {} name each other in a loop; the references that cross folders:",
            folders.iter().copied().collect::<Vec<_>>().join(", ")
        );
        for &a in &component {
            for (b, refs) in &edges[a] {
                if component.contains(b) && files[a].folder != files[*b].folder {
                    let r = &refs[0];
                    msg.push_str(&format!(
                        "\n  {}:{} names `{}` ({})",
                        files[a].name, r.line, r.written, files[*b].name
                    ));
                }
            }
        }
        out.push(Loop {
            folders: folders.into_iter().map(str::to_string).collect(),
            message: msg,
        });
    }
    out
}

/// Tarjan's strongly connected components of the file graph.
fn strongly_connected(edges: &[BTreeMap<usize, Vec<Reference>>]) -> Vec<Vec<usize>> {
    struct Walk<'a> {
        edges: &'a [BTreeMap<usize, Vec<Reference>>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in self.edges[v].keys() {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                self.out.push(component);
            }
        }
    }
    let n = edges.len();
    let mut walk = Walk {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if walk.index[v].is_none() {
            walk.visit(v);
        }
    }
    walk.out
}

// ---------------------------------------------------------------------------------------------
// Reading src/.

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Module path and folder of `rel` (a path under `src/`, e.g. `jobs/cli.rs`), given which
/// directories exist; None for the binary's `main.rs`.
fn module_of(rel: &str, dir_exists: impl Fn(&str) -> bool) -> Option<(Vec<String>, String)> {
    let stem = rel.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("lib") if parts.len() == 1 => return Some((Vec::new(), "src".into())),
        Some("mod") => {
            parts.pop();
            let folder = format!("src/{}", parts.join("/"));
            return Some((parts, folder));
        }
        _ => {}
    }
    let folder = if dir_exists(stem) {
        format!("src/{stem}")
    } else {
        match stem.rsplit_once('/') {
            Some((dir, _)) => format!("src/{dir}"),
            None => "src".into(),
        }
    };
    Some((parts, folder))
}

fn crate_sources() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(&src)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let (module, folder) = module_of(&rel, |d| src.join(d).is_dir())?;
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            Some(SourceFile {
                name: format!("src/{rel}"),
                module,
                folder,
                text,
            })
        })
        .collect()
}

#[test]
fn no_module_names_a_higher_layer() {
    let files = crate_sources();
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    let bad = layer_violations(&files);
    assert!(
        bad.is_empty(),
        "layers point down (cli -> tui -> jobs -> catalog -> nix -> search, config, paths, time):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_loop_between_folders() {
    let loops = folder_loops(&crate_sources());
    let bad: Vec<&str> = loops.iter().map(|l| l.message.as_str()).collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The checker itself, on made-up files.

fn fake(files: &[(&str, &str)]) -> Vec<SourceFile> {
    let dirs: BTreeSet<String> = files
        .iter()
        .filter_map(|(p, _)| p.rsplit_once('/').map(|(d, _)| d.to_string()))
        .flat_map(|d| {
            let parts: Vec<&str> = d.split('/').collect();
            (1..=parts.len())
                .map(|n| parts[..n].join("/"))
                .collect::<Vec<_>>()
        })
        .collect();
    files
        .iter()
        .map(|(rel, text)| {
            let (module, folder) = module_of(rel, |d| dirs.contains(d)).expect("a module");
            SourceFile {
                name: format!("src/{rel}"),
                module,
                folder,
                text: text.to_string(),
            }
        })
        .collect()
}

#[test]
fn a_lower_layer_naming_a_higher_one_is_reported_with_file_line_and_path() {
    let files = fake(&[
        ("nix/mod.rs", "pub mod state;\n"),
        (
            "nix/state.rs",
            "use std::fmt;\n\nuse crate::tui::App;\nfn f() {}\n",
        ),
        ("tui/mod.rs", "pub struct App;\n"),
    ]);
    let bad = layer_violations(&files);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("src/nix/state.rs:3:") && bad[0].contains("`crate::tui::App`"),
        "{}",
        bad[0]
    );
}

#[test]
fn use_groups_inline_paths_and_super_chains_are_followed() {
    let files = fake(&[
        ("catalog/mod.rs", "pub mod edit;\n"),
        (
            "catalog/edit.rs",
            "use crate::{nix, jobs::{spec::X, time}};\n\
             fn f() { let t = crate::cli::now(); }\n\
             mod inner { use super::super::super::tui::App; }\n",
        ),
        ("jobs/mod.rs", ""),
        ("cli/mod.rs", ""),
        ("tui/mod.rs", ""),
        ("nix/mod.rs", ""),
    ]);
    let bad = layer_violations(&files).join("\n");
    for written in [
        "crate::jobs::spec::X",
        "crate::jobs::time",
        "crate::cli::now",
        "super::super::super::tui::App",
    ] {
        assert!(bad.contains(&format!("`{written}`")), "{written}: {bad}");
    }
    assert!(!bad.contains("crate::nix"), "{bad}");
}

#[test]
fn comments_strings_and_chars_are_not_references() {
    let files = fake(&[
        ("nix/mod.rs", ""),
        (
            "nix/a.rs",
            "//! See `crate::tui::App`.\n\
             /* crate::cli::x /* nested */ crate::cli::y */\n\
             const S: &str = \"crate::tui::App\";\n\
             const R: &str = r#\"crate::\"tui::App\"#;\n\
             const C: char = '\"'; const Q: char = '\\'';\n\
             fn f<'a>(x: &'a str) -> &'a str { x } // crate::cli\n\
             const B: &[u8] = b\"crate::cli\"; const E: char = '\\u{1F600}';\n\
             use crate::tui::Later;\n",
        ),
        ("tui/mod.rs", ""),
        ("cli/mod.rs", ""),
    ]);
    // Only the real reference after all the literals counts, on its own line.
    let bad = layer_violations(&files);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("src/nix/a.rs:8:") && bad[0].contains("`crate::tui::Later`"),
        "{}",
        bad[0]
    );
}

#[test]
fn a_module_outside_every_layer_is_reported() {
    let files = fake(&[("plugins.rs", "")]);
    let bad = layer_violations(&files);
    assert!(bad[0].contains("`plugins` is in no layer"), "{bad:?}");
}

#[test]
fn loops_across_folders_are_reported_but_parent_and_child_are_one_folder() {
    let loop_files = fake(&[
        ("catalog/mod.rs", "pub mod load;\npub mod validate;\n"),
        ("catalog/load.rs", "mod walk;\npub struct Diagnostic;\n"),
        (
            "catalog/load/walk.rs",
            "use crate::catalog::validate::check;\n",
        ),
        ("catalog/validate.rs", "mod doc;\n"),
        (
            "catalog/validate/doc.rs",
            "use crate::catalog::load::Diagnostic;\n",
        ),
    ]);
    // walk.rs -> validate.rs -> (child) doc.rs -> load.rs -> (child) walk.rs; but `mod` lines are
    // declarations, so only a real use of the child closes the loop.
    assert!(folder_loops(&loop_files).is_empty());
    let loop_files = fake(&[
        ("catalog/mod.rs", "pub mod load;\npub mod validate;\n"),
        (
            "catalog/load.rs",
            "mod walk;\npub struct Diagnostic;\nfn f() { walk::go() }\n",
        ),
        (
            "catalog/load/walk.rs",
            "use crate::catalog::validate::check;\n",
        ),
        ("catalog/validate.rs", "mod doc;\npub use doc::check;\n"),
        (
            "catalog/validate/doc.rs",
            "use crate::catalog::load::Diagnostic;\n",
        ),
    ]);
    let bad = folder_loops(&loop_files);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].folders, ["src/catalog/load", "src/catalog/validate"]);
    let msg = &bad[0].message;
    for cut in [
        "src/catalog/validate/doc.rs:1 names `crate::catalog::load::Diagnostic` (src/catalog/load.rs)",
        "src/catalog/load/walk.rs:1 names `crate::catalog::validate::check` (src/catalog/validate.rs)",
    ] {
        assert!(msg.contains(cut), "{cut}: {msg}");
    }
    // References inside one folder are not what to cut.
    assert!(!msg.contains("walk::go"), "{msg}");
    // A parent and its children reference each other all the time: one folder, no loop.
    let family = fake(&[
        (
            "tui/mod.rs",
            "pub mod debug;\nfn load() {}\nfn g() { debug::run() }\n",
        ),
        ("tui/debug.rs", "fn run() { super::load() }\n"),
    ]);
    assert!(folder_loops(&family).is_empty());
}
