//! Why a nix run failed, in one class with the first relevant line, from the state its log built
//! and how the process ended. The wordings matched are those of Nix 2.8, 2.26 and 2.34 (recorded
//! in `tests/fixtures/logs`, `nix-2.26/`, `nix-2.34/`); all matching is done on ANSI-stripped
//! text.

use std::io;

use serde::{Deserialize, Serialize};

use super::state::{
    BuildState, Derivation, Diagnostic, DrvFailure, FailureKind, drv_failure, drv_name,
    failed_drv_in,
};

/// Log lines of the failed derivation kept in a [`Failure`].
pub const LAST_LINES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ErrorClass {
    /// A fixed-output derivation produced another hash than declared: `got` is the fix.
    HashMismatch {
        drv: String,
        specified: String,
        got: String,
        /// The message came from nix itself (see `state::Diagnostic::from_nix`); otherwise
        /// anybody, the builder included, could have written `got:`, and a fix written from it
        /// must say so.
        #[serde(default)]
        confirmed: bool,
    },
    /// The Nix expression failed to evaluate.
    EvalError {
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        line: Option<u32>,
        #[serde(default)]
        column: Option<u32>,
        message: String,
        /// No position, but the innermost trace frame says which derivation attribute was
        /// being evaluated: `FILE:L:C (while evaluating attribute 'args' of derivation 'x')`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evaluating: Option<String>,
    },
    /// The flake or an attribute set lacks the attribute asked for.
    MissingAttribute {
        attribute: String,
    },
    /// `drv` could not be built because `dependency` (when known) failed.
    DependencyFailed {
        drv: String,
        #[serde(default)]
        dependency: Option<String>,
        #[serde(default)]
        exit_code: Option<i32>,
        #[serde(default)]
        last_lines: Vec<String>,
    },
    /// A builder exited non-zero.
    BuilderFailed {
        drv: String,
        #[serde(default)]
        exit_code: Option<i32>,
        #[serde(default)]
        last_lines: Vec<String>,
    },
    /// A check's builder (smoke or VM test) exited non-zero.
    TestFailed {
        drv: String,
        #[serde(default)]
        exit_code: Option<i32>,
        #[serde(default)]
        last_lines: Vec<String>,
    },
    /// The job's time limit, or nix's own `--timeout` / `--max-silent-time`.
    Timeout {
        #[serde(default)]
        drv: Option<String>,
    },
    Cancelled,
    /// Something could not be downloaded: a flake input (nixpkgs on a machine without network),
    /// a source, or a substitute. `url` is what nix named, when it did.
    FetchFailed {
        #[serde(default)]
        url: Option<String>,
    },
    /// `nix` could not be found.
    NixNotInstalled,
    Other,
}

impl ErrorClass {
    /// The snake_case name used in JSON and the status store.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorClass::HashMismatch { .. } => "hash_mismatch",
            ErrorClass::EvalError { .. } => "eval_error",
            ErrorClass::MissingAttribute { .. } => "missing_attribute",
            ErrorClass::DependencyFailed { .. } => "dependency_failed",
            ErrorClass::BuilderFailed { .. } => "builder_failed",
            ErrorClass::TestFailed { .. } => "test_failed",
            ErrorClass::Timeout { .. } => "timeout",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::FetchFailed { .. } => "fetch_failed",
            ErrorClass::NixNotInstalled => "nix_not_installed",
            ErrorClass::Other => "other",
        }
    }

    /// Words for people ("hash mismatch").
    pub fn label(&self) -> &'static str {
        match self {
            ErrorClass::HashMismatch { .. } => "hash mismatch",
            ErrorClass::EvalError { .. } => "evaluation error",
            ErrorClass::MissingAttribute { .. } => "missing attribute",
            ErrorClass::DependencyFailed { .. } => "dependency failed",
            ErrorClass::BuilderFailed { .. } => "builder failed",
            ErrorClass::TestFailed { .. } => "test failed",
            ErrorClass::Timeout { .. } => "timed out",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::FetchFailed { .. } => "could not fetch",
            ErrorClass::NixNotInstalled => "nix not installed",
            ErrorClass::Other => "failed",
        }
    }
}

/// A classified failure: the class (with its fields) and the first relevant line, ANSI stripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    #[serde(flatten)]
    pub class: ErrorClass,
    pub first_line: String,
}

impl Failure {
    /// For a `nix` that could not be started.
    pub fn spawn_failed(kind: io::ErrorKind) -> Failure {
        if kind == io::ErrorKind::NotFound {
            Failure {
                class: ErrorClass::NixNotInstalled,
                first_line: "nix not found on PATH; install Nix (2.8 or later) or fix PATH".into(),
            }
        } else {
            Failure {
                class: ErrorClass::Other,
                first_line: format!("could not start nix: {kind}"),
            }
        }
    }
}

/// How the nix process ended, as the caller saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exit code; `None` when killed by a signal, or unknown (a log read from a file).
    pub code: Option<i32>,
    /// The caller cancelled the job.
    pub cancelled: bool,
    /// The caller stopped the job at its time limit.
    pub timed_out: bool,
    /// nix could not be started.
    pub spawn_error: Option<io::ErrorKind>,
    /// The attribute built (`checks.x86_64-linux.foo-smoke`): a check's own failure is a test
    /// failure.
    pub attr: Option<String>,
}

impl ExitInfo {
    /// A log read from a file: nothing known but the log itself.
    pub fn from_log() -> ExitInfo {
        ExitInfo::default()
    }

    pub fn exited(code: i32) -> ExitInfo {
        ExitInfo {
            code: Some(code),
            ..ExitInfo::default()
        }
    }
}

/// Classify a finished run; `None` when it succeeded. With an unknown exit code (a saved log),
/// any error message means failure.
pub fn classify(state: &BuildState, exit: &ExitInfo) -> Option<Failure> {
    if let Some(kind) = exit.spawn_error {
        return Some(Failure::spawn_failed(kind));
    }
    if exit.timed_out {
        let drv = building(state).map(|d| d.path.clone());
        let first_line = match &drv {
            Some(d) => format!("timed out while building {}", drv_name(d)),
            None => "timed out".to_string(),
        };
        return Some(Failure {
            class: ErrorClass::Timeout { drv },
            first_line,
        });
    }
    if exit.cancelled || state.interrupted() {
        let first_line = state
            .errors()
            .iter()
            .find(|e| e.plain.contains("interrupted by the user"))
            .map_or("cancelled".to_string(), |e| e.first_line().to_string());
        return Some(Failure {
            class: ErrorClass::Cancelled,
            first_line,
        });
    }
    if exit.code == Some(0) {
        return None;
    }
    if let Some(f) = from_errors(state, exit) {
        return Some(f);
    }
    // No error message. A build still running when the log ends means nix was killed, or the
    // log was cut: not a success, whatever the exit code says (it is unknown for saved logs).
    if let Some(d) = building(state) {
        let first_line = format!(
            "the log ends while {} was building: nix was killed or the log is incomplete",
            d.name
        );
        return Some(Failure {
            class: ErrorClass::Other,
            first_line,
        });
    }
    // A failure with no error message: say what is known.
    let code = exit.code?;
    let first_line = state
        .plain_tail()
        .last()
        .map(|l| super::ansi::strip(l).into_owned())
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| format!("nix exited with code {code} without an error message"));
    Some(Failure {
        class: ErrorClass::Other,
        first_line,
    })
}

/// `unable to download 'URL': ...` (nix's file transfer) and `unable to fetch` / `cannot fetch`:
/// the network or the remote, not the package, is what failed.
fn fetch_failed(e: &Diagnostic) -> Option<Failure> {
    let text: &str = &e.plain;
    let at = [
        "unable to download '",
        "error: unable to fetch",
        "cannot fetch '",
    ]
    .iter()
    .find_map(|p| text.find(p).map(|i| (i, *p)))?;
    let url = text[at.0 + at.1.len()..]
        .split('\'')
        .next()
        .filter(|u| at.1.ends_with('\'') && !u.is_empty())
        .map(str::to_string);
    Some(Failure {
        class: ErrorClass::FetchFailed { url },
        first_line: headline(e),
    })
}

/// The errors to classify from: nix's own when there are any. A builder's forwarded messages
/// come first in the log (they are printed while it runs) and could otherwise decide the class
/// or, for a hash mismatch, the hash the fix writes. A log with no error of nix's own (the
/// plain format, or an older nix) is read whole.
fn trusted_errors(state: &BuildState) -> Vec<&Diagnostic> {
    let all = state.errors();
    if all.iter().any(|e| e.from_nix) {
        all.iter().filter(|e| e.from_nix).collect()
    } else {
        all.iter().collect()
    }
}

fn from_errors(state: &BuildState, exit: &ExitInfo) -> Option<Failure> {
    let errors = trusted_errors(state);
    let first = *errors.first()?;
    if let Some(f) = errors.iter().find_map(|e| hash_mismatch(e)) {
        return Some(f);
    }
    if let Some(f) = errors.iter().find_map(|e| missing_attribute(e)) {
        return Some(f);
    }
    if let Some(f) = errors.iter().find_map(|e| fetch_failed(e)) {
        return Some(f);
    }
    if let Some(e) = errors.iter().find(|e| eval::is_eval_error(e)) {
        return Some(eval_error(e));
    }
    let failures: Vec<(&Diagnostic, DrvFailure<'_>)> = errors
        .iter()
        .filter_map(|e| Some((*e, drv_failure(&e.plain)?)))
        .collect();
    let find = |want: fn(&FailureKind) -> bool| failures.iter().find(|(_, f)| want(&f.kind));
    if let Some((e, f)) = find(|k| *k == FailureKind::Timeout) {
        return Some(Failure {
            class: ErrorClass::Timeout {
                drv: Some(f.drv.to_string()),
            },
            first_line: headline(e),
        });
    }
    if let Some(e) = errors.iter().find(|e| e.from_nix && is_bare_timeout(e)) {
        let drv = state
            .with_status(super::state::DrvStatus::Failed)
            .next()
            .or_else(|| building(state))
            .map(|d| d.path.clone());
        return Some(Failure {
            class: ErrorClass::Timeout { drv },
            first_line: headline(e),
        });
    }
    // The outermost dependent (nix reports them inner first): the target the user asked for.
    let dependent = failures
        .iter()
        .rev()
        .find(|(_, f)| f.kind == FailureKind::Dependencies);
    if let Some((e, f)) = find(|k| matches!(k, FailureKind::Builder { .. })) {
        let drv = f.drv.to_string();
        let (exit_code, last_lines) = drv_details(state, &drv);
        let exit_code = exit_code.or(match f.kind {
            FailureKind::Builder { exit_code } => exit_code,
            _ => None,
        });
        let dependent = dependent.map(|(_, d)| d.drv).filter(|d| *d != drv);
        let class = if is_test(&drv, dependent.is_none(), exit) {
            ErrorClass::TestFailed {
                drv,
                exit_code,
                last_lines,
            }
        } else if let Some(dependent) = dependent {
            ErrorClass::DependencyFailed {
                drv: dependent.to_string(),
                dependency: Some(drv),
                exit_code,
                last_lines,
            }
        } else {
            ErrorClass::BuilderFailed {
                drv,
                exit_code,
                last_lines,
            }
        };
        return Some(Failure {
            class,
            first_line: headline(e),
        });
    }
    if let Some((e, f)) = dependent {
        return Some(Failure {
            class: ErrorClass::DependencyFailed {
                drv: f.drv.to_string(),
                dependency: None,
                exit_code: None,
                last_lines: Vec::new(),
            },
            first_line: headline(e),
        });
    }
    // Nix's own error that names no derivation, before any was built: `throw` and friends
    // carry no position in nix's JSON.
    if first.from_nix && state.derivations().is_empty() {
        return Some(eval_error(first));
    }
    Some(Failure {
        class: ErrorClass::Other,
        first_line: first.first_line().to_string(),
    })
}

/// `error: hash mismatch in fixed-output derivation 'D':` + `specified: H` + `got: H`.
fn hash_mismatch(e: &Diagnostic) -> Option<Failure> {
    let first = e.first_line();
    if !first.contains("hash mismatch in fixed-output derivation") {
        return None;
    }
    let field = |name: &str| {
        e.plain
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
    };
    Some(Failure {
        class: ErrorClass::HashMismatch {
            drv: failed_drv_in(first)?.to_string(),
            specified: field("specified:")?,
            got: field("got:")?,
            confirmed: e.from_nix,
        },
        first_line: first.to_string(),
    })
}

/// `flake 'F' does not provide attribute 'A', ...` or `attribute 'A' missing`.
fn missing_attribute(e: &Diagnostic) -> Option<Failure> {
    let first = eval::message_line(e);
    let quoted_after = |marker: &str| {
        let rest = &first[first.find(marker)? + marker.len()..];
        let rest = rest.strip_prefix('\'')?;
        Some(rest[..rest.find('\'')?].to_string())
    };
    let attribute = if first.contains("does not provide attribute") {
        quoted_after("does not provide attribute ")?
    } else if first.contains("' missing") {
        quoted_after("attribute ")?
    } else {
        return None;
    };
    Some(Failure {
        class: ErrorClass::MissingAttribute { attribute },
        first_line: first.into(),
    })
}

fn eval_error(e: &Diagnostic) -> Failure {
    let line = eval::message_line(e);
    let message = line
        .strip_prefix("error:")
        .unwrap_or(line)
        .trim()
        .to_string();
    let (file, line_no, column) = match (&e.file, e.line, e.column) {
        (Some(f), Some(l), Some(c)) => (Some(f.clone()), Some(l), Some(c)),
        _ => eval::position_in_text(&e.plain)
            .map_or((None, None, None), |(f, l, c)| (Some(f), Some(l), Some(c))),
    };
    let first_line = match (&file, line_no, column) {
        (Some(f), Some(l), Some(c)) => format!("error: {message}: {f}:{l}:{c}"),
        _ => format!("error: {message}"),
    };
    let evaluating = file
        .is_none()
        .then(|| eval::demand_frame(&e.plain))
        .flatten()
        .map(|(at, words)| format!("{at} ({words})"));
    Failure {
        class: ErrorClass::EvalError {
            file,
            line: line_no,
            column,
            message,
            evaluating,
        },
        first_line,
    }
}

/// Nix 2.34's `--timeout` error, which names no derivation: `error: timed out after N seconds`
/// (2.8 and 2.26 say `building of 'D!out' from .drv file timed out after N seconds`).
fn is_bare_timeout(e: &Diagnostic) -> bool {
    let line = eval::message_line(e);
    let message = line.strip_prefix("error:").unwrap_or(line).trim_start();
    message.starts_with("timed out after ")
}

/// The line that says what went wrong (the message line when nix printed the trace first, as
/// newer Nix does for a download that failed during evaluation), with its `Reason:` line when
/// nix put the reason on a line of its own (nix >= 2.25: `error: Cannot build 'D'.` /
/// `Reason: builder failed ...`).
fn headline(e: &Diagnostic) -> String {
    let first = eval::message_line(e);
    match e
        .plain
        .lines()
        .find_map(|l| l.trim().strip_prefix("Reason: "))
    {
        Some(reason) if first.contains("Cannot build '") => format!("{first} {reason}"),
        _ => first.to_string(),
    }
}

/// The exit code and last log lines (ANSI stripped) the state kept for `drv`.
fn drv_details(state: &BuildState, drv: &str) -> (Option<i32>, Vec<String>) {
    match state.derivation(drv) {
        Some(d) => (d.exit_code, last_lines(d)),
        None => (None, Vec::new()),
    }
}

/// The last [`LAST_LINES`] log lines of `d`, ANSI stripped.
pub fn last_lines(d: &Derivation) -> Vec<String> {
    let n = d.tail().len();
    d.tail()
        .skip(n.saturating_sub(LAST_LINES))
        .map(|l| super::ansi::strip(l).into_owned())
        .collect()
}

/// A check's failure: the drv is named like a check (`*-smoke`, `*-vm`, NixOS `vm-test-run-*`),
/// or it is the top-level target (nothing depends on it) and the caller built a check attribute.
fn is_test(drv: &str, is_top_level: bool, exit: &ExitInfo) -> bool {
    let name = drv_name(drv);
    let test_name =
        |n: &str| n.ends_with("-smoke") || n.ends_with("-vm") || n.starts_with("vm-test-run-");
    test_name(name) || (is_top_level && exit.attr.as_deref().is_some_and(test_name))
}

/// The only derivation building, or the first of several.
fn building(state: &BuildState) -> Option<&Derivation> {
    state.with_status(super::state::DrvStatus::Building).next()
}

mod eval;

#[cfg(test)]
mod tests;
