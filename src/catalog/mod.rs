//! The catalog: model, loading with validation, and format-preserving edits.

pub mod diagnostic;
pub mod edit;
pub mod fields;
pub mod load;
pub mod model;
pub mod position;
pub mod toolchains;
pub mod validate;

pub use diagnostic::Diagnostic;
pub use load::{LoadError, Loaded, load};
pub use model::*;
