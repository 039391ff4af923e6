//! The parts of a form's state: its rows, the editor open on a field, and its dialogs (leave
//! with unsaved changes, the conflict view).

use super::draft::{ConflictField, FieldDesc, FieldValue, RawConflict};
use super::editors::{Picker, TextState};

/// One visible line of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// The header of a service option (`option log_level`).
    Section(String),
    /// Field `fields[i]`.
    Field(usize),
    /// Item `index` of the list field `fields[field]`.
    Item { field: usize, index: usize },
    /// A service form of a package without services.
    Empty,
}

impl Row {
    pub fn field(&self) -> Option<usize> {
        match self {
            Row::Field(f) | Row::Item { field: f, .. } => Some(*f),
            Row::Section(_) | Row::Empty => None,
        }
    }
}

/// The rows of `fields`: each field, its list items under it, a header before each option.
pub fn rows(fields: &[FieldDesc]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut section: Option<&str> = None;
    for (i, f) in fields.iter().enumerate() {
        if f.section.as_deref() != section {
            section = f.section.as_deref();
            if let Some(s) = section {
                rows.push(Row::Section(s.to_owned()));
            }
        }
        rows.push(Row::Field(i));
        if let FieldValue::List(items) = &f.value {
            rows.extend((0..items.len()).map(|index| Row::Item { field: i, index }));
        }
    }
    if rows.is_empty() {
        rows.push(Row::Empty);
    }
    rows
}

/// What the name prompt creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewName {
    Service,
    Option { service: String },
}

impl NewName {
    pub fn label(&self) -> String {
        match self {
            NewName::Service => "new service name".into(),
            NewName::Option { service } => format!("new option of {service}"),
        }
    }
}

/// The editor open on the focused field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Editing {
    /// Text, a number, a path (of field `field`, or of its list item `item`).
    Text {
        field: usize,
        item: Option<usize>,
        state: TextState,
        /// Why the last key was refused, shown under the editor until the next key.
        refused: Option<String>,
    },
    /// A pick list for an enum or a list item with choices.
    Pick {
        field: usize,
        item: Option<usize>,
        picker: Picker,
        refused: Option<String>,
    },
    /// The name of a new service or option.
    Name {
        what: NewName,
        state: TextState,
        refused: Option<String>,
    },
    /// Which service the service form shows (the package has several).
    Service { picker: Picker },
}

/// Per conflicting field: which value the save keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Mine,
    Disk,
}

/// The conflict view: the file changed on disk since the form read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The catalog's conflict (the disk's bytes), for the resolution.
    pub raw: RawConflict,
    pub fields: Vec<ConflictField>,
    pub choice: Vec<Side>,
    pub selected: usize,
}

/// A question over the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// Leaving with unsaved changes: save, discard or stay.
    Leave,
    Conflict(Box<Conflict>),
}
