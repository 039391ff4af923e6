//! TOML syntax errors, every one the parser can recover past, in file order.

use std::ops::Range;

use super::depth::short_field;
use super::doc::Doc;

/// Stack for the recovering parse. After an error it resumes at the next line that starts a
/// statement, which may lie inside what was a multi-line string, so the nesting limit counted
/// before parsing does not bound it; the parser's own limit (256 levels) does, and this much
/// stack holds that many even in a debug build. Broken files are rare, so one thread each is
/// cheap.
const RECOVERY_STACK: usize = 4 << 20;

/// One syntax error, owned, so it can leave the parsing thread.
struct SyntaxError {
    span: Range<usize>,
    field: Option<String>,
    kind: Kind,
}

enum Kind {
    Duplicate {
        what: &'static str,
        first: usize,
    },
    MissingValue,
    /// The parser's own nesting limit, reached while recovering.
    TooDeep,
    Other(String),
}

/// Report the syntax errors of `text`; `first` is the error the strict parse stopped at, reported
/// alone if the recovering parse cannot run.
pub(super) fn report(doc: &mut Doc<'_>, text: &str, first: &toml_spanner::Error) {
    let recovered = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("toml-recover".into())
            .stack_size(RECOVERY_STACK)
            .spawn_scoped(s, || all_errors(text))
            .ok()
            .and_then(|h| h.join().ok())
    });
    let mut errors = recovered.unwrap_or_else(|| vec![owned(first, text)]);
    errors.sort_by_key(|e| e.span.start);
    errors.dedup_by_key(|e| e.span.clone());
    for e in errors {
        let field = short_field(e.field.unwrap_or_else(|| "toml".into()));
        match e.kind {
            Kind::Duplicate { what, first } => {
                let (line, _) = doc.position(first);
                doc.report(
                    e.span,
                    field.clone(),
                    format!("duplicate {what} `{field}`: it is already defined on line {line}"),
                    "keep only one of them",
                );
            }
            Kind::MissingValue => doc.report(
                e.span,
                field,
                "TOML syntax error: the value is missing",
                "write the value after `=`: strings in quotes, numbers and true/false bare",
            ),
            Kind::TooDeep => doc.report(
                e.span,
                field,
                "arrays and inline tables nested too deep for the parser",
                "a package needs two or three levels here at most (a list of lists): flatten this value",
            ),
            Kind::Other(message) => doc.report(
                e.span,
                field,
                format!("TOML syntax error: {message}"),
                "fix the TOML syntax here (strings need quotes, arrays a closing `]`, tables a closing `}`)",
            ),
        }
    }
}

fn all_errors(text: &str) -> Vec<SyntaxError> {
    let arena = toml_spanner::Arena::new();
    let parsed = toml_spanner::parse_recoverable(text, &arena);
    parsed.errors().iter().map(|e| owned(e, text)).collect()
}

fn owned(e: &toml_spanner::Error, text: &str) -> SyntaxError {
    let field = e.path().map(std::string::ToString::to_string);
    let kind = match e.kind() {
        toml_spanner::ErrorKind::DuplicateKey { first } => Kind::Duplicate {
            what: "key",
            first: first.start as usize,
        },
        toml_spanner::ErrorKind::DuplicateTable { first, .. } => Kind::Duplicate {
            what: "table",
            first: first.start as usize,
        },
        toml_spanner::ErrorKind::Unexpected('\n') | toml_spanner::ErrorKind::UnexpectedEof
            if field.is_some() =>
        {
            Kind::MissingValue
        }
        toml_spanner::ErrorKind::OutOfRange { ty, .. } if ty.contains("recursion depth") => {
            Kind::TooDeep
        }
        _ => Kind::Other(e.message(text)),
    };
    SyntaxError {
        span: e.span().range(),
        field,
        kind,
    }
}
