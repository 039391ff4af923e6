//! [`Draft`]: one `package.toml` being edited: the bytes it was read from, the toml_edit
//! document with the changes made since, undo/redo, and validation by the catalog validator.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use super::kind::check_kind;
use super::ops::{self, Structural};
use super::path::FieldPath;
use super::schema::{Field, schema_for};
use super::value::{from_item, lookup};
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::edit::EditError;
use crate::catalog::model::{Catalog, ExtraFiles, Package};
use crate::catalog::position::line_column;
use crate::catalog::validate::{self, PackageFile, catalog_port_clashes, key_offset};

/// One change to a draft. Changes are kept in order, so they can be undone and replayed onto
/// a newer file (a conflict's "keep mine").
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Set a field of the schema (or an entry of a map field) to a value.
    Set { path: FieldPath, value: toml::Value },
    /// Remove an optional field from the file.
    Unset { path: FieldPath },
    /// Add or remove a service, an option or a map entry; insert, remove or move list items.
    Structural(Structural),
}

impl Change {
    /// The field or table the change is about.
    pub fn path(&self) -> FieldPath {
        match self {
            Change::Set { path, .. } | Change::Unset { path } => path.clone(),
            Change::Structural(s) => s.path(),
        }
    }
}

/// What validation knows beyond the file: the other packages of the catalog, for the rules
/// that are catalog-wide (default ports no two services share).
#[derive(Debug, Clone, Default)]
pub struct Context {
    root: PathBuf,
    others: Vec<(PathBuf, Package)>,
}

impl Context {
    /// No other packages: only the file's own rules.
    pub fn none() -> Context {
        Context::default()
    }

    /// Every valid package of `catalog` except the one whose `package.toml` is `file`.
    pub fn from_catalog(catalog: &Catalog, file: &Path) -> Context {
        let dir = file.parent().unwrap_or(Path::new(""));
        let others = catalog
            .packages
            .iter()
            .filter(|p| !same_dir(&p.dir, dir))
            .map(|p| (p.dir.join("package.toml"), p.clone()))
            .collect();
        Context {
            root: catalog.root.clone(),
            others,
        }
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// One `package.toml` being edited.
#[derive(Debug, Clone)]
pub struct Draft {
    pub(super) path: PathBuf,
    /// The bytes the draft is based on: a save refuses when the file on disk differs.
    pub(super) base: Vec<u8>,
    pub(super) base_doc: DocumentMut,
    pub(super) doc: DocumentMut,
    pub(super) changes: Vec<Change>,
    redo: Vec<Change>,
    pub(super) context: Context,
    extra_files: ExtraFiles,
}

fn file_error(path: &Path, message: String) -> Diagnostic {
    Diagnostic::new(
        path.to_path_buf(),
        (0, 0),
        "",
        message,
        "fix the file by hand first (atwb check shows where)",
    )
}

impl Draft {
    /// Read `path` (a `package.toml`) for editing. The file must be UTF-8 TOML; it may break
    /// catalog rules (the form then shows them).
    pub fn open(path: &Path, context: Context) -> Result<Draft, EditError> {
        let bytes = std::fs::read(path).map_err(|source| EditError::Read {
            path: path.into(),
            source,
        })?;
        Draft::from_bytes(path, bytes, context).map_err(|d| EditError::Field {
            path: path.into(),
            field: d.field,
            message: d.message,
        })
    }

    /// A draft of `bytes`, as if read from `path` (a save compares the file with these bytes).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>, context: Context) -> Result<Draft, Diagnostic> {
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| file_error(path, format!("is not valid UTF-8 ({e})")))?;
        let doc: DocumentMut = text
            .parse()
            .map_err(|e| file_error(path, format!("is not valid TOML ({e})")))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let extra_files = ExtraFiles {
            package_nix: dir.join("package.nix").is_file(),
            module_nix: dir.join("module.nix").is_file(),
            test_nix: dir.join("test.nix").is_file(),
        };
        Ok(Draft {
            path: path.to_path_buf(),
            base: bytes,
            base_doc: doc.clone(),
            doc,
            changes: Vec::new(),
            redo: Vec::new(),
            context,
            extra_files,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes the draft is based on (what the file held when read, or last saved).
    pub fn base_bytes(&self) -> &[u8] {
        &self.base
    }

    /// The edited text, as a save would write it.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The changes since the draft was read or last saved, oldest first.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the draft differs from what it is based on.
    pub fn is_dirty(&self) -> bool {
        self.text().as_bytes() != self.base.as_slice()
    }

    /// The draft as plain values.
    pub fn plain(&self) -> toml::Table {
        from_item(self.doc.as_item())
            .and_then(|v| match v {
                toml::Value::Table(t) => Some(t),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The draft's value at `path`; None when the file does not set it.
    pub fn value(&self, path: &FieldPath) -> Option<toml::Value> {
        lookup(&self.plain(), path).cloned()
    }

    /// Services in file order.
    pub fn service_names(&self) -> Vec<String> {
        self.table_keys(&FieldPath::new(["services"]))
    }

    /// The keys of the table at `path`, in file order (empty when there is none).
    pub fn table_keys(&self, path: &FieldPath) -> Vec<String> {
        ops::table_keys(&self.doc, path)
    }

    /// 1-based line of the key at `path` in the edited text; 0 when it is not there.
    pub fn line_of(&self, path: &FieldPath) -> usize {
        let text = self.text();
        let keys: Vec<&str> = path.keys().iter().map(String::as_str).collect();
        key_offset(&text, &keys).map_or(0, |at| line_column(&text, at).0)
    }

    /// The line of every key of the edited text, from one parse (for the schema).
    pub(super) fn key_lines(&self) -> std::collections::HashMap<FieldPath, usize> {
        let text = self.text();
        let mut out = std::collections::HashMap::new();
        let arena = toml_spanner::Arena::new();
        if crate::catalog::validate::too_nested(&text) {
            return out;
        }
        let Ok(doc) = toml_spanner::parse(&text, &arena) else {
            return out;
        };
        let index = crate::catalog::position::LineIndex::new(&text);
        let mut stack = vec![(FieldPath::new::<String>([]), doc.table())];
        while let Some((at, table)) = stack.pop() {
            for (key, item) in table {
                let path = at.child(key.name);
                out.insert(path.clone(), index.position(key.span.start as usize).0);
                if let Some(t) = item.as_table() {
                    stack.push((path, t));
                }
            }
        }
        out
    }

    /// The schema field at `path`: a field of [`schema_for`], or an entry of one of its map
    /// fields (`services.x.ports.http`, `build.env.NAME`), existing or not.
    pub fn field(&self, path: &FieldPath) -> Option<Field> {
        let schema = schema_for(self);
        if let Some(f) = schema.iter().find(|f| &f.path == path) {
            return Some(f.clone());
        }
        let parent = path.parent();
        let map = schema.into_iter().find(|f| f.path == parent)?;
        let super::kind::FieldKind::Map { value } = &map.kind else {
            return None;
        };
        Some(Field {
            path: path.clone(),
            kind: (**value).clone(),
            required: false,
            value: None,
            absent_means: None,
            line: 0,
            ..map
        })
    }

    /// Apply one change. Refused (nothing changes) when the path is no field of the schema,
    /// the value does not fit the field's kind, or a structural edit's target is missing or
    /// already there. A value the catalog rules refuse is applied: [`validate_all`] shows why,
    /// and [`Draft::save`] refuses to write it.
    pub fn apply(&mut self, change: Change) -> Result<(), Diagnostic> {
        let mut doc = self.doc.clone();
        self.apply_to(&mut doc, &change)?;
        self.doc = doc;
        self.changes.push(change);
        self.redo.clear();
        Ok(())
    }

    /// Set a field (see [`Draft::apply`]).
    pub fn set(&mut self, path: &FieldPath, value: toml::Value) -> Result<(), Diagnostic> {
        self.apply(Change::Set {
            path: path.clone(),
            value,
        })
    }

    /// Remove an optional field (see [`Draft::apply`]).
    pub fn unset(&mut self, path: &FieldPath) -> Result<(), Diagnostic> {
        self.apply(Change::Unset { path: path.clone() })
    }

    /// Apply `change` to `doc`, judged against `doc` itself (which may be ahead of the draft
    /// while changes are replayed).
    pub(super) fn apply_to(
        &self,
        doc: &mut DocumentMut,
        change: &Change,
    ) -> Result<(), Diagnostic> {
        let view = Draft {
            doc: doc.clone(),
            changes: Vec::new(),
            redo: Vec::new(),
            ..self.clone()
        };
        view.apply_on(doc, change)
    }

    fn apply_on(&self, doc: &mut DocumentMut, change: &Change) -> Result<(), Diagnostic> {
        let err = |path: &FieldPath, message: String, hint: String| {
            let line = self.line_of(path);
            Diagnostic::new(
                self.path.clone(),
                (line, usize::from(line > 0)),
                path.to_string(),
                message,
                hint,
            )
        };
        match change {
            Change::Set { path, value } => {
                let field = self.known_field(path)?;
                check_kind(&field.kind, value).map_err(|p| err(path, p.message, p.hint))?;
                let multiline = matches!(field.kind, super::kind::FieldKind::MultiLineText);
                let parent = path.parent();
                let order: Vec<String> = schema_for(self)
                    .iter()
                    .filter(|f| f.path.parent() == parent)
                    .map(|f| f.path.leaf().to_string())
                    .collect();
                ops::set_value(doc, path, value, multiline, &order)
                    .map_err(|m| err(path, m, "edit the file by hand".into()))
            }
            Change::Unset { path } => {
                let field = self.known_field(path)?;
                if field.required {
                    return Err(err(
                        path,
                        "is required and cannot be unset".into(),
                        "set another value instead".into(),
                    ));
                }
                ops::unset(doc, path);
                Ok(())
            }
            Change::Structural(s) => {
                if let Structural::ListInsert { list, value, .. } = s {
                    let field = self.known_field(list)?;
                    if let super::kind::FieldKind::List { item } = &field.kind {
                        check_kind(item, value).map_err(|p| err(list, p.message, p.hint))?;
                    }
                }
                ops::apply_structural(doc, s).map_err(|(m, h)| err(&s.path(), m, h))
            }
        }
    }

    /// The field at `path`, or an "unknown field" diagnostic with a did-you-mean.
    fn known_field(&self, path: &FieldPath) -> Result<Field, Diagnostic> {
        self.field(path).ok_or_else(|| {
            let names: Vec<String> = schema_for(self)
                .iter()
                .map(|f| f.path.to_string())
                .collect();
            let shown = path.to_string();
            let hint = match crate::search::did_you_mean(&shown, names.iter().map(String::as_str)) {
                Some(m) => format!("did you mean `{m}`?"),
                None => "`atwb set NAME --list` lists the fields of a package".to_string(),
            };
            Diagnostic::new(
                self.path.clone(),
                (0, 0),
                shown.clone(),
                format!("unknown field `{shown}`"),
                hint,
            )
        })
    }

    /// Undo the last change; false when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(last) = self.changes.pop() else {
            return false;
        };
        self.redo.push(last);
        self.replay();
        true
    }

    /// Redo the last undone change; false when there is none.
    pub fn redo(&mut self) -> bool {
        let Some(next) = self.redo.pop() else {
            return false;
        };
        let redo = std::mem::take(&mut self.redo);
        let ok = self.apply(next).is_ok();
        self.redo = redo;
        ok
    }

    /// Rebuild the document from the base and the kept changes (a change that no longer
    /// applies is dropped).
    fn replay(&mut self) {
        let mut doc = self.base_doc.clone();
        let changes = std::mem::take(&mut self.changes);
        for c in changes {
            let mut next = doc.clone();
            if self.apply_to(&mut next, &c).is_ok() {
                doc = next;
                self.changes.push(c);
            }
        }
        self.doc = doc;
    }

    /// Every diagnostic the catalog validator reports for the edited text.
    fn diagnostics_of(&self, text: &str) -> Vec<Diagnostic> {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let folder = name_of(dir);
        let org = name_of(dir.parent().unwrap_or(Path::new("")));
        let checked = validate::check(&PackageFile {
            file: &self.path,
            dir,
            org: &org,
            folder: &folder,
            text,
            extra_files: self.extra_files.clone(),
        });
        let mut diagnostics = checked.diagnostics;
        if let Some(p) = &checked.package {
            diagnostics.extend(self.catalog_clashes(p, text));
        }
        diagnostics
    }

    /// Services another package of the catalog defines too (service names are global).
    fn service_clashes(&self, p: &Package, text: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for svc in p.services.keys() {
            let others: Vec<String> = self
                .context
                .others
                .iter()
                .filter(|(_, o)| o.services.contains_key(svc))
                .map(|(f, _)| {
                    f.strip_prefix(&self.context.root)
                        .unwrap_or(f)
                        .display()
                        .to_string()
                })
                .collect();
            if others.is_empty() {
                continue;
            }
            let (message, hint) = crate::catalog::load::service_clash(svc, &others.join(", "));
            let at = key_offset(text, &["services", svc]).unwrap_or(0);
            let field = FieldPath::new(["services", svc.as_str()]).to_string();
            out.push(Diagnostic::new(
                self.path.clone(),
                line_column(text, at),
                field,
                message,
                hint,
            ));
        }
        out
    }

    /// Default ports shared with another package of the catalog, pointing into the draft.
    fn catalog_clashes(&self, p: &Package, text: &str) -> Vec<Diagnostic> {
        let own = usize::MAX;
        let others = self
            .context
            .others
            .iter()
            .enumerate()
            .map(|(i, (f, p))| (i, f.as_path(), p));
        let all = others.chain(std::iter::once((own, self.path.as_path(), p)));
        let mut out = self.service_clashes(p, text);
        for (i, mut d) in catalog_port_clashes(all, &self.context.root) {
            if i != own {
                continue;
            }
            // The clash check finds positions in the files on disk; the draft's are wanted.
            if let Some(path) = FieldPath::parse(&d.field) {
                let keys: Vec<&str> = path.keys().iter().map(String::as_str).collect();
                if let Some(at) = key_offset(text, &keys) {
                    (d.line, d.column) = line_column(text, at);
                }
            }
            out.push(d);
        }
        out
    }
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every diagnostic of the draft as it stands: the catalog validator's for the file, plus the
/// catalog-wide port rule against the context's packages. Empty means a save may write it.
pub fn validate_all(draft: &Draft) -> Vec<Diagnostic> {
    draft.diagnostics_of(&draft.text())
}

/// What setting the field at `path` to `value` (None: unsetting it) would bring: the problems
/// with the value itself (its kind, a secret where a path belongs), else the validator's
/// diagnostics about this field and any new ones elsewhere that the value causes (a port that
/// now clashes, a placeholder that no longer resolves). Empty means the value is fine. The
/// draft is not changed.
pub fn validate_field(
    draft: &Draft,
    path: &FieldPath,
    value: Option<&toml::Value>,
) -> Vec<Diagnostic> {
    let mut trial = draft.clone();
    let change = match value {
        Some(v) => Change::Set {
            path: path.clone(),
            value: v.clone(),
        },
        None => Change::Unset { path: path.clone() },
    };
    if let Err(d) = trial.apply(change) {
        return vec![d];
    }
    let before = validate_all(draft);
    let shown = path.to_string();
    validate_all(&trial)
        .into_iter()
        .filter(|d| {
            let about_it = d.field == shown || d.field.starts_with(&format!("{shown}."));
            let new = !before
                .iter()
                .any(|b| b.field == d.field && b.message == d.message);
            about_it || new
        })
        .collect()
}
