//! Saving a [`Draft`]: validated first (invalid values never reach the disk), refused with a
//! [`Conflict`] when the file changed on disk since the draft was read, then written as a
//! one-file `edit::Transaction` (temp file beside it, fsync, a last check that the file is
//! still what the draft was based on, rename, fsync of the directory).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::draft::{Draft, validate_all};
use super::path::FieldPath;
use super::value::{diff_values, lookup};
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::edit::{EditError, Transaction};

/// One field a save changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: FieldPath,
    /// None: the field was not set before.
    pub old: Option<toml::Value>,
    /// None: the field was removed.
    pub new: Option<toml::Value>,
}

/// What a save wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    pub file: PathBuf,
    /// Every leaf field whose value changed (empty when there was nothing to write).
    pub changes: Vec<FieldChange>,
}

/// One field that differs between the base, the draft and the file on disk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldConflict {
    pub field: FieldPath,
    /// What the draft was based on.
    pub base: Option<toml::Value>,
    /// The draft's value.
    pub ours: Option<toml::Value>,
    /// The value in the file on disk now.
    pub theirs: Option<toml::Value>,
}

impl FieldConflict {
    /// Both sides changed the field, to different values: a choice must be made.
    pub fn is_both_changed(&self) -> bool {
        self.ours != self.base && self.theirs != self.base && self.ours != self.theirs
    }
}

/// The file changed on disk since the draft was read: nothing was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub file: PathBuf,
    /// Every field changed by the draft or on disk, with the three values.
    pub fields: Vec<FieldConflict>,
    /// The bytes on disk when the conflict was found.
    #[serde(skip)]
    pub disk: Vec<u8>,
}

/// How to go on after a [`Conflict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// The file on disk with the draft's changes applied over it (ours win where both changed).
    KeepMine,
    /// The file on disk with the draft's changes to fields the disk did not change (the disk
    /// wins where both changed).
    TakeDisk,
    /// The file on disk, the draft's changes dropped.
    Reopen,
}

/// Why a save wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The draft breaks catalog rules; each diagnostic says where and how to fix it.
    #[error("{} problem(s); nothing written: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Diagnostic>),
    #[error("{} changed on disk since it was read; nothing written", .0.file.display())]
    Conflict(Box<Conflict>),
    #[error(transparent)]
    Io(#[from] EditError),
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn parse_plain(bytes: &[u8]) -> toml::Table {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| toml::from_str(t).ok())
        .unwrap_or_default()
}

impl Draft {
    /// Write the draft: refused with every diagnostic when it is invalid, with a [`Conflict`]
    /// when the file on disk is not what the draft is based on; otherwise written atomically,
    /// and the draft is then based on what was written.
    pub fn save(&mut self) -> Result<Saved, SaveError> {
        let text = self.text();
        if text.as_bytes() == self.base.as_slice() {
            return Ok(Saved {
                file: self.path.clone(),
                changes: Vec::new(),
            });
        }
        let problems = validate_all(self);
        if !problems.is_empty() {
            return Err(SaveError::Invalid(problems));
        }
        self.check_disk()?;
        let mut tx = Transaction::new();
        tx.replace(&self.path, text.clone().into_bytes(), digest(&self.base));
        match tx.commit() {
            Err(EditError::ChangedOnDisk { .. }) => {
                // Changed between the check and the rename: the same answer as before.
                self.check_disk()?;
                return Err(SaveError::Io(EditError::ChangedOnDisk {
                    path: self.path.clone(),
                }));
            }
            other => other?,
        }
        let changes = diff_values(&parse_plain(&self.base), &parse_plain(text.as_bytes()))
            .into_iter()
            .map(|(field, old, new)| FieldChange { field, old, new })
            .collect();
        self.rebase_on_saved(text.into_bytes());
        Ok(Saved {
            file: self.path.clone(),
            changes,
        })
    }

    /// Whether the file on disk is still what the draft is based on; a [`Conflict`] when not
    /// (a form calls this when the file watcher reports a change).
    pub fn check_disk(&self) -> Result<(), SaveError> {
        let disk = std::fs::read(&self.path).map_err(|source| EditError::Read {
            path: self.path.clone(),
            source,
        })?;
        if disk == self.base {
            return Ok(());
        }
        Err(SaveError::Conflict(Box::new(self.conflict_with(disk))))
    }

    /// The three-way view of the draft against `disk`.
    fn conflict_with(&self, disk: Vec<u8>) -> Conflict {
        let base = parse_plain(&self.base);
        let ours = self.plain();
        let theirs = parse_plain(&disk);
        let paths: BTreeSet<FieldPath> = diff_values(&base, &ours)
            .into_iter()
            .chain(diff_values(&base, &theirs))
            .map(|(p, _, _)| p)
            .collect();
        let fields = paths
            .into_iter()
            .map(|field| FieldConflict {
                base: lookup(&base, &field).cloned(),
                ours: lookup(&ours, &field).cloned(),
                theirs: lookup(&theirs, &field).cloned(),
                field,
            })
            .collect();
        Conflict {
            file: self.path.clone(),
            fields,
            disk,
        }
    }

    /// A new draft based on the conflict's disk bytes, as `resolution` says. Refused when a
    /// change of the draft no longer applies to the disk's file (its service was removed):
    /// then re-open.
    pub fn resolve(
        &self,
        conflict: &Conflict,
        resolution: Resolution,
    ) -> Result<Draft, Diagnostic> {
        let disk_wins: Vec<FieldPath> = match resolution {
            Resolution::Reopen => {
                return Draft::from_bytes(&self.path, conflict.disk.clone(), self.context.clone());
            }
            Resolution::KeepMine => Vec::new(),
            Resolution::TakeDisk => conflict
                .fields
                .iter()
                .filter(|f| f.is_both_changed())
                .map(|f| f.field.clone())
                .collect(),
        };
        self.resolve_per_field(conflict, &disk_wins)
    }

    /// A choice per field: the conflict's disk file with every change of the draft replayed
    /// over it, except the changes touching a field in `disk_wins` (or a table holding one),
    /// where the disk's value stays. `[]` is [`Resolution::KeepMine`].
    pub fn resolve_per_field(
        &self,
        conflict: &Conflict,
        disk_wins: &[FieldPath],
    ) -> Result<Draft, Diagnostic> {
        let mut next = Draft::from_bytes(&self.path, conflict.disk.clone(), self.context.clone())?;
        for change in &self.changes {
            let path = change.path();
            let overlaps = disk_wins
                .iter()
                .any(|f| f.starts_with(&path) || path.starts_with(f));
            if !overlaps {
                next.apply(change.clone())?;
            }
        }
        Ok(next)
    }

    fn rebase_on_saved(&mut self, bytes: Vec<u8>) {
        self.base = bytes;
        self.base_doc = self.doc.clone();
        self.changes.clear();
    }
}

/// The changes a draft holds, for a caller that wants to show them before saving.
pub fn pending(draft: &Draft) -> Vec<FieldChange> {
    diff_values(&parse_plain(draft.base_bytes()), &draft.plain())
        .into_iter()
        .map(|(field, old, new)| FieldChange { field, old, new })
        .collect()
}
