//! The catalog: model, loading with validation, and format-preserving edits.

pub mod edit;
pub mod load;
pub mod model;
pub mod validate;

pub use load::{load, LoadError};
pub use model::*;
