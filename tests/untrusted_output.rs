//! Terminal escape injection: a catalog or a log is untrusted text, and nothing in it may reach
//! the terminal as a control character (window title, OSC 52 clipboard write, screen clear, C1
//! CSI). `tests/fixtures/hostile/` holds such a catalog; every subcommand that prints catalog or
//! log text must show the characters visibly escaped, in text and in JSON.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn hostile_catalog() -> PathBuf {
    common::repo_root().join("tests/fixtures/hostile/catalog")
}

/// Run atwb and return (exit code, stdout, stderr).
fn atwb(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atwb"))
        .args(args)
        .env_remove("ATWB_CATALOG")
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("atwb-untrusted-state"),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The control characters a terminal acts on: C0 except newline and tab, DEL, C1.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}'))
        .collect()
}

fn assert_clean(what: &str, out: &str, err: &str) {
    assert_eq!(
        raw_controls(out),
        Vec::<char>::new(),
        "{what} stdout: {out:?}"
    );
    assert_eq!(
        raw_controls(err),
        Vec::<char>::new(),
        "{what} stderr: {err:?}"
    );
}

#[test]
fn show_list_and_check_print_no_raw_control_characters() {
    let cat = hostile_catalog();
    let cat = cat.to_str().unwrap();
    // `show` of the package whose free-text fields carry escapes (or, should the validator come
    // to reject such strings, its diagnostics): the text is there, escaped.
    let (_, out, err) = atwb(&["--catalog", cat, "show", "shiny"]);
    assert_clean("show", &out, &err);
    let all = format!("{out}{err}");
    assert!(all.contains("\\u{1b}]0;pwned\\u{7}"), "{all}");

    let (_, out, err) = atwb(&["--catalog", cat, "list"]);
    assert_clean("list", &out, &err);

    // `check` echoes the rejected category value.
    let (code, out, err) = atwb(&["--catalog", cat, "check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_clean("check", &out, &err);
    assert!(out.contains("`app\\u{1b}]0;pwned\\u{7}`"), "{out}");
    let (_, out, err) = atwb(&["--catalog", cat, "show", "broken"]);
    assert_clean("show of a rejected package", &out, &err);
}

#[test]
fn json_output_keeps_the_values_and_no_raw_control_characters() {
    let cat = hostile_catalog();
    let cat = cat.to_str().unwrap();
    for args in [
        vec!["show", "shiny", "--json"],
        vec!["list", "--json"],
        vec!["check", "--json"],
    ] {
        let mut full = vec!["--catalog", cat];
        full.extend(&args);
        let (_, out, err) = atwb(&full);
        assert_clean(&args.join(" "), &out, &err);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_ne!(v, serde_json::Value::Null);
    }
    let (_, out, _) = atwb(&["--catalog", cat, "show", "shiny", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    if let Some(d) = v["long_description"].as_str() {
        assert!(
            d.contains("\u{9b}31m"),
            "the value itself is unchanged: {d:?}"
        );
    }
}

#[test]
fn atwb_log_prints_no_raw_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hostile.log");
    let drv = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-evil.drv";
    let lines = [
        // Raw ESC in a plain line (not JSON: a raw control character is invalid in JSON).
        "warning: \u{1b}]0;pwned\u{7} plain".to_string(),
        format!(r#"@nix {{"action":"start","fields":["{drv}","",1,1],"id":2,"level":3,"text":"b","type":105}}"#),
        r#"@nix {"action":"result","fields":["out \u0007\u009b2J\u001b]52;c;aGk=\u0007"],"id":2,"type":101}"#.to_string(),
        r#"@nix {"action":"msg","level":1,"msg":"warning: bell \u0007 and \u009b31m C1"}"#.to_string(),
        format!(
            r#"@nix {{"action":"msg","level":0,"msg":"error: builder for '{drv}' failed with exit code 1 \u0007\u009b2J","raw_msg":"x"}}"#
        ),
        "error: plain \u{1b}[2J\u{7} raw".to_string(),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let path = log.to_str().unwrap();
    let (code, out, err) = atwb(&["log", path]);
    assert_eq!(code, 1, "{out}{err}");
    assert_clean("log", &out, &err);
    assert!(out.contains("\\u{7}"), "escaped, not dropped: {out}");
    let (_, out, err) = atwb(&["log", path, "--json"]);
    assert_clean("log --json", &out, &err);
    serde_json::from_str::<serde_json::Value>(&out).unwrap();
}
