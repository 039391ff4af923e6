//! The catalog: model, loading with validation, and format-preserving edits.

pub mod bump;
pub mod diagnostic;
pub mod edit;
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
pub use load::{LoadError, Loaded, load};
pub use model::*;
