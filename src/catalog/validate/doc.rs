//! Typed, span-aware access to one parsed `package.toml`: every accessor reports what is missing or
//! of the wrong type as a [`Diagnostic`] at the right line and column, so the rules in
//! `validate.rs` only say what they expect.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml_spanner::{Item, Key, Kind};

use super::nix_toml;
use super::rules::Problem;
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::position::LineIndex;
use crate::search::did_you_mean;

pub type Value<'i> = Item<'i>;

/// One table of the document and where it sits.
pub struct Table<'t, 'i> {
    pub entries: &'t toml_spanner::Table<'i>,
    /// Dotted path (`""` for the top level, `services.pds.options.port`).
    pub path: String,
    /// Where missing-field errors point: the table's header (the top of the file for the root).
    pub span: Range<usize>,
}

impl<'t, 'i> Table<'t, 'i> {
    /// The dotted field name of `key` inside this table.
    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The field `key` of this table, formatted only when reported.
    pub fn at<'k>(&'k self, key: &'k str) -> Field<'k> {
        Field {
            parent: &self.path,
            key,
        }
    }

    pub fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }

    /// Entries in file order (the parser keeps them in the order they appear).
    pub fn in_file_order(
        &self,
    ) -> impl Iterator<Item = (&'t Key<'i>, &'t Value<'i>)> + use<'t, 'i> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// A dotted field name (`services.pds.ports.http`) that is only turned into a `String` when a
/// diagnostic needs it: most fields are fine, and formatting every name cost a tenth of the load.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    parent: &'a str,
    key: &'a str,
}

impl<'a> Field<'a> {
    /// The last segment, as written in the file (`http` for `services.pds.ports.http`).
    pub fn leaf(self) -> &'a str {
        self.key.rsplit('.').next().unwrap_or(self.key)
    }
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parent.is_empty() {
            f.write_str(self.key)
        } else {
            write!(f, "{}.{}", self.parent, self.key)
        }
    }
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(path: &'a str) -> Self {
        Field {
            parent: "",
            key: path,
        }
    }
}

impl<'a> From<&'a String> for Field<'a> {
    fn from(path: &'a String) -> Self {
        Field {
            parent: "",
            key: path,
        }
    }
}

impl From<Field<'_>> for String {
    fn from(f: Field<'_>) -> String {
        f.to_string()
    }
}

/// How a TOML value's kind is named in messages.
pub fn kind(v: &Value<'_>) -> &'static str {
    match v.kind() {
        Kind::String => "a string",
        Kind::Integer => "an integer",
        Kind::Float => "a float",
        Kind::Boolean => "a boolean",
        Kind::DateTime => "a date",
        Kind::Array => "an array",
        Kind::Table => "a table",
    }
}

/// The document being checked and the diagnostics found so far.
pub struct Doc<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub diagnostics: Vec<Diagnostic>,
    /// Fields already named by an unknown key's did-you-mean: a typo is one problem, not also a
    /// "missing required field".
    suggested: Vec<String>,
    /// Built on the first diagnostic and shared by all of them (most files have none).
    lines: OnceCell<LineIndex<'a>>,
}

impl<'a> Doc<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Self {
        Doc {
            file,
            src,
            diagnostics: Vec::new(),
            suggested: Vec::new(),
            lines: OnceCell::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        self.lines
            .get_or_init(|| LineIndex::new(self.src))
            .position(offset)
    }

    pub fn report(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, column) = self.position(span.start);
        self.diagnostics.push(Diagnostic::new(
            self.file.to_path_buf(),
            (line, column),
            field,
            message,
            hint,
        ));
    }

    pub fn problem(&mut self, span: Range<usize>, field: impl Into<String>, p: Problem) {
        self.report(span, field, p.message, p.hint);
    }

    /// Report every key of `t` not in `allowed`, with a did-you-mean, or the section it belongs in.
    pub fn unknown_keys(
        &mut self,
        t: &Table<'_, '_>,
        allowed: &[&str],
        elsewhere: &[(&str, &[&str])],
    ) {
        for (key, _) in t.in_file_order() {
            let k: &str = key.name;
            if allowed.contains(&k) {
                continue;
            }
            let hint = if let Some(s) = did_you_mean(k, allowed.iter().copied()) {
                self.suggested.push(t.field(s));
                format!("did you mean `{s}`?")
            } else if let Some((section, _)) = elsewhere.iter().find(|(_, keys)| keys.contains(&k))
            {
                format!("`{k}` belongs in {section}")
            } else {
                format!("allowed here: {}", allowed.join(", "))
            };
            let place = if t.path.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{}]", t.path)
            };
            self.report(
                key.span.range(),
                t.field(k),
                format!("unknown key `{k}` {place}"),
                hint,
            );
        }
    }

    /// Everything in the document that Nix's `builtins.fromTOML` cannot read (see `nix_toml`):
    /// dates, multi-line inline tables or ones with a trailing comma, `\e` and `\x` escapes.
    /// The walk keeps its own stack instead of recursing, so no nesting can overflow the thread's.
    pub fn reject_unreadable_by_nix<'t>(&mut self, root: &'t toml_spanner::Table<'_>) {
        let mut stack: Vec<NixCheck<'t, '_>> = Vec::new();
        let entries = root.iter().map(|(k, v)| (Some(k.name), v));
        push_reversed(&mut stack, entries, 0, false);
        let mut path: Vec<&str> = Vec::new();
        while let Some((value, at, key, in_inline)) = stack.pop() {
            path.truncate(at);
            path.extend(key);
            let span = value.span().range();
            match value.kind() {
                Kind::DateTime => {
                    let text = &self.src[span.clone()];
                    self.report(
                        span,
                        path.join("."),
                        "TOML dates are not allowed: Nix's builtins.fromTOML cannot read them",
                        format!("quote it as a string: \"{text}\""),
                    );
                }
                Kind::String => {
                    if let Some(p) = nix_toml::string_escapes(&self.src[span.clone()]) {
                        self.problem(span, path.join("."), p);
                    }
                }
                Kind::Array => {
                    let items = value.as_array().into_iter().flat_map(|a| a.iter());
                    push_reversed(&mut stack, items.map(|v| (None, v)), path.len(), in_inline);
                }
                Kind::Table => {
                    // An inline table's text is checked once, nested inline tables included.
                    let inline = self.src[span.clone()].starts_with('{');
                    if inline && !in_inline {
                        for p in nix_toml::inline_table(&self.src[span.clone()]) {
                            self.problem(span.clone(), path.join("."), p);
                        }
                    }
                    if let Some(t) = value.as_table() {
                        let entries = t.iter().map(|(k, v)| (Some(k.name), v));
                        push_reversed(&mut stack, entries, path.len(), in_inline || inline);
                    }
                }
                _ => {}
            }
        }
    }

    /// `key` must be present.
    pub fn required<'t, 'i>(&mut self, t: &Table<'t, 'i>, key: &str) -> Option<&'t Value<'i>> {
        let v = t.get(key);
        if v.is_none() && !self.suggested.contains(&t.field(key)) {
            let place = if t.path.is_empty() {
                "the top level".to_string()
            } else {
                format!("[{}]", t.path)
            };
            self.report(
                t.span.clone(),
                t.field(key),
                format!("missing required field `{key}` in {place}"),
                example(key),
            );
        }
        v
    }

    /// Report a value of the wrong kind (dates were already reported by `reject_unreadable_by_nix`).
    pub fn wrong_kind(&mut self, v: &Value<'_>, field: Field<'_>, expected: &str, hint: String) {
        if v.kind() == Kind::DateTime {
            return;
        }
        self.report(
            v.span().range(),
            field,
            format!("expected {expected}, found {}", kind(v)),
            hint,
        );
    }

    pub fn as_str<'f>(&mut self, v: &Value<'_>, field: impl Into<Field<'f>>) -> Option<String> {
        let field = field.into();
        if let Some(s) = v.as_str() {
            Some(s.to_string())
        } else {
            let key = field.leaf();
            self.wrong_kind(v, field, "a string", format!("quote it: {key} = \"...\""));
            None
        }
    }

    pub fn as_bool<'f>(&mut self, v: &Value<'_>, field: impl Into<Field<'f>>) -> Option<bool> {
        let field = field.into();
        match (v.as_bool(), v.as_str()) {
            (Some(b), _) => Some(b),
            (None, Some(s)) if s == "true" || s == "false" => {
                self.wrong_kind(
                    v,
                    field,
                    "true or false",
                    format!("remove the quotes: {} = {s}", field.leaf()),
                );
                None
            }
            _ => {
                let hint = format!(
                    "write {} = true or {0} = false, without quotes",
                    field.leaf()
                );
                self.wrong_kind(v, field, "true or false", hint);
                None
            }
        }
    }

    pub fn as_int<'f>(&mut self, v: &Value<'_>, field: impl Into<Field<'f>>) -> Option<i64> {
        let field = field.into();
        match (v.kind(), v.as_str()) {
            (Kind::Integer, _) => {
                if let Some(n) = v.as_i64() {
                    Some(n)
                } else {
                    let hint =
                        format!("write a whole number between {} and {}", i64::MIN, i64::MAX);
                    self.report(v.span().range(), field, "integer is out of range", hint);
                    None
                }
            }
            (_, Some(s)) if s.parse::<i64>().is_ok() => {
                self.wrong_kind(
                    v,
                    field,
                    "an integer",
                    format!("remove the quotes: {} = {s}", field.leaf()),
                );
                None
            }
            _ => {
                let hint = format!("write a number without quotes: {} = 1", field.leaf());
                self.wrong_kind(v, field, "an integer", hint);
                None
            }
        }
    }

    pub fn as_table<'t, 'i, 'f>(
        &mut self,
        v: &'t Value<'i>,
        field: impl Into<Field<'f>>,
    ) -> Option<Table<'t, 'i>> {
        let field = field.into();
        if let Some(t) = v.as_table() {
            Some(Table {
                entries: t,
                path: field.to_string(),
                span: v.span().range(),
            })
        } else {
            self.wrong_kind(
                v,
                field,
                "a table",
                format!("write it as a [{field}] section"),
            );
            None
        }
    }

    /// An array of strings; each wrong element is reported on its own.
    pub fn as_str_list<'f>(
        &mut self,
        v: &Value<'_>,
        field: impl Into<Field<'f>>,
    ) -> Option<Vec<String>> {
        let field = field.into();
        let Some(items) = v.as_array() else {
            let hint = format!("write a list: {} = [\"a\", \"b\"]", field.leaf());
            self.wrong_kind(v, field, "an array of strings", hint);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            match self.as_str(item, field) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    // Optional fields: absent is `Some(default)`, wrong kind is `None` (reported).

    // Absent (`Some(None)`) and wrong kind (`None`, reported) are different answers.
    #[allow(clippy::option_option)]
    pub fn opt_str(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Option<String>> {
        match t.get(key) {
            None => Some(None),
            Some(v) => self.as_str(v, t.at(key)).map(Some),
        }
    }

    pub fn opt_bool(&mut self, t: &Table<'_, '_>, key: &str, default: bool) -> Option<bool> {
        match t.get(key) {
            None => Some(default),
            Some(v) => self.as_bool(v, t.at(key)),
        }
    }

    pub fn opt_str_list(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Vec<String>> {
        match t.get(key) {
            None => Some(Vec::new()),
            Some(v) => self.as_str_list(v, t.at(key)),
        }
    }

    pub fn req_str(&mut self, t: &Table<'_, '_>, key: &str) -> Option<String> {
        let v = self.required(t, key)?;
        self.as_str(v, t.at(key))
    }
}

/// One value still to check for Nix: the value, how many parts of the path are its parent's, its
/// key (none for an array element), and whether it sits inside an inline table.
type NixCheck<'t, 'i> = (&'t Value<'i>, usize, Option<&'t str>, bool);

/// Push children so that they are popped, checked and reported in file order.
fn push_reversed<'t, 'i: 't>(
    stack: &mut Vec<NixCheck<'t, 'i>>,
    children: impl Iterator<Item = (Option<&'t str>, &'t Value<'i>)>,
    parent_path: usize,
    in_inline: bool,
) {
    let start = stack.len();
    stack.extend(children.map(|(key, v)| (v, parent_path, key, in_inline)));
    stack[start..].reverse();
}

/// How to add a missing field: an example line, or what a missing section holds.
fn example(key: &str) -> String {
    match key {
        "source" => return "add a [source] section with host, owner + repo (or url), rev, hash and provenance".into(),
        "build" => return "add a [build] section with language, builder and deps_hash".into(),
        _ => {}
    }
    let line = match key {
        "name" => "name = \"<folder name>\"",
        "version" => "version = \"1.2.3\" (or \"0-unstable-YYYY-MM-DD\")",
        "tier" => "tier = 1 (1 foundation, 2 ecosystem service, 3 specialized)",
        "category" => {
            "category = \"infrastructure\" (infrastructure | application | utility | library)"
        }
        "description" => "description = \"One line saying what it is\"",
        "homepage" => "homepage = \"https://...\"",
        "license" => "license = [\"MIT\"] (SPDX ids; \"NOASSERTION\" when upstream states none)",
        "host" => "host = \"github\" (github | tangled | git)",
        "owner" => "owner = \"<account>\"",
        "repo" => "repo = \"<repository>\"",
        "url" => "url = \"https://...\"",
        "rev" => "rev = \"<40-hex commit>\"",
        "hash" => "hash = \"sha256-...=\" (from `nix hash path` of the unpacked tree)",
        "provenance" => "provenance = \"git archive REV | nix hash path, YYYY-MM-DD\"",
        "language" => "language = \"rust\"",
        "builder" => "builder = \"rust-package\"",
        "deps_hash" => "deps_hash = \"unknown\" (or the real SRI hash)",
        "exec" => "exec = [\"program\", \"--arg\", \"{data_dir}\"]",
        "type" => "type = \"str\" (str | int | port | bool | enum | path | secret-file | list)",
        "reason" => "reason = \"why this service needs it\"",
        "value" => "value = false",
        other => return format!("add `{other} = ...`"),
    };
    format!("add `{line}`")
}
