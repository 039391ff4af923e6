//! Triage of the captured Nix 2.8 logs in `tests/fixtures/logs/triage` and of the log
//! constructed from Lix's format in `tests/fixtures/logs/versions` (Lix cannot be installed
//! here; the recorded Nix 2.26 and 2.34 logs are `tests/nixlog_versions.rs`'s): each file's
//! class, message, position and cancelled/failed counts, and `atwb log` on them.

mod common;

use std::fs;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::Command;

use atwb::nix::advice;
use atwb::nix::classify::{ErrorClass, ExitInfo, Failure, classify};
use atwb::nix::logfile::{ingest, summarise};
use atwb::nix::state::{BuildState, DrvStatus};

fn fixture(rel: &str) -> PathBuf {
    common::repo_root().join("tests/fixtures/logs").join(rel)
}

fn triage(rel: &str) -> (BuildState, Failure) {
    let path = fixture(rel);
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut state = BuildState::new();
    ingest(BufReader::new(file), &mut state).unwrap();
    let failure = classify(&state, &ExitInfo::from_log()).expect("a failure");
    (state, failure)
}

/// The eval error's message and `(line, column)`.
fn eval_error(f: &Failure) -> (&str, Option<(u32, u32)>) {
    match &f.class {
        ErrorClass::EvalError {
            message,
            line,
            column,
            file,
            ..
        } => {
            if line.is_some() {
                assert!(file.as_deref().unwrap().ends_with("flake.nix"), "{file:?}");
            }
            (message.as_str(), line.zip(*column))
        }
        other => panic!("not an eval error: {other:?}"),
    }
}

fn names(state: &BuildState, status: DrvStatus) -> Vec<&str> {
    state.with_status(status).map(|d| d.name.as_str()).collect()
}

#[test]
fn a_plain_throw_is_an_evaluation_error_with_its_message() {
    let (state, f) = triage("triage/throw.log");
    assert_eq!(
        eval_error(&f),
        ("thrown-package is not supported on this platform", None)
    );
    assert_eq!(state.derivations().len(), 0);
    let hint = advice::hint(&f.class, &advice::Context::default()).unwrap();
    assert!(hint.contains("--show-trace"), "{hint}");
}

#[test]
fn abort_and_assert_are_evaluation_errors() {
    let (_, f) = triage("triage/abort.log");
    let (message, pos) = eval_error(&f);
    assert!(message.starts_with("evaluation aborted"), "{message}");
    assert!(message.contains("aborted-package: configuration is broken"));
    assert_eq!(pos, None);
    let (_, f) = triage("triage/assert.log");
    let (message, pos) = eval_error(&f);
    assert_eq!(message, "assertion '(sys == \"aarch64-linux\")' failed");
    assert_eq!(pos, Some((30, 20)));
    let hint = advice::hint(&f.class, &advice::Context::default()).unwrap();
    assert!(hint.ends_with("flake.nix:30:20"), "{hint}");
}

#[test]
fn missing_attribute_inside_an_expression() {
    let (_, f) = triage("triage/missing-attribute.log");
    assert_eq!(
        f.class,
        ErrorClass::MissingAttribute {
            attribute: "passthru".into()
        }
    );
}

#[test]
fn a_build_killed_because_another_failed_is_cancelled_not_failed() {
    let (state, f) = triage("triage/parallel.log");
    // `parallel` itself could not be built: nix names it in `1 dependencies ... failed`.
    assert_eq!(names(&state, DrvStatus::Failed), ["quick-fail", "parallel"]);
    assert_eq!(names(&state, DrvStatus::Cancelled), ["slow-ok"]);
    match &f.class {
        ErrorClass::DependencyFailed {
            drv, dependency, ..
        } => {
            assert!(drv.ends_with("-parallel.drv"), "{drv}");
            assert!(dependency.as_deref().unwrap().ends_with("-quick-fail.drv"));
        }
        other => panic!("{other:?}"),
    }
    let s = summarise(&fixture("triage/parallel.log")).unwrap();
    assert_eq!(
        (s.failed.len(), s.cancelled.len(), s.unfinished.len()),
        (2, 1, 0)
    );
}

#[test]
fn plain_text_warnings_are_counted() {
    let s = summarise(&fixture("triage/warning.log")).unwrap();
    assert!(s.ok && s.nix_log);
    // The plain line before the JSON logger started, and the same warning as a message.
    assert_eq!(s.warnings_total, 2);
    assert!(
        s.warnings
            .iter()
            .all(|w| w.contains("unknown setting 'atwb-no-such-setting'"))
    );
}

fn atwb_log(file: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("log")
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
    )
}

#[test]
fn atwb_log_on_a_file_that_is_not_a_nix_log_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    fs::write(&file, "shopping list\nmilk\nwarning: no eggs\n").unwrap();
    let (code, out) = atwb_log(&file);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("not a nix log") && !out.contains("result: ok"),
        "{out}"
    );
    let empty = dir.path().join("empty.log");
    fs::write(&empty, "").unwrap();
    assert_eq!(atwb_log(&empty).0, Some(2));
}

#[test]
fn atwb_log_counts_cancelled_and_prints_the_hint() {
    let (code, out) = atwb_log(&fixture("triage/parallel.log"));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("2 failed, 1 cancelled, 0 unfinished"), "{out}");
    assert!(out.contains("  cancelled: slow-ok"), "{out}");
    let (code, out) = atwb_log(&fixture("triage/assert.log"));
    assert_eq!(code, Some(1));
    assert!(out.contains("hint: the error is at /nix/store/"), "{out}");
}
