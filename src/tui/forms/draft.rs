//! The one place the forms meet the catalog's field layer (`catalog::fields`): which fields a
//! form shows, their values as the editors hold them, setting them (a value that is not of the
//! field's kind is refused there), structural edits, validation and the save with its conflict.
//! A thin adapter: every rule is the catalog's, none is repeated in the UI.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::fields::{
    self, Change, Context, FieldPath, Group, Resolution, Structural, parse_input, render_value,
};
pub use crate::catalog::fields::{Choice, FieldKind};
use crate::catalog::model::OptionType;

/// Which form: a package's metadata, or the options of one of its services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Metadata,
    Service(String),
}

/// A field's value as the editors hold it: text (numbers too, as typed), a boolean, the items
/// of a list as text, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Absent,
    Text(String),
    Bool(bool),
    List(Vec<String>),
}

impl FieldValue {
    /// As one line for rows and the conflict view.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Absent => "—".into(),
            FieldValue::Text(t) => t.replace('\n', "⏎"),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::List(items) => format!("[{}]", items.join(", ")),
        }
    }

    fn of(v: Option<&toml::Value>) -> FieldValue {
        match v {
            None => FieldValue::Absent,
            Some(toml::Value::Boolean(b)) => FieldValue::Bool(*b),
            Some(toml::Value::Array(items)) => FieldValue::List(items.iter().map(plain).collect()),
            Some(other) => FieldValue::Text(plain(other)),
        }
    }
}

/// A value as a person types it: strings without quotes, the rest as TOML.
fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => render_value(other),
    }
}

/// One row's field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDesc {
    /// Dotted path in the file (`services.pds.ports.http`), as diagnostics name it.
    pub path: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub value: FieldValue,
    /// The section header the field is under (`build`, `option log_level`).
    pub section: Option<String>,
    /// One line of documentation.
    pub doc: &'static str,
    /// What leaving an optional field out means (`false`, `none`).
    pub absent_means: Option<String>,
}

// Kinds hold TOML values (choices), compared as values; a form never holds a NaN.
impl Eq for FieldDesc {}

/// A field the form, the file as read and the file on disk now disagree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictField {
    pub path: String,
    pub base: FieldValue,
    pub ours: FieldValue,
    pub theirs: FieldValue,
    /// Both sides changed it, to different values: the user chooses.
    pub both_changed: bool,
}

/// The catalog's conflict, kept whole for the resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct RawConflict(fields::Conflict);

impl Eq for RawConflict {}

impl RawConflict {
    pub fn fields(&self) -> Vec<ConflictField> {
        self.0
            .fields
            .iter()
            .map(|f| ConflictField {
                path: f.field.to_string(),
                base: FieldValue::of(f.base.as_ref()),
                ours: FieldValue::of(f.ours.as_ref()),
                theirs: FieldValue::of(f.theirs.as_ref()),
                both_changed: f.is_both_changed(),
            })
            .collect()
    }
}

/// Why a save did not happen.
#[derive(Debug, Clone)]
pub enum SaveError {
    /// The file changed on disk since the form read it.
    Conflict(Box<RawConflict>),
    Failed(String),
}

/// An edited `package.toml` (the catalog's draft: the bytes it was read from and the changes).
#[derive(Debug, Clone)]
pub struct Draft(fields::Draft);

/// Two drafts are equal when they hold the same text based on the same bytes of the same file.
impl PartialEq for Draft {
    fn eq(&self, other: &Draft) -> bool {
        self.0.path() == other.0.path()
            && self.0.base_bytes() == other.0.base_bytes()
            && self.0.text() == other.0.text()
    }
}

impl Eq for Draft {}

fn path_of(dotted: &str) -> Result<FieldPath, String> {
    FieldPath::parse(dotted).ok_or_else(|| format!("`{dotted}` is not a field path"))
}

fn message(d: &crate::catalog::Diagnostic) -> String {
    match &d.hint {
        Some(h) => format!("{} (hint: {h})", d.message),
        None => d.message.clone(),
    }
}

impl Draft {
    /// Reads `path`; `context` holds the rest of the catalog for the catalog-wide rules.
    pub fn read(path: &Path, context: Context) -> Result<Draft, String> {
        fields::Draft::open(path, context)
            .map(Draft)
            .map_err(|e| e.to_string())
    }

    /// The context of `path` in `catalog` (its other packages).
    pub fn context(catalog: &crate::catalog::Catalog, path: &Path) -> Context {
        Context::from_catalog(catalog, path)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The bytes the draft is based on (the file as read, or as last saved).
    pub fn base_bytes(&self) -> &[u8] {
        self.0.base_bytes()
    }

    /// The edited text, as a save would write it.
    pub fn render(&self) -> String {
        self.0.text()
    }

    /// Whether the document differs from the bytes it is based on.
    pub fn changed(&self) -> bool {
        self.0.is_dirty()
    }

    pub fn value(&self, path: &str) -> FieldValue {
        FieldPath::parse(path).map_or(FieldValue::Absent, |p| {
            FieldValue::of(self.0.value(&p).as_ref())
        })
    }

    /// The service names, in file order.
    pub fn services(&self) -> Vec<String> {
        self.0.service_names()
    }

    /// The rows of a form, in the order the format documents them.
    pub fn fields(&self, kind: &FormKind) -> Vec<FieldDesc> {
        fields::schema_for(&self.0)
            .into_iter()
            .filter_map(|f| {
                let (section, prefix) = section_of(&f.group, kind)?;
                let path = f.path.to_string();
                let label = f.path.keys()[prefix..].join(".");
                Some(FieldDesc {
                    value: FieldValue::of(f.value.as_ref()),
                    label,
                    path,
                    kind: f.kind,
                    required: f.required,
                    section,
                    doc: f.doc,
                    absent_means: f.absent_means,
                })
            })
            .collect()
    }

    /// Sets the field at `path` to `value` typed for `kind`. Refused (the reason) when the value
    /// is not of the field's kind; a value the catalog rules refuse is set, and `problems` says
    /// why. An empty optional text is removed from the file.
    pub fn set(&mut self, path: &str, kind: &FieldKind, value: &FieldValue) -> Result<(), String> {
        let p = path_of(path)?;
        let v = match (value, kind) {
            (FieldValue::Absent, _) => {
                return self.0.unset(&p).map_err(|d| message(&d));
            }
            (FieldValue::Bool(b), _) => toml::Value::Boolean(*b),
            (FieldValue::List(items), FieldKind::List { item }) => toml::Value::Array(
                items
                    .iter()
                    .map(|i| {
                        parse_input(item, i).map_err(|e| format!("{} ({})", e.message, e.hint))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (FieldValue::List(items), _) => {
                toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect())
            }
            (FieldValue::Text(t), k) => {
                parse_input(k, t).map_err(|e| format!("{} (hint: {})", e.message, e.hint))?
            }
        };
        self.0.set(&p, v).map_err(|d| message(&d))
    }

    fn structural(&mut self, s: Structural) -> Result<(), String> {
        self.0.apply(Change::Structural(s)).map_err(|d| message(&d))
    }

    /// Moves item `from` of the list at `path` to `to`.
    pub fn move_item(&mut self, path: &str, from: usize, to: usize) -> Result<(), String> {
        let list = path_of(path)?;
        self.structural(Structural::ListMove { list, from, to })
    }

    pub fn remove_item(&mut self, path: &str, index: usize) -> Result<(), String> {
        let list = path_of(path)?;
        self.structural(Structural::ListRemove { list, index })
    }

    /// A new option `name` of `service` (a `str`; its description is to be filled in).
    pub fn add_option(&mut self, service: &str, name: &str) -> Result<(), String> {
        self.structural(Structural::AddOption {
            service: service.into(),
            name: name.into(),
            ty: OptionType::Str,
            description: String::new(),
        })
    }

    pub fn remove_option(&mut self, service: &str, name: &str) -> Result<(), String> {
        self.structural(Structural::RemoveOption {
            service: service.into(),
            name: name.into(),
        })
    }

    /// A new service `name` running the package's main program.
    pub fn add_service(&mut self, name: &str) -> Result<(), String> {
        let program = match self.value("main_program") {
            FieldValue::Text(p) => p,
            _ => name.to_owned(),
        };
        self.structural(Structural::AddService {
            name: name.into(),
            exec: vec![program],
        })
    }

    pub fn remove_service(&mut self, name: &str) -> Result<(), String> {
        self.structural(Structural::RemoveService { name: name.into() })
    }

    /// The validator's problems per field path ("" for the file as a whole), message and hint.
    pub fn problems(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for d in fields::validate_all(&self.0) {
            out.entry(d.field.clone()).or_insert_with(|| message(&d));
        }
        out
    }

    /// Writes the draft (atomic; refused when invalid or when the file changed on disk). The
    /// draft is then based on what was written.
    pub fn save(&mut self) -> Result<(), SaveError> {
        match self.0.save() {
            Ok(_) => Ok(()),
            Err(fields::SaveError::Conflict(c)) => {
                Err(SaveError::Conflict(Box::new(RawConflict(*c))))
            }
            Err(e) => Err(SaveError::Failed(e.to_string())),
        }
    }

    /// The file on disk with this draft's changes on top, except those to the fields in
    /// `disk_wins` (the disk's value stays); `reopen`: the file on disk alone.
    pub fn resolve(
        &self,
        conflict: &RawConflict,
        disk_wins: &[String],
        reopen: bool,
    ) -> Result<Draft, String> {
        let c = &conflict.0;
        let err = |d: crate::catalog::Diagnostic| message(&d);
        if reopen {
            return self
                .0
                .resolve(c, Resolution::Reopen)
                .map(Draft)
                .map_err(err);
        }
        let wins: Vec<FieldPath> = disk_wins
            .iter()
            .filter_map(|p| FieldPath::parse(p))
            .collect();
        self.0.resolve_per_field(c, &wins).map(Draft).map_err(err)
    }
}

/// The section header of a field in form `kind` and how many keys of its path the label drops;
/// None when the field is not on that form.
fn section_of(group: &Group, kind: &FormKind) -> Option<(Option<String>, usize)> {
    match (group, kind) {
        (Group::Package, FormKind::Metadata) => Some((None, 0)),
        (Group::Source, FormKind::Metadata) => Some((Some("source".into()), 1)),
        (Group::Build, FormKind::Metadata) => Some((Some("build".into()), 1)),
        (Group::Check, FormKind::Metadata) => Some((Some("check".into()), 1)),
        (Group::Atproto, FormKind::Metadata) => Some((Some("atproto".into()), 1)),
        (Group::Service { service }, FormKind::Service(s)) if service == s => Some((None, 2)),
        (Group::ServiceOption { service, option }, FormKind::Service(s)) if service == s => {
            Some((Some(format!("option {option}")), 4))
        }
        (Group::Hardening { service, setting }, FormKind::Service(s)) if service == s => {
            Some((Some(format!("hardening {setting}")), 4))
        }
        _ => None,
    }
}
