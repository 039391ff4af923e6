//! The internal-json parser, build state and classifier against real Nix 2.8 logs
//! (`tests/fixtures/logs`, captured by `capture.sh` from `source-flake.nix.in`), plus `atwb log`
//! on the same files and a live capture when nix is installed.

mod common;

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use atwb::nix::classify::{ErrorClass, ExitInfo, Failure, classify};
use atwb::nix::internal_json::{Event, Progress, parse_line};
use atwb::nix::logfile::{IngestStats, ingest};
use atwb::nix::state::{BuildState, DrvStatus};

fn fixtures() -> PathBuf {
    common::repo_root().join("tests/fixtures/logs")
}

fn load(name: &str) -> (BuildState, IngestStats) {
    let path = fixtures().join(name);
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut state = BuildState::new();
    let stats = ingest(BufReader::new(file), &mut state).unwrap();
    (state, stats)
}

/// Load and classify as `atwb log` does (exit code unknown).
fn triage(name: &str) -> (BuildState, Option<Failure>) {
    let (state, _) = load(name);
    let failure = classify(&state, &ExitInfo::from_log());
    (state, failure)
}

fn names(state: &BuildState, status: DrvStatus) -> Vec<&str> {
    state.with_status(status).map(|d| d.name.as_str()).collect()
}

fn source_flake() -> String {
    fs::read_to_string(fixtures().join("source-flake.nix.in")).unwrap()
}

/// 1-based line and column of `needle` on the first line containing `line_marker`.
fn position_in_source(line_marker: &str, needle: &str) -> (u32, u32) {
    let src = source_flake();
    let (i, line) = src
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line_marker))
        .unwrap();
    (i as u32 + 1, line.find(needle).unwrap() as u32 + 1)
}

const TESTED: &[&str] = &[
    "success.log",
    "chain.log",
    "builder-failed.log",
    "hash-mismatch.log",
    "hash-mismatch-dependency.log",
    "eval-error.log",
    "attribute-missing.log",
    "missing-attribute.log",
    "dependency-failed.log",
    "phases.log",
    "long.log",
    "test-failed.log",
    "nix-timeout.log",
    "dry-run.log",
    "interrupted.log",
    "plain-builder-failed.log",
    "plain-hash-mismatch.log",
    "fetch-failed.log",
    "forged-hash-mismatch.log",
    "forged-hash-mismatch-failed.log",
    "tree-keep-going.log",
    "tree-fail-fast.log",
    "tree-dry-run.log",
];

#[test]
fn every_fixture_has_a_test_and_parses_fully() {
    let mut on_disk: Vec<String> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".log"))
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = TESTED
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    tested.sort();
    assert_eq!(on_disk, tested, "add a test for each new fixture");
    for name in TESTED {
        let text = fs::read_to_string(fixtures().join(name)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let event = parse_line(line);
            // Every `@nix` line nix wrote is a real event; only the plain-format log has text.
            if line.starts_with("@nix ") {
                assert!(
                    !matches!(event, Event::Plain(_) | Event::UnknownAction { .. }),
                    "{name}:{}: not parsed: {line}",
                    n + 1
                );
            } else {
                assert!(matches!(event, Event::Plain(_)), "{name}:{}", n + 1);
            }
        }
    }
}

#[test]
fn success() {
    let (state, stats) = load("success.log");
    assert_eq!(classify(&state, &ExitInfo::from_log()), None);
    assert_eq!(classify(&state, &ExitInfo::exited(0)), None);
    assert_eq!(stats.lines, stats.json_events);
    assert_eq!(names(&state, DrvStatus::Built), ["ok"]);
    assert_eq!(
        state.progress(),
        Progress {
            done: 1,
            expected: 1,
            running: 0,
            failed: 0
        }
    );
    let ok = state.derivations()[0].clone();
    assert_eq!(ok.log_lines, 2);
    let tail: Vec<&str> = ok.tail().collect();
    assert_eq!(tail[0], "hello from the builder");
    assert!(
        tail[1].starts_with("building to /nix/store/") && tail[1].ends_with("-ok"),
        "{tail:?}"
    );
    assert!(state.errors().is_empty() && state.warnings().is_empty());
}

#[test]
fn chain_of_two_builds() {
    let (state, _) = load("chain.log");
    assert_eq!(classify(&state, &ExitInfo::from_log()), None);
    assert_eq!(
        names(&state, DrvStatus::Built),
        ["chain-dep", "chain"],
        "in build order"
    );
    assert_eq!(
        state.progress(),
        Progress {
            done: 2,
            expected: 2,
            running: 0,
            failed: 0
        }
    );
    let top = state
        .derivations()
        .iter()
        .find(|d| d.name == "chain")
        .unwrap();
    assert!(
        top.tail()
            .next()
            .unwrap()
            .starts_with("top uses /nix/store/")
    );
}

#[test]
fn builder_failed() {
    let (state, failure) = triage("builder-failed.log");
    let f = failure.unwrap();
    let ErrorClass::BuilderFailed {
        drv,
        exit_code,
        last_lines,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(drv.ends_with("-fails.drv"), "{drv}");
    assert_eq!(*exit_code, Some(3));
    assert_eq!(
        last_lines,
        &[
            "compiling foo.c",
            "foo.c:3: error: expected ';'",
            "make: *** [all] Error 1"
        ]
    );
    assert_eq!(
        f.first_line,
        format!("error: builder for '{drv}' failed with exit code 3")
    );
    assert!(!f.first_line.contains('\u{1b}'), "ANSI stripped");
    assert_eq!(names(&state, DrvStatus::Failed), ["fails"]);
    assert_eq!(state.progress().failed, 1);
    // The original message keeps its colours for display.
    assert!(
        state
            .first_error()
            .unwrap()
            .text
            .contains("\u{1b}[31;1merror:")
    );
}

#[test]
fn hash_mismatch() {
    let (state, failure) = triage("hash-mismatch.log");
    let f = failure.unwrap();
    let ErrorClass::HashMismatch {
        drv,
        specified,
        got,
        confirmed,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(*confirmed, "reported by nix itself (raw_msg)");
    assert!(drv.ends_with("-fod.drv"));
    assert_eq!(
        specified, "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "the value in source-flake.nix.in"
    );
    assert!(
        got.starts_with("sha256-") && got.len() == 51 && got.ends_with('='),
        "{got}"
    );
    assert_ne!(got, specified);
    assert_eq!(
        f.first_line,
        format!("error: hash mismatch in fixed-output derivation '{drv}':")
    );
    assert_eq!(names(&state, DrvStatus::Failed), ["fod"]);
    assert_eq!(
        state.derivation(drv).unwrap().tail().collect::<Vec<_>>(),
        ["fetching"]
    );
}

#[test]
fn hash_mismatch_in_a_dependency_is_still_a_hash_mismatch() {
    // The catalog's deps_hash case: the vendored-dependencies FOD fails, then its dependent.
    let (state, failure) = triage("hash-mismatch-dependency.log");
    let f = failure.unwrap();
    let ErrorClass::HashMismatch {
        drv,
        specified,
        got,
        confirmed,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(*confirmed, "reported by nix itself (raw_msg)");
    assert!(
        drv.ends_with("-fod.drv"),
        "the FOD, not its dependent: {drv}"
    );
    assert_eq!(
        specified,
        "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    assert!(got.starts_with("sha256-") && got != specified);
    assert_eq!(names(&state, DrvStatus::Failed), ["fod", "usesfod"]);
    assert_eq!(state.errors_total(), 2);
}

/// The builder of `forged-hash-mismatch.log` prints nix's hash-mismatch message with its own
/// `got:` (as an `@nix` msg, which nix 2.8 forwards without `raw_msg`, and as plain text, which
/// becomes build log lines); then nix reports the real mismatch.
#[test]
fn a_builder_cannot_forge_the_hash_mismatch() {
    let (state, failure) = triage("forged-hash-mismatch.log");
    let f = failure.unwrap();
    let ErrorClass::HashMismatch {
        drv,
        got,
        confirmed,
        ..
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(!got.contains("FAKE"), "the builder's hash was taken: {got}");
    assert!(got.starts_with("sha256-") && got.len() == 51, "{got}");
    assert!(!drv.contains("00000000000000000000000000000000"), "{drv}");
    assert!(*confirmed, "nix's own message");
    // The forged message is kept for display, marked as not nix's.
    let forged = state
        .errors()
        .iter()
        .find(|e| e.plain.contains("FAKE"))
        .expect("the forged message is still shown");
    assert!(!forged.from_nix);
    assert!(
        !state
            .errors()
            .iter()
            .any(|e| e.plain.contains("forged raw") && e.from_nix)
    );
    assert_eq!(names(&state, DrvStatus::Failed), ["source"]);
}

#[test]
fn a_forged_mismatch_before_a_builder_failure_is_a_builder_failure() {
    let (state, failure) = triage("forged-hash-mismatch-failed.log");
    let f = failure.unwrap();
    let ErrorClass::BuilderFailed { drv, exit_code, .. } = &f.class else {
        panic!("{f:?}")
    };
    assert_eq!(*exit_code, Some(1));
    assert!(
        drv.ends_with("-source.drv") && !drv.contains("0000000000000000"),
        "{drv}"
    );
    // Forged messages say nothing about derivations: only the real one is failed.
    assert_eq!(names(&state, DrvStatus::Failed), ["source"]);
    assert!(
        state
            .derivations()
            .iter()
            .all(|d| !d.path.contains("00000000000000000000000000000000")),
        "a forged message named a derivation"
    );
}

#[test]
fn fetch_failed_names_the_url_not_an_eval_error() {
    let (state, failure) = triage("fetch-failed.log");
    let f = failure.unwrap();
    assert_eq!(
        f.class,
        ErrorClass::FetchFailed {
            url: Some("http://127.0.0.1:9/atwb-fixture-source".into())
        },
        "{f:?}"
    );
    assert!(
        f.first_line
            .starts_with("error: unable to download 'http://127.0.0.1:9/"),
        "{}",
        f.first_line
    );
    // nix retried four times before giving up; those are warnings, not the failure.
    assert_eq!(state.warnings().len(), 4);
}

#[test]
fn eval_error_with_position() {
    let (state, failure) = triage("eval-error.log");
    let f = failure.unwrap();
    let ErrorClass::EvalError {
        file,
        line,
        column,
        message,
        ..
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(
        file.as_deref().unwrap().ends_with("-source/flake.nix"),
        "{file:?}"
    );
    // nix points at the string added to an integer in `evalerr = mk "evalerr" (1 + "x");`.
    let (want_line, want_col) = position_in_source("evalerr = mk", "\"x\"");
    assert_eq!((*line, *column), (Some(want_line), Some(want_col)));
    assert_eq!(message, "cannot add a string to an integer");
    assert!(
        f.first_line
            .starts_with("error: cannot add a string to an integer: /nix/store/")
    );
    assert!(
        f.first_line
            .ends_with(&format!("-source/flake.nix:{want_line}:{want_col}"))
    );
    // The "(use '--show-trace' ...)" hint is level 0 but not an error.
    assert_eq!(state.errors_total(), 1);
    assert!(state.derivations().is_empty());
}

#[test]
fn attribute_missing_inside_an_expression() {
    let (state, failure) = triage("attribute-missing.log");
    let f = failure.unwrap();
    assert_eq!(
        f.class,
        ErrorClass::MissingAttribute {
            attribute: "nope".into()
        }
    );
    assert_eq!(f.first_line, "error: attribute 'nope' missing");
    let (line, col) = position_in_source("missattr =", "(mk");
    let e = state.first_error().unwrap();
    assert_eq!((e.line, e.column), (Some(line), Some(col)));
}

#[test]
fn flake_does_not_provide_attribute() {
    let (_, failure) = triage("missing-attribute.log");
    let f = failure.unwrap();
    assert_eq!(
        f.class,
        ErrorClass::MissingAttribute {
            attribute: "packages.x86_64-linux.nope".into()
        }
    );
    assert!(f.first_line.starts_with("error: flake 'path:/tmp/"));
    assert!(f.first_line.ends_with(
        "does not provide attribute 'packages.x86_64-linux.nope', 'legacyPackages.x86_64-linux.nope' or 'nope'"
    ));
}

#[test]
fn dependency_failed() {
    let (state, failure) = triage("dependency-failed.log");
    let f = failure.unwrap();
    let ErrorClass::DependencyFailed {
        drv,
        dependency,
        exit_code,
        last_lines,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(drv.ends_with("-depfail.drv"), "{drv}");
    assert!(dependency.as_deref().unwrap().ends_with("-fails.drv"));
    assert_eq!(*exit_code, Some(3));
    assert_eq!(last_lines.last().unwrap(), "make: *** [all] Error 1");
    // The first relevant line is the root cause: the dependency's builder.
    assert!(
        f.first_line.starts_with("error: builder for '/nix/store/")
            && f.first_line.contains("-fails.drv")
    );
    assert_eq!(names(&state, DrvStatus::Failed), ["fails", "depfail"]);
    let depfail = state.derivation(drv).unwrap();
    assert_eq!(
        depfail.error.as_deref(),
        Some(&*format!(
            "error: 1 dependencies of derivation '{drv}' failed to build"
        ))
    );
    assert_eq!(depfail.log_lines, 0, "never started");
    assert_eq!(state.errors_total(), 2);
}

#[test]
fn phases_and_builder_warning() {
    let (state, failure) = triage("phases.log");
    assert_eq!(failure, None);
    let d = &state.derivations()[0];
    assert_eq!((d.name.as_str(), d.status), ("phases", DrvStatus::Built));
    assert_eq!(
        d.phase.as_deref(),
        Some("installPhase"),
        "the last phase announced"
    );
    assert_eq!(
        d.tail().collect::<Vec<_>>(),
        ["unpacking sources", "building", "installing"]
    );
    assert_eq!(state.warnings_total(), 1);
    assert_eq!(state.warnings()[0].plain, "builder says warn");
}

#[test]
fn phase_changes_are_seen_while_building() {
    let text = fs::read_to_string(fixtures().join("phases.log")).unwrap();
    let mut state = BuildState::new();
    let mut seen = Vec::new();
    for line in text.lines() {
        state.apply(&parse_line(line));
        if let Some(d) = state.derivations().first()
            && d.status == DrvStatus::Building
            && seen.last() != d.phase.as_ref()
        {
            seen.push(d.phase.clone().unwrap_or_default());
        }
    }
    assert_eq!(seen, ["unpackPhase", "buildPhase", "installPhase"]);
}

#[test]
fn long_log_keeps_a_bounded_tail_with_colours() {
    let (state, stats) = load("long.log");
    assert_eq!(stats.lines, 1025);
    let d = &state.derivations()[0];
    assert_eq!((d.status, d.log_lines), (DrvStatus::Built, 1000));
    let tail: Vec<&str> = d.tail().collect();
    assert_eq!(tail.len(), atwb::nix::state::DEFAULT_TAIL_LINES);
    assert_eq!(
        tail.last().unwrap(),
        &"line 1000 of a long build log: \u{1b}[32mok\u{1b}[0m"
    );
    assert_eq!(
        tail[0],
        "line 951 of a long build log: \u{1b}[32mok\u{1b}[0m"
    );
    assert_eq!(
        atwb::nix::ansi::strip(tail[0]),
        "line 951 of a long build log: ok"
    );
}

#[test]
fn test_failed() {
    let (_, failure) = triage("test-failed.log");
    let f = failure.unwrap();
    let ErrorClass::TestFailed {
        drv,
        exit_code,
        last_lines,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(drv.ends_with("-hello-smoke.drv"));
    assert_eq!(*exit_code, Some(1));
    assert_eq!(
        last_lines,
        &["running hello --version", "hello: command not found"]
    );
}

#[test]
fn nix_own_timeout() {
    let (state, failure) = triage("nix-timeout.log");
    let f = failure.unwrap();
    let ErrorClass::Timeout { drv: Some(drv) } = &f.class else {
        panic!("{f:?}")
    };
    assert!(
        drv.ends_with("-slow.drv"),
        "the `!out` suffix is dropped: {drv}"
    );
    assert!(
        f.first_line.ends_with("timed out after 2 seconds"),
        "{}",
        f.first_line
    );
    assert_eq!(names(&state, DrvStatus::Failed), ["slow"]);
    assert!(state.derivation(drv).unwrap().tail().any(|l| l == "tick 1"));
}

#[test]
fn dry_run_lists_planned_derivations() {
    let (state, failure) = triage("dry-run.log");
    assert_eq!(failure, None, "the listing is level 0 but is not an error");
    assert_eq!(names(&state, DrvStatus::Planned), ["fails", "depfail"]);
    assert_eq!(state.errors_total(), 0);
}

#[test]
fn interrupted() {
    let (state, failure) = triage("interrupted.log");
    let f = failure.unwrap();
    assert_eq!(
        (f.class, f.first_line.as_str()),
        (ErrorClass::Cancelled, "error: interrupted by the user")
    );
    assert!(state.interrupted());
    let slow = &state.derivations()[0];
    assert_eq!(
        (slow.name.as_str(), slow.status),
        ("slow", DrvStatus::Cancelled)
    );
    assert!(slow.log_lines >= 2 && slow.tail().next() == Some("tick 1"));
    assert_eq!(
        state.progress().running,
        1,
        "nix's last count before the interrupt"
    );
}

#[test]
fn plain_format_log_still_triages() {
    let (state, stats) = load("plain-builder-failed.log");
    assert_eq!(stats.json_events, 0);
    assert_eq!(state.plain_lines(), 5);
    let f = classify(&state, &ExitInfo::exited(1)).unwrap();
    let ErrorClass::BuilderFailed {
        drv,
        exit_code,
        last_lines,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(drv.ends_with("-fails.drv"));
    assert_eq!(*exit_code, Some(3));
    // `fails> ...` lines are handed to the derivation the error names.
    assert_eq!(
        last_lines,
        &[
            "compiling foo.c",
            "foo.c:3: error: expected ';'",
            "make: *** [all] Error 1"
        ]
    );
    assert!(
        state
            .plain_tail()
            .any(|l| l == "fails> foo.c:3: error: expected ';'")
    );
}

#[test]
fn plain_format_hash_mismatch_reads_the_indented_lines() {
    let (state, _) = load("plain-hash-mismatch.log");
    let f = classify(&state, &ExitInfo::exited(1)).unwrap();
    let ErrorClass::HashMismatch {
        drv,
        specified,
        got,
        confirmed,
    } = &f.class
    else {
        panic!("{f:?}")
    };
    assert!(!*confirmed, "a plain log cannot tell nix from a builder");
    assert!(drv.ends_with("-fod.drv"));
    assert_eq!(
        specified,
        "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    assert!(got.starts_with("sha256-") && got.len() == 51 && got != specified);
    assert_eq!(names(&state, DrvStatus::Failed), ["fod", "usesfod"]);
    assert_eq!(
        state.errors_total(),
        2,
        "continuation lines are not errors of their own"
    );
    let fod = state.derivation(drv).unwrap();
    assert_eq!(fod.tail().collect::<Vec<_>>(), ["fetching"]);
}

// ---- `atwb log` ----

fn atwb_log(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("log")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fixture_arg(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

#[test]
fn atwb_log_exit_codes() {
    for name in TESTED {
        let (code, _, err) = atwb_log(&[&fixture_arg(name)]);
        let ok = matches!(
            *name,
            "success.log"
                | "chain.log"
                | "phases.log"
                | "long.log"
                | "dry-run.log"
                | "tree-dry-run.log"
        );
        assert_eq!(code, i32::from(!ok), "{name}: {err}");
    }
}

#[test]
fn atwb_log_json_summary() {
    let (code, out, _) = atwb_log(&[&fixture_arg("dependency-failed.log"), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["class"], "dependency_failed");
    assert!(
        v["error"]["first_line"]
            .as_str()
            .unwrap()
            .contains("failed with exit code 3")
    );
    assert!(
        v["error"]["dependency"]
            .as_str()
            .unwrap()
            .ends_with("-fails.drv")
    );
    let failed: Vec<&str> = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["fails", "depfail"]);
    assert_eq!(
        v["failed"][0]["last_lines"][1],
        "foo.c:3: error: expected ';'"
    );
    assert_eq!(
        v["progress"],
        serde_json::json!({"done": 0, "expected": 0, "running": 0, "failed": 1})
    );
    assert_eq!(v["lines"], 38);

    let (code, out, _) = atwb_log(&[&fixture_arg("phases.log"), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(v["built"][0]["phase"], "installPhase");
    assert_eq!(v["warnings"], serde_json::json!(["builder says warn"]));
}

#[test]
fn atwb_log_text_summary() {
    let (code, out, _) = atwb_log(&[&fixture_arg("hash-mismatch.log")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("result: hash mismatch (hash_mismatch)"),
        "{out}"
    );
    assert!(
        out.contains("specified: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        "{out}"
    );
    let (_, out, _) = atwb_log(&[&fixture_arg("builder-failed.log")]);
    assert!(
        out.contains("last 3 log lines of fails:\n  > compiling foo.c"),
        "{out}"
    );
}

#[test]
fn atwb_log_bad_input() {
    let (code, _, err) = atwb_log(&["/nonexistent/ci.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot open log /nonexistent/ci.log"), "{err}");
    // Invalid UTF-8 and an empty file are read, not rejected.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.log");
    fs::write(
        &odd,
        b"\xff\xfe not utf8\n@nix {\"action\":\"stop\",\"id\":1}\n",
    )
    .unwrap();
    let (code, out, _) = atwb_log(&[odd.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["lines"].as_u64(), v["json_events"].as_u64()),
        (Some(2), Some(1))
    );
    let empty = dir.path().join("empty.log");
    fs::write(&empty, "").unwrap();
    // Read, but it holds no nix output: not a nix log, not a success.
    assert_eq!(atwb_log(&[empty.to_str().unwrap()]).0, 2);
}

// ---- live capture with the installed nix ----

/// Build `attr` of a fresh flake (no inputs, builder /bin/sh) and return the internal-json log
/// and nix's exit code.
fn capture(dir: &Path, flake: &str, attr: &str) -> (String, i32) {
    fs::write(dir.join("flake.nix"), flake).unwrap();
    let out = common::nix()
        .args(["build", "--no-link", "--log-format", "internal-json", "-v"])
        .arg(format!("{}#{attr}", dir.display()))
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn live_hash_mismatch_reports_the_real_hash() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A unique content so the output is never already in the store.
    let content = format!("atwb-live-{}", std::process::id());
    let flake = format!(
        r#"{{ outputs = {{ self }}: {{ fod = derivation {{
            name = "live-fod"; system = "x86_64-linux"; builder = "/bin/sh";
            args = [ "-c" "printf %s {content} > $out" ];
            outputHashMode = "flat"; outputHashAlgo = "sha256";
            outputHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; }}; }}; }}"#
    );
    let (log, code) = capture(dir.path(), &flake, "fod");
    assert_eq!(code, 1, "{log}");
    let mut state = BuildState::new();
    for line in log.lines() {
        state.apply(&parse_line(line));
    }
    let f = classify(&state, &ExitInfo::exited(code)).unwrap();
    let ErrorClass::HashMismatch { got, .. } = &f.class else {
        panic!("{f:?}\n{log}")
    };
    // The hash nix computed independently of the build: `nix hash file` of the same bytes.
    let file = dir.path().join("content");
    fs::write(&file, &content).unwrap();
    let want = common::nix()
        .args(["hash", "file", "--type", "sha256"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(got, String::from_utf8(want.stdout).unwrap().trim());
}

#[test]
fn live_builder_failure_attributes_lines() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flake = format!(
        r#"{{ outputs = {{ self }}: {{ bad = derivation {{
            name = "live-bad"; system = "x86_64-linux"; builder = "/bin/sh"; nonce = "{}";
            args = [ "-c" "echo '@nix {{\"action\":\"setPhase\",\"phase\":\"checkPhase\"}}' >&2; echo first; echo second >&2; exit 7" ]; }}; }}; }}"#,
        std::process::id()
    );
    let (log, code) = capture(dir.path(), &flake, "bad");
    assert_eq!(code, 1, "{log}");
    let mut state = BuildState::new();
    for line in log.lines() {
        state.apply(&parse_line(line));
    }
    let f = classify(&state, &ExitInfo::exited(code)).unwrap();
    let ErrorClass::BuilderFailed {
        drv,
        exit_code,
        last_lines,
    } = &f.class
    else {
        panic!("{f:?}\n{log}")
    };
    assert_eq!(*exit_code, Some(7));
    assert_eq!(last_lines, &["first", "second"]);
    let d = state.derivation(drv).unwrap();
    assert_eq!(
        (d.status, d.phase.as_deref()),
        (DrvStatus::Failed, Some("checkPhase"))
    );
}

/// The derivation-tree captures: the build state and the tree agree on what was built, and the
/// failed runs are classified as failures (the tree's own fold is tested in `nix::drvtree`).
#[test]
fn derivation_tree_fixtures_agree_with_the_build_state() {
    use atwb::nix::drvtree::{DrvTree, NodeState};
    for (name, built, failed) in [
        ("tree-keep-going.log", 3, true),
        ("tree-fail-fast.log", 1, true),
        ("tree-dry-run.log", 0, false),
    ] {
        let (state, failure) = triage(name);
        assert_eq!(failure.is_some(), failed, "{name}: {failure:?}");
        let text = fs::read_to_string(fixtures().join(name)).unwrap();
        let mut tree = DrvTree::new();
        for (i, line) in text.lines().enumerate() {
            tree.apply(&parse_line(line), i as u64);
        }
        let done = tree
            .nodes()
            .iter()
            .filter(|n| n.state == NodeState::Done)
            .count();
        assert_eq!(done, built, "{name}");
        assert_eq!(state.with_status(DrvStatus::Built).count(), built, "{name}");
    }
}
