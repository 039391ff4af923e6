//! The catalog: model, loading with validation, and format-preserving edits.

pub mod commands;
pub mod edit;
pub mod load;
pub mod model;
pub mod validate;

pub use load::{Diagnostic, LoadError, Loaded, load};
pub use model::*;
