//! Loading `catalog/pkgs/<org>/<name>/package.toml` files into a [`Catalog`], collecting every
//! problem as a [`Diagnostic`] instead of stopping at the first.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::Catalog;

/// One problem in one file, pointing at the exact field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is about the file as a whole.
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `source.rev` or `services.pds.ports.http`.
    pub field: String,
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file.display(), self.line, self.column, self.field, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// The loaded catalog (valid packages only) plus every problem found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub catalog: Catalog,
    pub diagnostics: Vec<Diagnostic>,
}

/// A failure that prevents loading at all (the directory is missing or unreadable).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("catalog directory {0} has no pkgs/ folder; a catalog is laid out as pkgs/<org>/<name>/package.toml")]
    NoPkgsDir(PathBuf),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Load and validate the catalog at `root` (the `catalog/` directory).
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    let _ = root;
    unimplemented!("loader helper implements this")
}
