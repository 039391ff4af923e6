//! Why a nix run failed, in one class with the first relevant line, from the state its log built
//! and how the process ended. The wordings matched are Nix 2.8's (captured in
//! `tests/fixtures/logs`); all matching is done on ANSI-stripped text.

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

fn from_errors(state: &BuildState, exit: &ExitInfo) -> Option<Failure> {
    let errors = state.errors();
    let first = errors.first()?;
    if let Some(f) = errors.iter().find_map(hash_mismatch) {
        return Some(f);
    }
    if let Some(f) = errors.iter().find_map(missing_attribute) {
        return Some(f);
    }
    if let Some(f) = errors.iter().find_map(fetch_failed) {
        return Some(f);
    }
    if let Some(e) = errors
        .iter()
        .find(|e| e.file.is_some() || e.plain.contains("\n       at "))
    {
        return Some(eval_error(e));
    }
    let failures: Vec<(&Diagnostic, DrvFailure<'_>)> = errors
        .iter()
        .filter_map(|e| Some((e, drv_failure(&e.plain)?)))
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
        },
        first_line: first.to_string(),
    })
}

/// `flake 'F' does not provide attribute 'A', ...` or `attribute 'A' missing`.
fn missing_attribute(e: &Diagnostic) -> Option<Failure> {
    let first = e.first_line();
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
    let message = e
        .first_line()
        .strip_prefix("error:")
        .unwrap_or(e.first_line())
        .trim()
        .to_string();
    let first_line = match (&e.file, e.line, e.column) {
        (Some(f), Some(l), Some(c)) => format!("{}: {f}:{l}:{c}", e.first_line()),
        _ => e.first_line().to_string(),
    };
    Failure {
        class: ErrorClass::EvalError {
            file: e.file.clone(),
            line: e.line,
            column: e.column,
            message,
        },
        first_line,
    }
}

/// The first line of an error, with its `Reason:` line when nix put the reason on a line of
/// its own (nix >= 2.25: `error: Cannot build 'D'.` / `Reason: builder failed ...`).
fn headline(e: &Diagnostic) -> String {
    let first = e.first_line();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::internal_json::parse_line;

    fn state_of(lines: &[&str]) -> BuildState {
        let mut s = BuildState::new();
        for l in lines {
            s.apply(&parse_line(l));
        }
        s
    }

    const BUILDER_FAILED: &str = r#"@nix {"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m builder for '/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-foo-smoke.drv' failed with exit code 1","raw_msg":"x"}"#;

    #[test]
    fn spawn_errors() {
        let s = BuildState::new();
        let exit = |kind| ExitInfo {
            spawn_error: Some(kind),
            ..ExitInfo::default()
        };
        let f = classify(&s, &exit(io::ErrorKind::NotFound)).unwrap();
        assert_eq!(f.class, ErrorClass::NixNotInstalled);
        assert!(f.first_line.contains("nix not found"));
        let f = classify(&s, &exit(io::ErrorKind::PermissionDenied)).unwrap();
        assert_eq!(f.class, ErrorClass::Other);
        assert!(
            f.first_line.starts_with("could not start nix"),
            "{}",
            f.first_line
        );
    }

    #[test]
    fn caller_timeout_and_cancel_win_over_log_content() {
        let s = state_of(&[
            r#"@nix {"action":"start","fields":["/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv","",1,1],"id":2,"level":3,"text":"b","type":105}"#,
            r#"@nix {"action":"msg","level":0,"msg":"error: interrupted by the user","raw_msg":"interrupted by the user"}"#,
        ]);
        let timed_out = ExitInfo {
            code: Some(1),
            timed_out: true,
            ..ExitInfo::default()
        };
        let f = classify(&s, &timed_out).unwrap();
        assert_eq!(
            f.class,
            ErrorClass::Timeout { drv: None },
            "the interrupt cancelled the build"
        );
        let cancelled = ExitInfo {
            code: Some(1),
            cancelled: true,
            ..ExitInfo::default()
        };
        let f = classify(&s, &cancelled).unwrap();
        assert_eq!(
            (f.class, f.first_line.as_str()),
            (ErrorClass::Cancelled, "error: interrupted by the user")
        );
        // Cancelled by the caller before nix said anything.
        let f = classify(&BuildState::new(), &cancelled).unwrap();
        assert_eq!(
            (f.class, f.first_line.as_str()),
            (ErrorClass::Cancelled, "cancelled")
        );
    }

    #[test]
    fn caller_timeout_names_the_building_drv() {
        let s = state_of(&[
            r#"@nix {"action":"start","fields":["/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv","",1,1],"id":2,"level":3,"text":"b","type":105}"#,
        ]);
        let f = classify(
            &s,
            &ExitInfo {
                timed_out: true,
                ..ExitInfo::default()
            },
        )
        .unwrap();
        assert_eq!(
            f.class,
            ErrorClass::Timeout {
                drv: Some("/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv".into())
            }
        );
        assert_eq!(f.first_line, "timed out while building slow");
    }

    #[test]
    fn success_and_silent_failure() {
        let s = BuildState::new();
        assert_eq!(classify(&s, &ExitInfo::exited(0)), None);
        assert_eq!(classify(&s, &ExitInfo::from_log()), None);
        let f = classify(&s, &ExitInfo::exited(1)).unwrap();
        assert_eq!(f.class, ErrorClass::Other);
        assert_eq!(
            f.first_line,
            "nix exited with code 1 without an error message"
        );
        let s = state_of(&[
            "error: unrecognised flag '--print-out-paths'",
            "Try 'nix --help' for more information.",
        ]);
        let f = classify(&s, &ExitInfo::exited(1)).unwrap();
        assert_eq!(
            (f.class, f.first_line.as_str()),
            (
                ErrorClass::Other,
                "error: unrecognised flag '--print-out-paths'"
            )
        );
        // Exit 0 means success even if a message looked like an error (e.g. --keep-going noise).
        assert_eq!(classify(&s, &ExitInfo::exited(0)), None);
    }

    #[test]
    fn test_failure_by_drv_name_or_attribute() {
        let s = state_of(&[BUILDER_FAILED]);
        let f = classify(&s, &ExitInfo::exited(1)).unwrap();
        assert!(
            matches!(
                f.class,
                ErrorClass::TestFailed {
                    exit_code: Some(1),
                    ..
                }
            ),
            "{f:?}"
        );
        // A drv not named like a test, built through a check attribute.
        let plain = BUILDER_FAILED.replace("foo-smoke", "foo-check");
        let s = state_of(&[&plain]);
        assert!(matches!(
            classify(&s, &ExitInfo::exited(1)).unwrap().class,
            ErrorClass::BuilderFailed { .. }
        ));
        let attr = ExitInfo {
            attr: Some("checks.x86_64-linux.foo-web-vm".into()),
            ..ExitInfo::exited(1)
        };
        assert!(matches!(
            classify(&s, &attr).unwrap().class,
            ErrorClass::TestFailed { .. }
        ));
    }

    #[test]
    fn newer_nix_plain_log_from_ci() {
        // The wording of nix >= 2.25 in a plain-format CI log (from public bug reports; nix
        // 2.8 cannot produce it). The top-level target is the outermost `Cannot build`.
        let s = state_of(&[
            "fails> foo.c:3: error: expected ';'",
            "error: Cannot build '/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv'.",
            "       Reason: builder failed with exit code 2.",
            "       Output paths:",
            "         /nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails",
            "error: Cannot build '/nix/store/11111111111111111111111111111111-mid.drv'.",
            "       Reason: 1 dependency failed.",
            "error: Cannot build '/nix/store/22222222222222222222222222222222-top.drv'.",
            "       Reason: 1 dependency failed.",
        ]);
        // The indented `Reason:` lines belong to the error above them.
        let f = classify(&s, &ExitInfo::exited(1)).unwrap();
        assert_eq!(
            f.class,
            ErrorClass::DependencyFailed {
                drv: "/nix/store/22222222222222222222222222222222-top.drv".into(),
                dependency: Some("/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv".into()),
                exit_code: Some(2),
                last_lines: vec!["foo.c:3: error: expected ';'".into()],
            }
        );
        assert_eq!(s.errors_total(), 3);
        // As internal-json messages, the reason is part of the message.
        let msg = |drv: &str, reason: &str| {
            format!(
                r#"@nix {{"action":"msg","level":0,"msg":"error: Cannot build '{drv}'.\n       Reason: {reason}\n       Output paths:\n         /nix/store/x","raw_msg":"x"}}"#
            )
        };
        let fails = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv";
        let top = "/nix/store/22222222222222222222222222222222-top.drv";
        let s = state_of(&[
            &msg(fails, "builder failed with exit code 4."),
            &msg(
                "/nix/store/11111111111111111111111111111111-mid.drv",
                "1 dependency failed.",
            ),
            &msg(top, "1 dependency failed."),
        ]);
        let f = classify(&s, &ExitInfo::exited(1)).unwrap();
        assert_eq!(
            f.class,
            ErrorClass::DependencyFailed {
                drv: top.into(),
                dependency: Some(fails.into()),
                exit_code: Some(4),
                last_lines: vec![]
            }
        );
        assert_eq!(
            f.first_line,
            format!("error: Cannot build '{fails}'. builder failed with exit code 4.")
        );
    }

    #[test]
    fn failure_json_shape_round_trips() {
        let f = Failure {
            class: ErrorClass::HashMismatch {
                drv: "/nix/store/x-fod.drv".into(),
                specified: "sha256-A".into(),
                got: "sha256-B".into(),
            },
            first_line: "error: hash mismatch".into(),
        };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"class": "hash_mismatch", "drv": "/nix/store/x-fod.drv",
                "specified": "sha256-A", "got": "sha256-B", "first_line": "error: hash mismatch"})
        );
        assert_eq!(serde_json::from_value::<Failure>(json).unwrap(), f);
        for class in [
            ErrorClass::Cancelled,
            ErrorClass::NixNotInstalled,
            ErrorClass::Other,
            ErrorClass::Timeout { drv: None },
            ErrorClass::MissingAttribute {
                attribute: "a".into(),
            },
            ErrorClass::EvalError {
                file: None,
                line: Some(1),
                column: None,
                message: "m".into(),
            },
            ErrorClass::DependencyFailed {
                drv: "d".into(),
                dependency: None,
                exit_code: Some(2),
                last_lines: vec!["l".into()],
            },
            ErrorClass::BuilderFailed {
                drv: "d".into(),
                exit_code: None,
                last_lines: vec![],
            },
            ErrorClass::TestFailed {
                drv: "d".into(),
                exit_code: Some(1),
                last_lines: vec![],
            },
        ] {
            let f = Failure {
                class,
                first_line: "x".into(),
            };
            let json = serde_json::to_string(&f).unwrap();
            assert!(
                json.contains(&format!("\"class\":\"{}\"", f.class.name())),
                "{json}"
            );
            assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f, "{json}");
        }
    }

    #[test]
    fn a_log_that_ends_mid_build_is_not_a_success() {
        let mut s = BuildState::new();
        s.apply(&parse_line(
            r#"@nix {"action":"start","fields":["/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv","",1,1],"id":2,"level":3,"text":"b","type":105}"#,
        ));
        // A saved log, and a nix the engine saw die from a signal (no exit code).
        let killed = ExitInfo {
            attr: Some("packages.x86_64-linux.slow".into()),
            ..ExitInfo::default()
        };
        for exit in [ExitInfo::from_log(), killed] {
            let f = classify(&s, &exit).unwrap();
            assert_eq!(f.class, ErrorClass::Other);
            assert!(
                f.first_line
                    .starts_with("the log ends while slow was building"),
                "{}",
                f.first_line
            );
        }
    }
}
