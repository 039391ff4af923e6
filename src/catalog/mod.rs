//! The catalog: model, loading with validation, and format-preserving edits.

pub mod bump;
pub mod diagnostic;
pub mod edit;
pub mod fields;

pub mod invalid;

pub mod git_cache;
pub mod git_http;
pub mod load;
pub mod model;
pub mod position;
pub mod rehash;
pub mod tags;
pub mod toolchains;
pub mod validate;

pub use diagnostic::Diagnostic;
pub use invalid::InvalidPackage;
pub use load::{LoadError, Loaded, Reloaded, load, load_package, replaces_exactly};
pub use model::*;
