//! Editable fields of one `package.toml`: what the metadata and service forms show, and what
//! `atwb set` changes. The non-UI core both share:
//!
//! - a **schema** ([`schema_for`]): every editable field of the file with its [`FieldPath`],
//!   [`FieldKind`], whether it is required, its current value and a line of documentation;
//! - **validation** ([`validate_field`], [`validate_all`]) by the catalog validator itself
//!   (`validate::check` on the edited text), so the forms show the same rules and messages as
//!   `atwb check`; a value that cannot even be read for its kind is refused first
//!   ([`parse_input`], [`check_kind`]);
//! - **edits** ([`Change`], [`Structural`]) applied to a [`Draft`]: set or unset a field, add or
//!   remove a service, an option, a map entry, insert/remove/move list items;
//! - a **writer** ([`Draft::save`]): format-preserving (toml_edit: comments, key order and
//!   untouched lines stay byte-identical), atomic (`edit::Transaction`: temp file in the same
//!   directory, fsync, rename, fsync of the directory), refusing invalid results and refusing to
//!   overwrite a file that changed on disk since the draft was read ([`Conflict`], resolved with
//!   [`Resolution`]).
//!
//! The draft holds the file as toml_edit read it plus the changes made since, so a form can
//! show each field's value, validate as the user types, undo and redo, and save once.

mod draft;
mod kind;
mod ops;
mod path;
mod save;
mod schema;
pub mod spdx;
mod value;

#[cfg(test)]
mod tests;

pub use crate::catalog::validate::secrets::looks_like_secret;
pub use draft::{Change, Context, Draft, validate_all, validate_field};
pub use kind::{Choice, FieldKind, check_kind, parse_input};
pub use ops::Structural;
pub use path::FieldPath;
pub use save::{Conflict, FieldChange, FieldConflict, Resolution, SaveError, Saved, pending};
pub use schema::{Field, Group, OPTION_TYPES, license_kind, option_value_kind, schema_for};
pub use value::{diff_values, render_value};
