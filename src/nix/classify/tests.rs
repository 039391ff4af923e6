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
            confirmed: true,
        },
        first_line: "error: hash mismatch".into(),
    };
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"class": "hash_mismatch", "drv": "/nix/store/x-fod.drv",
            "specified": "sha256-A", "got": "sha256-B", "confirmed": true,
            "first_line": "error: hash mismatch"})
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
            evaluating: Some("/f:1:2 (while evaluating derivation 'x')".into()),
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
