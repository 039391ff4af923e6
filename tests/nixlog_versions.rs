//! The expected summary of every log recorded with Nix 2.26.3 and 2.34.8
//! (`tests/fixtures/logs/nix-2.26`, `nix-2.34`, recorded by `capture-version.sh` from the same
//! three fixture flakes as the Nix 2.8 logs): class, message, position, which derivations were
//! built, failed, cancelled or planned, and the warnings counted. Both versions run the same
//! scenarios, so each test checks both; where they differ (the wording of a build failure, a
//! race between two builds) the test says so.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use atwb::nix::classify::{ErrorClass, Failure};
use atwb::nix::logfile::{Summary, summarise};

const VERSIONS: [&str; 2] = ["nix-2.26", "nix-2.34"];
/// The Nix versions and Lix, where all three read the same.
const ALL: [&str; 3] = ["nix-2.26", "nix-2.34", LIX];

fn logs() -> PathBuf {
    common::repo_root().join("tests/fixtures/logs")
}

fn summary(version: &str, file: &str) -> Summary {
    let path = logs().join(version).join(file);
    let s = summarise(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    assert!(s.nix_log, "{version}/{file}: not read as a nix log");
    s
}

fn names(list: &[atwb::nix::logfile::DrvSummary]) -> Vec<&str> {
    list.iter().map(|d| d.name.as_str()).collect()
}

/// The failure of a failed run, with its file named when it is missing.
fn failure(version: &str, file: &str) -> (Summary, Failure) {
    let s = summary(version, file);
    assert!(!s.ok, "{version}/{file}: read as a success");
    let f = s.error.clone().unwrap();
    (s, f)
}

/// 1-based line and column of `needle` on the line of `template` that contains `marker`.
fn position_in(template: &str, marker: &str, needle: &str) -> (u32, u32) {
    let src = fs::read_to_string(logs().join(template)).unwrap();
    let (i, line) = src
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker))
        .unwrap();
    (i as u32 + 1, line.find(needle).unwrap() as u32 + 1)
}

/// An evaluation error's message and `(line, column)`; the file is the flake's.
fn eval_error(version: &str, file: &str) -> (String, Option<(u32, u32)>) {
    let (s, f) = failure(version, file);
    assert!(
        s.built.is_empty() && s.failed.is_empty(),
        "{version}/{file}"
    );
    match f.class {
        ErrorClass::EvalError {
            message,
            file: path,
            line,
            column,
            ..
        } => {
            if let Some(path) = &path {
                assert!(
                    path.ends_with("-source/flake.nix"),
                    "{version}/{file}: {path}"
                );
            }
            let pos = line.zip(column);
            if let Some((l, c)) = pos {
                // The position once, after the message (Nix 2.26+ puts it in `file` too).
                assert!(
                    f.first_line.ends_with(&format!("/flake.nix:{l}:{c}")),
                    "{version}/{file}: {}",
                    f.first_line
                );
            }
            (message, pos)
        }
        other => panic!("{version}/{file}: not an eval error: {other:?}"),
    }
}

fn missing(version: &str, file: &str) -> String {
    match failure(version, file).1.class {
        ErrorClass::MissingAttribute { attribute } => attribute,
        other => panic!("{version}/{file}: {other:?}"),
    }
}

#[test]
fn the_recorded_versions_are_the_ones_named() {
    for (v, printed) in VERSIONS
        .iter()
        .zip(["nix (Nix) 2.26.3", "nix (Nix) 2.34.8"])
    {
        let text = fs::read_to_string(logs().join(v).join("version.txt")).unwrap();
        assert_eq!(text.trim(), printed);
    }
}

#[test]
fn evaluation_errors_have_their_message_and_position() {
    let add = position_in("source-flake.nix.in", "evalerr = mk", "\"x\")");
    let throw = position_in("triage/source-flake.nix.in", "thrown =", "throw \"");
    let abort = position_in("triage/source-flake.nix.in", "aborted =", "abort \"");
    let assert = position_in("triage/source-flake.nix.in", "asserted =", "assert sys");
    for v in VERSIONS {
        for file in ["eval-error.log", "eval-error-show-trace.log"] {
            assert_eq!(
                eval_error(v, file),
                ("cannot add a string to an integer".to_string(), Some(add)),
                "{v}/{file}"
            );
        }
        // A throw has no position in the JSON: the innermost trace frame's.
        for file in ["throw.log", "throw-show-trace.log"] {
            assert_eq!(
                eval_error(v, file),
                (
                    "thrown-package is not supported on this platform".to_string(),
                    Some(throw)
                ),
                "{v}/{file}"
            );
        }
        let (message, pos) = eval_error(v, "abort.log");
        assert_eq!(
            message,
            "evaluation aborted with the following error message: \
             'aborted-package: configuration is broken'"
        );
        assert_eq!(pos, Some(abort));
        // Newer Nix explains the failed comparison instead of naming the assertion.
        assert_eq!(
            eval_error(v, "assert.log"),
            (
                "string '\"x86_64-linux\"' is not equal to string '\"aarch64-linux\"'".to_string(),
                Some(assert)
            ),
            "{v}"
        );
    }
}

#[test]
fn missing_attributes_are_named() {
    for v in VERSIONS {
        assert_eq!(missing(v, "attribute-missing.log"), "nope");
        assert_eq!(missing(v, "missing-attribute-inner.log"), "passthru");
        assert_eq!(
            missing(v, "missing-attribute.log"),
            "packages.x86_64-linux.nope"
        );
    }
}

#[test]
fn an_offline_download_is_a_fetch_failure_with_its_url_and_message() {
    for v in VERSIONS {
        let (s, f) = failure(v, "fetch-failed.log");
        assert_eq!(
            f.class,
            ErrorClass::FetchFailed {
                url: Some("http://127.0.0.1:9/atwb-fixture-source".into())
            }
        );
        // The message line, not the bare `error:` the trace starts with.
        assert!(
            f.first_line
                .starts_with("error: unable to download 'http://127.0.0.1:9/atwb-fixture-source'"),
            "{v}: {}",
            f.first_line
        );
        // Each retry is a warning.
        assert_eq!(s.warnings_total, 4, "{v}");
    }
}

#[test]
fn hash_mismatches_give_the_hash_nix_got() {
    for v in VERSIONS {
        for (file, failed, confirmed) in [
            ("hash-mismatch.log", &["fod"][..], true),
            ("hash-mismatch-dependency.log", &["fod", "usesfod"], true),
            // The plain format: nobody's message can be told from nix's.
            ("plain-hash-mismatch.log", &["fod", "usesfod"], false),
            ("forged-hash-mismatch.log", &["source"], true),
        ] {
            let (s, f) = failure(v, file);
            assert_eq!(names(&s.failed), failed, "{v}/{file}");
            match f.class {
                ErrorClass::HashMismatch {
                    drv,
                    specified,
                    got,
                    confirmed: c,
                } => {
                    assert!(drv.ends_with(&format!("-{}.drv", failed[0])), "{drv}");
                    assert_eq!(specified, format!("sha256-{}=", "A".repeat(43)));
                    assert!(got.starts_with("sha256-") && got.len() == 51, "{got}");
                    assert!(!got.contains("FAKE"), "{v}/{file}: the forged hash won");
                    assert_eq!(c, confirmed, "{v}/{file}");
                }
                other => panic!("{v}/{file}: {other:?}"),
            }
        }
    }
}

#[test]
fn builder_failures_keep_their_exit_code_and_last_lines() {
    for v in VERSIONS {
        for file in ["builder-failed.log", "plain-builder-failed.log"] {
            let (s, f) = failure(v, file);
            assert_eq!(names(&s.failed), ["fails"], "{v}/{file}");
            match f.class {
                ErrorClass::BuilderFailed {
                    drv,
                    exit_code,
                    last_lines,
                } => {
                    assert!(drv.ends_with("-fails.drv"));
                    assert_eq!(exit_code, Some(3), "{v}/{file}");
                    assert_eq!(
                        last_lines.last().map(String::as_str),
                        Some("make: *** [all] Error 1"),
                        "{v}/{file}"
                    );
                }
                other => panic!("{v}/{file}: {other:?}"),
            }
            assert!(f.first_line.contains("-fails.drv'"), "{}", f.first_line);
            assert!(f.first_line.contains("exit code 3"), "{}", f.first_line);
        }
        // The forged mismatch followed by exit 1: only nix's own message counts.
        let (_, f) = failure(v, "forged-hash-mismatch-failed.log");
        assert!(
            matches!(&f.class, ErrorClass::BuilderFailed { exit_code: Some(1), drv, .. } if drv.ends_with("-source.drv")),
            "{v}: {:?}",
            f.class
        );
        let (_, f) = failure(v, "test-failed.log");
        assert!(
            matches!(&f.class, ErrorClass::TestFailed { exit_code: Some(1), drv, .. } if drv.ends_with("-hello-smoke.drv")),
            "{v}: {:?}",
            f.class
        );
    }
    // Nix 2.34 says `Cannot build 'D'.` with the reason on its own line; the headline has both.
    let (_, f) = failure("nix-2.34", "builder-failed.log");
    assert!(
        f.first_line.starts_with("error: Cannot build '")
            && f.first_line
                .ends_with("-fails.drv'. builder failed with exit code 3."),
        "{}",
        f.first_line
    );
}

#[test]
fn a_failed_dependency_names_the_target_and_the_dependency() {
    for v in VERSIONS {
        let (s, f) = failure(v, "dependency-failed.log");
        assert_eq!(names(&s.failed), ["fails", "depfail"], "{v}");
        match f.class {
            ErrorClass::DependencyFailed {
                drv,
                dependency,
                exit_code,
                ..
            } => {
                assert!(drv.ends_with("-depfail.drv"), "{drv}");
                assert!(dependency.unwrap().ends_with("-fails.drv"));
                assert_eq!(exit_code, Some(3));
            }
            other => panic!("{v}: {other:?}"),
        }
    }
}

#[test]
fn nix_own_timeout_is_a_timeout_of_the_building_derivation() {
    for v in VERSIONS {
        let (s, f) = failure(v, "nix-timeout.log");
        assert_eq!(names(&s.failed), ["slow"], "{v}");
        match f.class {
            ErrorClass::Timeout { drv } => {
                assert!(drv.unwrap().ends_with("-slow.drv"), "{v}");
            }
            other => panic!("{v}: {other:?}"),
        }
    }
    // 2.26 names the derivation with `^out` (2.8: `!out`); 2.34 names none.
    let (_, f) = failure("nix-2.26", "nix-timeout.log");
    assert!(
        f.first_line
            .contains("-slow.drv^out' from .drv file timed out after 2 seconds")
    );
    let (_, f) = failure("nix-2.34", "nix-timeout.log");
    assert_eq!(f.first_line, "error: timed out after 2 seconds");
}

#[test]
fn builds_nix_stopped_are_cancelled_not_failed() {
    // Lix counts a build after its stop, not before: the same result from a later count.
    for v in ALL {
        // quick-fail fails while slow-ok runs: nix kills slow-ok.
        let (s, f) = failure(v, "parallel.log");
        assert_eq!(names(&s.failed), ["quick-fail", "parallel"], "{v}");
        assert_eq!(names(&s.cancelled), ["slow-ok"], "{v}");
        assert!(s.unfinished.is_empty(), "{v}");
        assert!(
            matches!(&f.class, ErrorClass::DependencyFailed { drv, dependency: Some(d), .. }
                if drv.ends_with("-parallel.drv") && d.ends_with("-quick-fail.drv")),
            "{v}: {:?}",
            f.class
        );
        let (s, f) = failure(v, "interrupted.log");
        assert_eq!(f.class, ErrorClass::Cancelled, "{v}");
        assert_eq!(f.first_line, "error: interrupted by the user");
        assert_eq!(names(&s.cancelled), ["slow"], "{v}");
    }
}

#[test]
fn the_derivation_tree_with_and_without_keep_going() {
    for v in ALL {
        let (s, _) = failure(v, "tree-keep-going.log");
        assert_eq!(names(&s.built), ["tree-a", "tree-b", "tree-e"], "{v}");
        assert_eq!(names(&s.failed), ["tree-c", "tree-d", "tree-top"], "{v}");
        assert!(s.cancelled.is_empty() && s.planned.is_empty(), "{v}");
        let s = summary(v, "tree-dry-run.log");
        assert!(s.ok && s.built.is_empty());
        assert_eq!(s.planned.len(), 6, "{v}");
    }
    // Without --keep-going, c's failure ends the run; what else ran is a race: with 2.26 a
    // had finished and b (next) was killed, with 2.34 a was still running and was killed. The
    // never-started ones stay planned.
    let (s, _) = failure("nix-2.26", "tree-fail-fast.log");
    assert_eq!(names(&s.built), ["tree-a"]);
    assert_eq!(names(&s.cancelled), ["tree-b"]);
    assert_eq!(names(&s.planned), ["tree-e"]);
    // Lix's recording went as 2.34's did.
    for v in ["nix-2.34", LIX] {
        let (s, _) = failure(v, "tree-fail-fast.log");
        assert!(s.built.is_empty(), "{v}");
        assert_eq!(names(&s.cancelled), ["tree-a"], "{v}");
        assert_eq!(names(&s.planned), ["tree-b", "tree-e"], "{v}");
    }
    for v in ALL {
        let (s, _) = failure(v, "tree-fail-fast.log");
        assert_eq!(names(&s.failed), ["tree-c", "tree-d", "tree-top"], "{v}");
    }
}

#[test]
fn successes_and_their_warnings() {
    for v in ALL {
        for (file, built, warnings) in [
            ("success.log", &["ok"][..], 0),
            ("chain.log", &["chain-dep", "chain"], 0),
            // The builder's `@nix {"action":"msg","level":1}` line.
            ("phases.log", &["phases"], 1),
            // The plain-text warning before the JSON logger starts, and the same as a message.
            ("warning.log", &["ok"], 2),
        ] {
            let s = summary(v, file);
            assert!(s.ok && s.error.is_none(), "{v}/{file}");
            assert_eq!(names(&s.built), built, "{v}/{file}");
            assert!(s.unfinished.is_empty(), "{v}/{file}");
            // Lix adds its own (no user namespaces in the recording's chroot): see below.
            if v != LIX {
                assert_eq!(s.warnings_total, warnings, "{v}/{file}");
            }
        }
        let s = summary(v, "warning.log");
        assert!(
            s.warnings
                .iter()
                .all(|w| v == LIX || w.contains("unknown setting 'atwb-no-such-setting'")),
            "{v}: {:?}",
            s.warnings
        );
        let s = summary(v, "dry-run.log");
        assert!(s.ok && s.built.is_empty());
        assert_eq!(names(&s.planned), ["fails", "depfail"], "{v}");
    }
}

#[test]
fn atwb_log_exits_by_the_result() {
    let atwb = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_atwb"))
            .arg("log")
            .arg(logs().join(file))
            .output()
            .unwrap()
    };
    let (l, c) = position_in("source-flake.nix.in", "evalerr = mk", "\"x\")");
    for v in VERSIONS {
        assert_eq!(atwb(&format!("{v}/success.log")).status.code(), Some(0));
        let out = atwb(&format!("{v}/eval-error.log"));
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("cannot add a string to an integer"), "{text}");
        // The position once (Nix 2.26+ sends it inside the JSON `file` too).
        let pos = format!("-source/flake.nix:{l}:{c}");
        for start in ["  error: cannot add", "hint: the error is at "] {
            let line = text.lines().find(|x| x.starts_with(start)).unwrap();
            assert!(line.ends_with(&pos), "{line}");
        }
    }
}

#[test]
fn every_recorded_log_has_an_expected_summary_here() {
    let here = include_str!("nixlog_versions.rs");
    for v in VERSIONS {
        for entry in fs::read_dir(logs().join(v)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".log") {
                assert!(
                    here.contains(&format!("\"{name}\"")),
                    "{v}/{name} is not tested"
                );
            }
        }
    }
}

// Lix 2.95.3 (`lix-2.95/`, built from source, same scenarios); where it reads as the Nix
// versions do, the tests above include it (`ALL`).
const LIX: &str = "lix-2.95";

#[test]
fn lix_is_the_version_named() {
    let text = fs::read_to_string(logs().join(LIX).join("version.txt")).unwrap();
    assert_eq!(text.lines().next(), Some("nix (Lix, like Nix) 2.95.3"));
}

#[test]
fn lix_evaluation_errors_and_missing_attributes() {
    let throw = position_in("triage/source-flake.nix.in", "thrown =", "throw \"");
    let abort = position_in("triage/source-flake.nix.in", "aborted =", "abort \"");
    let assert = position_in("triage/source-flake.nix.in", "asserted =", "assert sys");
    for file in ["throw.log", "throw-show-trace.log"] {
        assert_eq!(
            eval_error(LIX, file),
            (
                "thrown-package is not supported on this platform".to_string(),
                Some(throw)
            ),
            "{file}"
        );
    }
    let (message, pos) = eval_error(LIX, "abort.log");
    assert!(message.ends_with("'aborted-package: configuration is broken'"));
    assert_eq!(pos, Some(abort));
    // Lix names the assertion, as Nix 2.8 did.
    assert_eq!(
        eval_error(LIX, "assert.log"),
        ("assertion failed".to_string(), Some(assert))
    );
    // Lix sends `"file":"«none»:0","line":0` and only `«internal»` frames: no position, and no
    // position is what atwb says (its hint then asks for --show-trace).
    assert_eq!(
        eval_error(LIX, "eval-error.log"),
        ("cannot add a string to an integer".to_string(), None)
    );
    // With --show-trace Lix still names no position for `1 + "x"`; its innermost frame is
    // where the derivation's `args` was forced. atwb says so, and does not call it the error's.
    let (_, f) = failure(LIX, "eval-error-show-trace.log");
    let (line, column) = position_in("source-flake.nix.in", "args = [ \"-c\" script ]", "args");
    match &f.class {
        ErrorClass::EvalError {
            file: None,
            evaluating: Some(at),
            ..
        } => assert!(
            at.ends_with(&format!(
                "-source/flake.nix:{line}:{column} (while evaluating attribute 'args' of \
                 derivation 'evalerr')"
            )),
            "{at}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.first_line, "error: cannot add a string to an integer");
    assert_eq!(missing(LIX, "attribute-missing.log"), "nope");
    assert_eq!(missing(LIX, "missing-attribute-inner.log"), "passthru");
    assert_eq!(
        missing(LIX, "missing-attribute.log"),
        "packages.x86_64-linux.nope"
    );
}

#[test]
fn lix_build_failures_are_classified() {
    let (s, f) = failure(LIX, "fetch-failed.log");
    assert_eq!(
        f.class,
        ErrorClass::FetchFailed {
            url: Some("http://127.0.0.1:9/atwb-fixture-source".into())
        }
    );
    assert_eq!(s.warnings_total, 4);
    for (file, failed) in [
        ("hash-mismatch.log", &["fod"][..]),
        ("hash-mismatch-dependency.log", &["fod", "usesfod"]),
        ("plain-hash-mismatch.log", &["fod", "usesfod"]),
        ("forged-hash-mismatch.log", &["source"]),
    ] {
        let (s, f) = failure(LIX, file);
        assert_eq!(names(&s.failed), failed, "{file}");
        match f.class {
            ErrorClass::HashMismatch { specified, got, .. } => {
                assert_eq!(specified, format!("sha256-{}=", "A".repeat(43)));
                assert!(!got.contains("FAKE") && got.len() == 51, "{file}: {got}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    for file in ["builder-failed.log", "plain-builder-failed.log"] {
        let (s, f) = failure(LIX, file);
        assert_eq!(names(&s.failed), ["fails"], "{file}");
        assert!(
            matches!(&f.class, ErrorClass::BuilderFailed { exit_code: Some(3), last_lines, .. }
                if last_lines.last().map(String::as_str) == Some("make: *** [all] Error 1")),
            "{file}: {:?}",
            f.class
        );
    }
    let (_, f) = failure(LIX, "forged-hash-mismatch-failed.log");
    assert!(matches!(
        f.class,
        ErrorClass::BuilderFailed {
            exit_code: Some(1),
            ..
        }
    ));
    let (_, f) = failure(LIX, "test-failed.log");
    assert!(matches!(
        f.class,
        ErrorClass::TestFailed {
            exit_code: Some(1),
            ..
        }
    ));
    let (s, f) = failure(LIX, "dependency-failed.log");
    assert_eq!(names(&s.failed), ["fails", "depfail"]);
    assert!(matches!(
        f.class,
        ErrorClass::DependencyFailed {
            exit_code: Some(3),
            ..
        }
    ));
    // Lix words the timeout as Nix 2.26 does (`D^out`).
    let (s, f) = failure(LIX, "nix-timeout.log");
    assert_eq!(names(&s.failed), ["slow"]);
    assert!(matches!(f.class, ErrorClass::Timeout { drv: Some(d) } if d.ends_with("-slow.drv")));
    let (s, f) = failure(LIX, "interrupted.log");
    assert_eq!(f.class, ErrorClass::Cancelled);
    assert_eq!(names(&s.cancelled), ["slow"]);
}

#[test]
fn lix_planned_derivations_and_warnings() {
    let s = summary(LIX, "dry-run.log");
    assert!(s.ok);
    assert_eq!(names(&s.planned), ["fails", "depfail"]);
    assert_eq!(summary(LIX, "tree-dry-run.log").planned.len(), 6);
    // Every build here warns `user namespaces do not work on this system` (no userns in the chroot).
    let s = summary(LIX, "warning.log");
    assert_eq!(s.warnings_total, 3);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("unknown setting 'atwb-no-such-setting'"))
    );
}

#[test]
fn every_lix_log_is_named_here() {
    let here = include_str!("nixlog_versions.rs");
    for entry in fs::read_dir(logs().join(LIX)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".log") {
            assert!(
                here.contains(&format!("\"{name}\"")),
                "{name} is not tested"
            );
        }
    }
}

/// The live tree (`DrvTree`, what the TUI and the history see) and the log's state
/// (`BuildState`, what the summary says) read every recorded log alike: same derivations
/// built, failed and cancelled once the run ended, on Nix 2.8, 2.26, 2.34 and Lix.
#[test]
fn the_live_tree_and_the_summary_agree_on_every_recorded_log() {
    use atwb::nix::drvtree::{DrvTree, NodeKind, NodeState};
    use atwb::nix::internal_json::parse_line;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for dir in ["", "triage", "nix-2.26", "nix-2.34", LIX] {
        for entry in fs::read_dir(logs().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "log") {
                continue;
            }
            let s = summarise(&path).unwrap();
            if s.json_events == 0 {
                // Plain-format logs (`--log-format bar`): the tree reads nix's JSON only, which
                // is what atwb asks nix for.
                continue;
            }
            let mut tree = DrvTree::new();
            let text = fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                tree.apply(&parse_line(line), i as u64);
            }
            tree.settle(s.ok, u64::MAX / 2);
            let in_tree = |state: NodeState| {
                let mut v: Vec<&str> = tree
                    .nodes()
                    .iter()
                    .filter(|n| n.kind == NodeKind::Build && n.state == state)
                    .filter(|n| state != NodeState::Cancelled || n.started_ms.is_some())
                    .filter(|n| state != NodeState::Done || n.started_ms.is_some())
                    .map(|n| tree.name(n.name))
                    .collect();
                v.sort_unstable();
                v
            };
            fn sorted(l: &[atwb::nix::logfile::DrvSummary]) -> Vec<&str> {
                let mut v = names(l);
                v.sort_unstable();
                v
            }
            let file = path.display();
            for (what, tree, summary) in [
                ("built", in_tree(NodeState::Done), sorted(&s.built)),
                ("failed", in_tree(NodeState::Failed), sorted(&s.failed)),
                (
                    "cancelled",
                    in_tree(NodeState::Cancelled),
                    sorted(&s.cancelled),
                ),
            ] {
                if tree != summary {
                    wrong.push(format!("{file} {what}: tree {tree:?}, summary {summary:?}"));
                }
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 100, "{checked} logs");
}
