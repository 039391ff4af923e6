use super::plain::{PLAIN_NAMES, builder_line};
use super::*;
use crate::nix::internal_json::parse_line;

const DRV: &str = "/nix/store/8xq9jrgl1pafdwanb0cansra213affyn-hello-1.0.drv";

fn feed(state: &mut BuildState, lines: &[String]) {
    for l in lines {
        state.apply(&parse_line(l));
    }
}

fn start_build(id: u64, drv: &str) -> String {
    format!(
        r#"@nix {{"action":"start","fields":["{drv}","",1,1],"id":{id},"level":3,"text":"building","type":105}}"#
    )
}

fn res(id: u64, t: u64, fields: &str) -> String {
    format!(r#"@nix {{"action":"result","fields":{fields},"id":{id},"type":{t}}}"#)
}

fn stop(id: u64) -> String {
    format!(r#"@nix {{"action":"stop","id":{id}}}"#)
}

fn builds(id: u64) -> String {
    format!(r#"@nix {{"action":"start","id":{id},"level":0,"text":"","type":104}}"#)
}

#[test]
fn kept_lines_and_messages_are_clipped() {
    let mut s = BuildState::new();
    let long = "é".repeat(MAX_KEPT_LINE); // 2 bytes each: the cut falls inside a char
    let msg = "x".repeat(MAX_KEPT_MESSAGE + 10);
    feed(
        &mut s,
        &[
            start_build(2, DRV),
            res(2, 101, &format!(r#"["{long}"]"#)),
            format!(r#"@nix {{"action":"msg","level":1,"msg":"{msg}"}}"#),
        ],
    );
    let kept = s.derivation(DRV).unwrap().tail().next().unwrap();
    assert_eq!(kept.len(), MAX_KEPT_LINE);
    assert!(kept.chars().all(|c| c == 'é'));
    assert_eq!(s.warnings()[0].text.len(), MAX_KEPT_MESSAGE);
    assert_eq!(s.warnings()[0].plain.len(), MAX_KEPT_MESSAGE);
}

#[test]
fn drv_names() {
    assert_eq!(drv_name(DRV), "hello-1.0");
    assert_eq!(
        drv_name("/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv!out"),
        "slow"
    );
    assert_eq!(drv_name("weird"), "weird");
}

#[test]
fn build_lifecycle_phase_and_bounded_tail() {
    let mut s = BuildState::with_tail_lines(3);
    let mut lines = vec![
        builds(1),
        res(1, 105, "[0,1,0,0]"),
        start_build(2, DRV),
        res(1, 105, "[0,1,1,0]"),
    ];
    lines.push(res(2, 104, r#"["buildPhase"]"#));
    for i in 0..10 {
        lines.push(res(2, 101, &format!(r#"["line {i}"]"#)));
    }
    feed(&mut s, &lines);
    let d = s.derivation(DRV).unwrap();
    assert_eq!(d.status, DrvStatus::Building);
    assert_eq!(d.phase.as_deref(), Some("buildPhase"));
    assert_eq!(d.log_lines, 10);
    assert_eq!(d.tail().collect::<Vec<_>>(), ["line 7", "line 8", "line 9"]);
    assert_eq!(s.derivation_of_activity(2).unwrap().name, "hello-1.0");
    assert_eq!(
        s.progress(),
        Progress {
            done: 0,
            expected: 1,
            running: 1,
            failed: 0
        }
    );
    assert_eq!(s.planned_count(), 0);
    feed(
        &mut s,
        &[
            res(2, 104, r#"["installPhase"]"#),
            res(1, 105, "[1,1,0,0]"),
            stop(2),
        ],
    );
    let d = s.derivation(DRV).unwrap();
    assert_eq!(
        (d.status, d.phase.as_deref()),
        (DrvStatus::Built, Some("installPhase"))
    );
    assert!(
        s.derivation_of_activity(2).is_none(),
        "finished activities are forgotten"
    );
}

#[test]
fn failed_count_before_stop_marks_failed() {
    let mut s = BuildState::new();
    feed(
        &mut s,
        &[
            builds(1),
            start_build(2, DRV),
            res(1, 105, "[0,0,0,1]"),
            stop(2),
        ],
    );
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
}

#[test]
fn stop_without_counter_change_is_stopped_then_message_decides() {
    let mut s = BuildState::new();
    feed(&mut s, &[builds(1), start_build(2, DRV), stop(2)]);
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Stopped);
    let err = format!(
        r#"@nix {{"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m builder for '\u001b[35;1m{DRV}\u001b[0m' failed with exit code 3\u001b[0m","raw_msg":"x"}}"#
    );
    feed(&mut s, &[err]);
    let d = s.derivation(DRV).unwrap();
    assert_eq!((d.status, d.exit_code), (DrvStatus::Failed, Some(3)));
    assert_eq!(
        d.error.as_deref(),
        Some(&*format!(
            "error: builder for '{DRV}' failed with exit code 3"
        ))
    );
    assert_eq!(
        s.first_error().unwrap().first_line(),
        d.error.as_deref().unwrap()
    );
}

#[test]
fn error_naming_a_built_drv_corrects_it() {
    let mut s = BuildState::new();
    feed(
        &mut s,
        &[
            builds(1),
            start_build(2, DRV),
            res(1, 105, "[1,1,0,0]"),
            stop(2),
        ],
    );
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Built);
    let err = format!(
        r#"@nix {{"action":"msg","level":0,"msg":"error: hash mismatch in fixed-output derivation '{DRV}':","raw_msg":"x"}}"#
    );
    feed(&mut s, &[err]);
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
}

#[test]
fn dependency_failure_names_a_drv_never_started() {
    let mut s = BuildState::new();
    let err = format!(
        r#"@nix {{"action":"msg","level":0,"msg":"error: 1 dependencies of derivation '{DRV}' failed to build","raw_msg":"x"}}"#
    );
    feed(&mut s, &[err]);
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
}

#[test]
fn interrupted_cancels_what_was_building() {
    let mut s = BuildState::new();
    let other = "/nix/store/11111111111111111111111111111111-other.drv";
    feed(
        &mut s,
        &[
            builds(1),
            start_build(2, DRV),
            start_build(3, other),
            stop(3),
            r#"@nix {"action":"msg","level":0,"msg":"error: interrupted by the user","raw_msg":"interrupted by the user"}"#.into(),
        ],
    );
    assert!(s.interrupted());
    assert!(
        s.derivations()
            .iter()
            .all(|d| d.status == DrvStatus::Cancelled)
    );
}

#[test]
fn transfers_progress_and_totals() {
    let mut s = BuildState::new();
    feed(
        &mut s,
        &[
            r#"@nix {"action":"start","id":1,"level":0,"text":"","type":102}"#.into(),
            res(1, 106, "[101,5000]"),
            res(1, 106, "[101,6000]"),
            res(1, 106, "[100,7000]"),
            r#"@nix {"action":"start","fields":["https://cache/x.nar.xz"],"id":2,"level":4,"text":"downloading","type":101}"#.into(),
            r#"@nix {"action":"start","fields":["/nix/store/aaaa-x","https://cache","local"],"id":3,"level":4,"text":"copying","type":100}"#.into(),
            r#"@nix {"action":"start","fields":["/nix/store/aaaa-x","https://cache"],"id":4,"level":4,"text":"substituting","type":108}"#.into(),
            res(2, 105, "[100,400,0,0]"),
            res(3, 105, "[10,20,0,0]"),
        ],
    );
    assert_eq!(
        s.expected(ActivityType::FileTransfer),
        6000,
        "a later SetExpected replaces"
    );
    assert_eq!(s.expected(ActivityType::CopyPath), 7000);
    let active = |kind| {
        let t = s.transfers().find(|t| t.kind == kind).unwrap();
        (t.what.clone(), t.done_bytes, t.expected_bytes)
    };
    assert_eq!(s.transfers().count(), 3);
    assert_eq!(
        active(ActivityKindName::CopyPath),
        ("/nix/store/aaaa-x".into(), 10, 20)
    );
    assert_eq!(
        active(ActivityKindName::FileTransfer),
        ("https://cache/x.nar.xz".into(), 100, 400)
    );
    assert_eq!(
        active(ActivityKindName::Substitute),
        ("/nix/store/aaaa-x".into(), 0, 0)
    );
    feed(
        &mut s,
        &[res(2, 105, "[400,400,0,0]"), stop(2), stop(3), stop(4)],
    );
    assert_eq!(s.transfers().count(), 0);
    assert_eq!(
        s.transfer_totals(),
        TransferTotals {
            copies: 1,
            downloads: 1,
            substitutions: 1,
            bytes: 410
        }
    );
}

#[test]
fn copy_paths_progress_is_separate() {
    let mut s = BuildState::new();
    feed(
        &mut s,
        &[
            r#"@nix {"action":"start","id":1,"level":0,"text":"","type":103}"#.into(),
            res(1, 105, "[2,5,1,0]"),
        ],
    );
    assert_eq!(
        s.copy_progress(),
        Progress {
            done: 2,
            expected: 5,
            running: 1,
            failed: 0
        }
    );
    assert_eq!(s.progress(), Progress::default());
}

#[test]
fn messages_are_bounded_and_listings_are_not_errors() {
    let mut s = BuildState::new();
    let mut lines = vec![
        r#"@nix {"action":"msg","level":0,"msg":"these 2 derivations will be built:"}"#.to_string(),
        format!(r#"@nix {{"action":"msg","level":0,"msg":"  {DRV}"}}"#),
        r#"@nix {"action":"msg","level":0,"msg":"(use '--show-trace' to show detailed location information)"}"#.into(),
        r#"@nix {"action":"msg","level":3,"msg":"info"}"#.into(),
    ];
    for i in 0..MAX_MESSAGES + 5 {
        lines.push(format!(
            r#"@nix {{"action":"msg","level":1,"msg":"\u001b[35;1mwarning:\u001b[0m w{i}"}}"#
        ));
        lines.push(format!(
            r#"@nix {{"action":"msg","level":0,"msg":"error: e{i}","raw_msg":"e{i}"}}"#
        ));
    }
    feed(&mut s, &lines);
    assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Planned);
    assert_eq!(
        (s.warnings().len(), s.warnings_total()),
        (MAX_MESSAGES, MAX_MESSAGES as u64 + 5)
    );
    assert_eq!(
        (s.errors().len(), s.errors_total()),
        (MAX_MESSAGES, MAX_MESSAGES as u64 + 5)
    );
    assert_eq!(s.warnings()[0].first_line(), "warning: w0");
    assert_eq!(s.warnings()[0].text, "\u{1b}[35;1mwarning:\u{1b}[0m w0");
    assert_eq!(s.first_error().unwrap().first_line(), "error: e0");
}

#[test]
fn plain_lines_are_kept_bounded_and_error_lines_count() {
    let mut s = BuildState::with_tail_lines(2);
    for l in [
        "building '/nix/store/x.drv'...",
        "fails> out",
        "error: builder for '/nix/store/x-a.drv' failed with exit code 2",
    ] {
        s.apply(&parse_line(l));
    }
    assert_eq!(s.plain_lines(), 3);
    assert_eq!(s.plain_tail().count(), 2);
    assert_eq!(s.errors_total(), 1);
    assert_eq!(
        s.derivation("/nix/store/x-a.drv").unwrap().exit_code,
        Some(2)
    );
}

#[test]
fn plain_builder_output_is_bounded_and_handed_to_the_failed_drv() {
    let mut s = BuildState::with_tail_lines(2);
    for i in 0..PLAIN_NAMES + 4 {
        s.apply(&parse_line(&format!("pkg{i}> out {i}")));
    }
    for l in ["hello-1.0> a", "hello-1.0> b", "hello-1.0> c"] {
        s.apply(&parse_line(l));
    }
    assert_eq!(
        s.plain.by_name.len(),
        PLAIN_NAMES,
        "only the most recent names"
    );
    assert!(s.plain.by_name.iter().all(|(n, _, _)| n != "pkg0"));
    s.apply(&parse_line(&format!(
        "error: builder for '{DRV}' failed with exit code 1"
    )));
    let d = s.derivation(DRV).unwrap();
    assert_eq!(
        (d.log_lines, d.tail().collect::<Vec<_>>()),
        (3, vec!["b", "c"])
    );
    // Not builder lines: no name, a space in the name, an `error:`-like prefix.
    assert_eq!(builder_line("> x"), None);
    assert_eq!(builder_line("two words> x"), None);
    assert_eq!(builder_line("warning:> x"), None);
    assert_eq!(builder_line("a-b.c> x > y"), Some(("a-b.c", "x > y")));
}

#[test]
fn plain_error_continuation_stops_at_an_unindented_line() {
    let mut s = BuildState::new();
    for l in [
        "error: something went wrong:",
        "       detail one",
        "unrelated line",
        "       not a continuation",
    ] {
        s.apply(&parse_line(l));
    }
    assert_eq!(s.errors().len(), 1);
    assert_eq!(
        s.errors()[0].plain,
        "error: something went wrong:\n       detail one"
    );
    // A JSON event also ends it.
    s.apply(&parse_line("error: second"));
    s.apply(&parse_line(r#"@nix {"action":"stop","id":1}"#));
    s.apply(&parse_line("       after json"));
    assert_eq!(s.errors()[1].plain, "error: second");
}

#[test]
fn lines_for_unknown_activities_are_counted_not_kept() {
    let mut s = BuildState::new();
    feed(&mut s, &[res(99, 101, r#"["stray"]"#), stop(99)]);
    assert_eq!(s.orphan_lines(), 1);
    assert!(s.derivations().is_empty());
    assert_eq!(s.events(), 2);
}

#[test]
fn top_level_set_phase_goes_to_the_only_building_drv() {
    let mut s = BuildState::new();
    feed(
        &mut s,
        &[
            start_build(2, DRV),
            r#"@nix {"action":"setPhase","phase":"checkPhase"}"#.into(),
        ],
    );
    assert_eq!(
        s.derivation(DRV).unwrap().phase.as_deref(),
        Some("checkPhase")
    );
}

#[test]
fn failed_drv_wordings() {
    let d = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv";
    for line in [
        format!("error: builder for '{d}' failed with exit code 3"),
        format!("error: hash mismatch in fixed-output derivation '{d}':"),
        format!("error: 1 dependencies of derivation '{d}' failed to build"),
        format!("error: building of '{d}!out' from .drv file timed out after 2 seconds"),
    ] {
        assert_eq!(failed_drv_in(&line), Some(d), "{line}");
    }
    assert_eq!(failed_drv_in("error: builder for 'not-a-drv' failed"), None);
}

#[test]
fn failure_kinds_in_every_known_wording() {
    use FailureKind::*;
    let d = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv";
    let cases = [
        // Nix 2.8 (captured).
        (
            format!("error: builder for '{d}' failed with exit code 3"),
            Builder { exit_code: Some(3) },
        ),
        (
            format!("error: hash mismatch in fixed-output derivation '{d}':\n  specified: x"),
            HashMismatch,
        ),
        (
            format!("error: 2 dependencies of derivation '{d}' failed to build"),
            Dependencies,
        ),
        (
            format!("error: building of '{d}!out' from .drv file timed out after 2 seconds"),
            Timeout,
        ),
        // Nix 2.4-2.24 plain format: a `;` and the last log lines follow.
        (
            format!(
                "error: builder for '{d}' failed with exit code 2;\n       last 10 log lines:\n       > x"
            ),
            Builder { exit_code: Some(2) },
        ),
        // Nix >= 2.25: the reason on its own line.
        (
            format!(
                "error: Cannot build '{d}'.\n       Reason: builder failed with exit code 1.\n       Output paths:\n         /nix/store/x"
            ),
            Builder { exit_code: Some(1) },
        ),
        (
            format!("error: Cannot build '{d}'.\n       Reason: 1 dependency failed."),
            Dependencies,
        ),
        (
            format!("error: Cannot build '{d}'.\n       Reason: 5 dependencies failed."),
            Dependencies,
        ),
        // Nix 2.3.
        (
            format!("cannot build derivation '{d}': 1 dependencies couldn't be built"),
            Dependencies,
        ),
    ];
    for (message, kind) in cases {
        assert_eq!(
            drv_failure(&message),
            Some(DrvFailure { drv: d, kind }),
            "{message}"
        );
    }
    assert_eq!(drv_failure("error: interrupted by the user"), None);
    assert_eq!(drv_failure(""), None);
}
