//! The metadata and service-options forms: one field per row, type-aware editors, validation
//! as you type (the catalog's own rules, through `draft`), undo/redo, and the conflict view when
//! the file changed on disk. Pure state: `update::forms` drives it, `views::form` draws it, the
//! file is read and written by `effects` through `draft`.

pub mod draft;
pub mod editors;
mod state;

#[cfg(test)]
mod tests;

pub use draft::{
    Choice, ConflictField, Draft, FieldDesc, FieldKind, FieldValue, FormKind, RawConflict,
    SaveError,
};
pub use editors::{Charset, EditCode, EditKey, Outcome, Picker, TextState};
pub use state::{Conflict, Dialog, Editing, NewName, Row, Side};

use std::collections::BTreeMap;

/// An open form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    pub package: String,
    /// The file as it was read when the form opened (the base of a conflict).
    pub base: Draft,
    /// The file with the form's edits.
    pub draft: Draft,
    /// Derived from `draft`: the fields shown.
    pub fields: Vec<FieldDesc>,
    /// Derived from `draft`: the validator's problems per field path ("" for the file as a whole).
    pub problems: BTreeMap<String, String>,
    /// Values typed that are not of their field's kind (a port of 300000, `12a`): kept here
    /// with the reason, never in the draft, so the row shows what was typed.
    pub pending: BTreeMap<String, (FieldValue, String)>,
    /// Derived: the visible lines (section headers, fields, list items).
    pub rows: Vec<Row>,
    /// Index into `rows`.
    pub focus: usize,
    /// First row drawn.
    pub scroll: usize,
    pub editing: Option<Editing>,
    pub dialog: Option<Dialog>,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    /// The edit session that already has its undo snapshot (typing into one field is one step).
    session_open: bool,
    /// The reload code saw the file change on disk since the form read it.
    pub changed_on_disk: bool,
    /// A save is being performed.
    pub saving: bool,
    /// Close the form once the save succeeds (save from the leave prompt).
    pub leave_after_save: bool,
}

/// What undo restores.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    draft: Draft,
    pending: BTreeMap<String, (FieldValue, String)>,
    kind: FormKind,
    focus: usize,
}

impl Form {
    pub fn new(package: String, kind: FormKind, draft: Draft) -> Form {
        let mut form = Form {
            kind,
            package,
            base: draft.clone(),
            draft,
            fields: Vec::new(),
            problems: BTreeMap::new(),
            pending: BTreeMap::new(),
            rows: Vec::new(),
            focus: 0,
            scroll: 0,
            editing: None,
            dialog: None,
            undo: Vec::new(),
            redo: Vec::new(),
            session_open: false,
            changed_on_disk: false,
            saving: false,
            leave_after_save: false,
        };
        form.refresh();
        form.focus = form
            .rows
            .iter()
            .position(|r| r.field().is_some())
            .unwrap_or(0);
        form
    }

    /// Re-derives fields, problems and rows from the draft (after every change).
    pub fn refresh(&mut self) {
        self.fields = self.draft.fields(&self.kind);
        for f in &mut self.fields {
            if let Some((typed, _)) = self.pending.get(&f.path) {
                f.value = typed.clone();
            }
        }
        self.problems = self.draft.problems();
        self.rows = state::rows(&self.fields);
        self.focus = self.focus.min(self.rows.len().saturating_sub(1));
    }

    /// Unsaved changes.
    pub fn dirty(&self) -> bool {
        self.draft.changed()
    }

    /// The title: `pds · metadata` or `pds · service pds`.
    pub fn title(&self) -> String {
        match &self.kind {
            FormKind::Metadata => format!("{} · metadata", self.package),
            FormKind::Service(s) if s.is_empty() => format!("{} · no services", self.package),
            FormKind::Service(s) => format!("{} · service {s}", self.package),
        }
    }

    /// The field of the focused row, and the list item when the row is one.
    pub fn focused(&self) -> Option<(usize, Option<usize>)> {
        match self.rows.get(self.focus)? {
            Row::Field(f) => Some((*f, None)),
            Row::Item { field, index } => Some((*field, Some(*index))),
            Row::Section(_) | Row::Empty => None,
        }
    }

    /// The option section the focused row belongs to (service form).
    pub fn focused_section(&self) -> Option<String> {
        self.rows[..=self.focus.min(self.rows.len().saturating_sub(1))]
            .iter()
            .rev()
            .find_map(|r| match r {
                Row::Section(s) => Some(s.clone()),
                _ => None,
            })
            .filter(|_| !self.rows.is_empty())
    }

    /// The validator's problem with field `i`: about its own path, or about something below
    /// it (`license[0]`) that no other row shows (a port has its own row under `ports`).
    pub fn problem_of(&self, i: usize) -> Option<&str> {
        let path = &self.fields.get(i)?.path;
        if let Some((_, why)) = self.pending.get(path) {
            return Some(why);
        }
        self.problems
            .iter()
            .find(|(p, _)| self.owner_of(p) == Some(i))
            .map(|(_, m)| m.as_str())
    }

    /// The field whose row shows a problem about `problem_path`: the field of that path, else
    /// the deepest field holding it.
    fn owner_of(&self, problem_path: &str) -> Option<usize> {
        let holds = |f: &FieldDesc| {
            problem_path == f.path
                || problem_path
                    .strip_prefix(f.path.as_str())
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
        };
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| holds(f))
            .max_by_key(|(_, f)| f.path.len())
            .map(|(i, _)| i)
    }

    /// Problems that no row shows (a rule about the file, or a field the form does not list).
    pub fn other_problems(&self) -> Vec<(&str, &str)> {
        self.problems
            .iter()
            .filter(|(p, _)| self.owner_of(p).is_none())
            .map(|(p, m)| (p.as_str(), m.as_str()))
            .collect()
    }

    /// Anything that keeps a save from happening.
    pub fn invalid(&self) -> bool {
        !self.problems.is_empty() || !self.pending.is_empty()
    }

    /// The row of the first field with a problem.
    pub fn first_invalid_row(&self) -> Option<usize> {
        let field = (0..self.fields.len()).find(|&i| self.problem_of(i).is_some())?;
        self.rows.iter().position(|r| *r == Row::Field(field))
    }

    /// Before a change: remember the state for undo (once per edit session).
    pub fn checkpoint(&mut self, session: bool) {
        if session && self.session_open {
            return;
        }
        self.undo.push(Snapshot {
            draft: self.draft.clone(),
            pending: self.pending.clone(),
            kind: self.kind.clone(),
            focus: self.focus,
        });
        self.redo.clear();
        self.session_open = session;
    }

    /// Ends an edit session: the next keystroke starts a new undo step.
    pub fn close_session(&mut self) {
        self.session_open = false;
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn undo(&mut self) -> bool {
        self.step(true)
    }

    pub fn redo(&mut self) -> bool {
        self.step(false)
    }

    fn step(&mut self, back: bool) -> bool {
        self.editing = None;
        self.session_open = false;
        let (from, to) = if back {
            (&mut self.undo, &mut self.redo)
        } else {
            (&mut self.redo, &mut self.undo)
        };
        let Some(snap) = from.pop() else {
            return false;
        };
        to.push(Snapshot {
            draft: std::mem::replace(&mut self.draft, snap.draft),
            pending: std::mem::replace(&mut self.pending, snap.pending),
            kind: std::mem::replace(&mut self.kind, snap.kind),
            focus: self.focus,
        });
        self.focus = snap.focus;
        self.refresh();
        true
    }

    /// Sets field `i` (or item `item` of the list field `i`) and re-validates. A value not of
    /// the field's kind stays pending with the reason.
    pub fn set_value(&mut self, i: usize, item: Option<usize>, value: FieldValue) {
        let Some(f) = self.fields.get(i) else { return };
        let (path, kind) = (f.path.clone(), f.kind.clone());
        let value = match (item, &f.value) {
            (Some(n), FieldValue::List(items)) => {
                let mut items = items.clone();
                if let (Some(slot), FieldValue::Text(t)) = (items.get_mut(n), &value) {
                    slot.clone_from(t);
                }
                FieldValue::List(items)
            }
            _ => value,
        };
        match self.draft.set(&path, &kind, &value) {
            Ok(()) => {
                self.pending.remove(&path);
            }
            Err(why) => {
                self.pending.insert(path, (value, why));
            }
        }
        self.refresh();
    }

    /// After a save: what was written is the new base.
    pub fn saved(&mut self, written: Draft) {
        self.pending.clear();
        self.base = written.clone();
        self.draft = written;
        self.saving = false;
        self.changed_on_disk = false;
        self.refresh();
    }
}
