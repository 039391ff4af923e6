//! One problem in one `package.toml`, as loading and validation report it and `atwb check`
//! prints it.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

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
    /// How to fix it. Every diagnostic the loader makes has one ([`Diagnostic::new`] requires it);
    /// the type keeps `Option` for the JSON output's shape.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `(line, column)` of `file`; `(0, 0)` when it is about the file as a whole.
    pub fn new(
        file: PathBuf,
        (line, column): (usize, usize),
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file,
            line,
            column,
            field: field.into(),
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// `file:line:col: field: message`, then `  hint: ...` on its own line, with the file shown
    /// as `file` (e.g. relative to the current directory, so terminals can jump to it).
    pub fn display_with_file<'a>(&'a self, file: &'a dyn fmt::Display) -> impl fmt::Display + 'a {
        DiagnosticAt { d: self, file }
    }
}

struct DiagnosticAt<'a> {
    d: &'a Diagnostic,
    file: &'a dyn fmt::Display,
}

impl fmt::Display for DiagnosticAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, d.line, d.column, d.field, d.message
        )?;
        if let Some(h) = &d.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with_file(&self.file.display()).fmt(f)
    }
}
