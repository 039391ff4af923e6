use super::*;

fn result(line: &str) -> ResultKind<'_> {
    match parse_line(line) {
        Event::Result(r) => r.kind,
        other => panic!("not a result: {other:?}"),
    }
}

fn start(line: &str) -> Start<'_> {
    match parse_line(line) {
        Event::Start(s) => s,
        other => panic!("not a start: {other:?}"),
    }
}

#[test]
fn every_activity_type_and_unknown_numbers() {
    let known = [
        (0, ActivityType::Unknown),
        (100, ActivityType::CopyPath),
        (101, ActivityType::FileTransfer),
        (102, ActivityType::Realise),
        (103, ActivityType::CopyPaths),
        (104, ActivityType::Builds),
        (105, ActivityType::Build),
        (106, ActivityType::OptimiseStore),
        (107, ActivityType::VerifyPaths),
        (108, ActivityType::Substitute),
        (109, ActivityType::QueryPathInfo),
        (110, ActivityType::PostBuildHook),
        (111, ActivityType::BuildWaiting),
        (112, ActivityType::FetchTree),
        (113, ActivityType::Other(113)),
        (7, ActivityType::Other(7)),
    ];
    for (code, kind) in known {
        let line =
            format!(r#"@nix {{"action":"start","id":9,"level":3,"text":"t","type":{code}}}"#);
        let s = start(&line);
        assert_eq!(s.activity, kind, "type {code}");
        assert_eq!(s.activity.code(), code);
        assert_eq!((s.id, s.level, &*s.text), (9, 3, "t"));
    }
}

#[test]
fn build_start_fields() {
    let s = start(
        r#"@nix {"action":"start","fields":["/nix/store/8xq9jrgl1pafdwanb0cansra213affyn-ok.drv","",1,1],"id":61572651155461,"level":3,"text":"building '/nix/store/8xq9jrgl1pafdwanb0cansra213affyn-ok.drv'","type":105}"#,
    );
    assert_eq!(
        s.drv_path(),
        Some("/nix/store/8xq9jrgl1pafdwanb0cansra213affyn-ok.drv")
    );
    assert_eq!(s.fields[1], Field::Str(Cow::Borrowed("")));
    assert_eq!(s.fields[2].as_u64(), Some(1));
    assert_eq!(s.parent, 0);
    let with_parent = start(
        r#"@nix {"action":"start","id":2,"parent":1,"type":100,"fields":["/nix/store/x",null,true,-1,1.5,[1],{"a":1}]}"#,
    );
    assert_eq!(with_parent.parent, 1);
    assert_eq!(
        with_parent.drv_path(),
        None,
        "only Build and PostBuildHook name a drv"
    );
    assert_eq!(with_parent.str_field(0), Some("/nix/store/x"));
    assert!(with_parent.fields[1..].iter().all(|f| *f == Field::Other));
}

#[test]
fn every_result_type() {
    let r = |t: u64, fields: &str| {
        format!(r#"@nix {{"action":"result","fields":{fields},"id":5,"type":{t}}}"#)
    };
    assert_eq!(
        result(&r(100, "[4096,8]")),
        ResultKind::FileLinked {
            bytes: 4096,
            blocks: 8
        }
    );
    assert_eq!(
        result(&r(101, r#"["hello"]"#)),
        ResultKind::BuildLogLine("hello".into())
    );
    assert_eq!(
        result(&r(102, r#"["/nix/store/a"]"#)),
        ResultKind::UntrustedPath("/nix/store/a".into())
    );
    assert_eq!(
        result(&r(103, r#"["/nix/store/b"]"#)),
        ResultKind::CorruptedPath("/nix/store/b".into())
    );
    assert_eq!(
        result(&r(104, r#"["buildPhase"]"#)),
        ResultKind::SetPhase("buildPhase".into())
    );
    assert_eq!(
        result(&r(105, "[1,2,3,4]")),
        ResultKind::Progress(Progress {
            done: 1,
            expected: 2,
            running: 3,
            failed: 4
        })
    );
    assert_eq!(
        result(&r(106, "[101,5000]")),
        ResultKind::SetExpected {
            activity: ActivityType::FileTransfer,
            expected: 5000
        }
    );
    assert_eq!(
        result(&r(107, r#"["hook"]"#)),
        ResultKind::PostBuildLogLine("hook".into())
    );
    assert_eq!(
        result(&r(108, r#"["fetching"]"#)),
        ResultKind::FetchStatus("fetching".into())
    );
}

#[test]
fn unknown_result_types_and_odd_shapes_are_kept() {
    let other = result(r#"@nix {"action":"result","fields":["x",3],"id":5,"type":150}"#);
    assert_eq!(
        other,
        ResultKind::Other {
            code: 150,
            fields: vec![Field::Str("x".into()), Field::Int(3)]
        }
    );
    // A Progress with three numbers is not a Progress; it is kept, not dropped.
    let odd = result(r#"@nix {"action":"result","fields":[1,2,3],"id":5,"type":105}"#);
    assert!(matches!(odd, ResultKind::Other { code: 105, ref fields } if fields.len() == 3));
    let no_fields = result(r#"@nix {"action":"result","id":5,"type":101}"#);
    assert!(matches!(no_fields, ResultKind::Other { code: 101, ref fields } if fields.is_empty()));
}

#[test]
fn stop_msg_and_set_phase() {
    assert_eq!(
        parse_line(r#"@nix {"action":"stop","id":61572651155456}"#),
        Event::Stop { id: 61572651155456 }
    );
    let Event::Msg(m) = parse_line(
        r#"@nix {"action":"msg","column":37,"file":"/nix/store/x-source/flake.nix","level":0,"line":36,"msg":"\u001b[31;1merror:\u001b[0m cannot add","raw_msg":"cannot add"}"#,
    ) else {
        panic!("not a msg")
    };
    assert_eq!(m.level, level::ERROR);
    assert_eq!(
        m.msg, "\u{1b}[31;1merror:\u{1b}[0m cannot add",
        "original kept for display"
    );
    assert_eq!(m.plain(), "error: cannot add", "stripped copy for matching");
    assert_eq!(m.raw_msg.as_deref(), Some("cannot add"));
    assert_eq!(
        (m.file.as_deref(), m.line, m.column),
        (Some("/nix/store/x-source/flake.nix"), Some(36), Some(37))
    );
    let Event::Msg(n) = parse_line(
        r#"@nix {"action":"msg","column":null,"file":null,"level":1,"line":null,"msg":"warn"}"#,
    ) else {
        panic!()
    };
    assert_eq!((n.level, n.file, n.line, n.raw_msg), (1, None, None, None));
    assert_eq!(
        parse_line(r#"@nix {"action":"setPhase","phase":"buildPhase"}"#),
        Event::SetPhase {
            phase: "buildPhase".into()
        }
    );
    assert_eq!(
        parse_line(r#"@nix {"action":"frobnicate","id":1}"#),
        Event::UnknownAction {
            action: "frobnicate".into()
        }
    );
}

#[test]
fn non_json_lines_pass_through() {
    for line in [
        "fails> compiling foo.c",
        "error: builder for '/nix/store/x.drv' failed with exit code 3",
        "",
        "@nix",
        "@nix not json",
        "@nix {\"action\":\"start\"",            // truncated
        "@nix [1,2,3]",                          // not an object
        "@nix {\"id\":1}",                       // no action
        "@nix {\"action\":\"stop\"}",            // stop without id
        "@nix {\"action\":\"msg\",\"level\":0}", // msg without text
        "@nixx {\"action\":\"stop\",\"id\":1}",
        " @nix {\"action\":\"stop\",\"id\":1}",
    ] {
        assert_eq!(
            parse_line(line),
            Event::Plain(Cow::Borrowed(line)),
            "{line:?}"
        );
    }
    // The newline a reader leaves on the line is not part of the text.
    assert_eq!(parse_line("plain\r\n"), Event::Plain("plain".into()));
    assert_eq!(
        parse_line("@nix {\"action\":\"stop\",\"id\":3}\n"),
        Event::Stop { id: 3 }
    );
}

#[test]
fn strings_without_escapes_are_borrowed() {
    let line = r#"@nix {"action":"result","fields":["plain text"],"id":1,"type":101}"#;
    assert!(matches!(
        result(line),
        ResultKind::BuildLogLine(Cow::Borrowed("plain text"))
    ));
    let escaped = r#"@nix {"action":"result","fields":["tab\there \u001b[32mok\u001b[0m \"q\""],"id":1,"type":101}"#;
    assert_eq!(
        result(escaped),
        ResultKind::BuildLogLine("tab\there \u{1b}[32mok\u{1b}[0m \"q\"".into())
    );
}

#[test]
fn into_owned_keeps_everything() {
    let line = r#"@nix {"action":"start","fields":["/nix/store/a-b.drv","",1,1],"id":7,"level":3,"text":"building","type":105}"#;
    let owned: Event<'static> = parse_line(line).into_owned();
    assert_eq!(owned, parse_line(line));
}

#[test]
fn level_names() {
    assert_eq!(level::name(level::ERROR), "error");
    assert_eq!(level::name(level::VOMIT), "vomit");
    assert_eq!(level::name(42), "vomit");
}
