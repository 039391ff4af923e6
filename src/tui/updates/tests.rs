//! The updates view driven headless by actions and feedback, as the runtime would: rows
//! streaming in, sorting, filtering, the bump's preview, its write and the build it offers.

use crate::jobs::upstream::{Release, Status, UpstreamRow};
use crate::tui::action::{Action, Command, Feedback};
use crate::tui::app::{App, OnYes, Overlay};
use crate::tui::keymap::View;
use crate::tui::tests::{fixture_app, render};
use crate::tui::update::{on_feedback, update};
use crate::tui::updates::BumpPreview;

fn row(name: &str, status: Status, behind: Option<usize>) -> UpstreamRow {
    UpstreamRow {
        name: name.into(),
        url: format!("https://github.com/example/{name}"),
        pinned_rev: "1".repeat(40),
        pinned_version: "0-unstable-2026-01-01".into(),
        default_branch: Some("main".into()),
        head: (status != Status::Unreachable).then(|| "2".repeat(40)),
        newest_tag: None,
        newest_tag_rev: None,
        behind,
        status,
        reason: match status {
            Status::Outdated => format!("new commits, {} commits behind main", behind.unwrap_or(0)),
            Status::UpToDate => "at the head of main".into(),
            Status::Unreachable => "listing refs of https://github.com/example/x: timed out".into(),
        },
        problems: Vec::new(),
        release: None,
    }
}

fn view(app: &App) -> &crate::tui::updates::UpdatesView {
    app.overlays
        .iter()
        .find_map(|o| match o {
            Overlay::Updates(v) => Some(&**v),
            _ => None,
        })
        .expect("the updates view is open")
}

fn names(app: &App) -> Vec<String> {
    view(app).visible().iter().map(|r| r.name.clone()).collect()
}

/// Opens the view and streams three answers in (and one of an older check).
fn opened() -> App {
    let mut app = fixture_app(120, 30);
    let cmds = update(&mut app, Action::Updates);
    let [Command::CheckUpstream { check, queries }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(*check, 1);
    assert_eq!(queries.len(), app.catalog.packages.len());
    assert_eq!(app.view(), View::Updates);
    let mut behind = row("constellation", Status::Outdated, Some(5));
    behind.release = Some(Release {
        tag_name: "v0.3.0".into(),
        name: Some("Constellation 0.3".into()),
        body: Some("Faster backlinks.\n\nMore.".into()),
        html_url: None,
        published_at: Some("2026-02-01T00:00:00Z".into()),
    });
    behind
        .problems
        .push("fetching https://github.com/example/constellation: not done within 300s".into());
    for r in [
        row("pds", Status::UpToDate, Some(0)),
        behind,
        row("goat", Status::Unreachable, None),
        row("slingshot", Status::Outdated, Some(2)),
    ] {
        on_feedback(&mut app, Feedback::Upstream { check: 1, row: r });
    }
    // A row of a check the view no longer shows is dropped.
    on_feedback(
        &mut app,
        Feedback::Upstream {
            check: 0,
            row: row("leaflet", Status::Outdated, Some(9)),
        },
    );
    app
}

#[test]
fn rows_stream_in_sorted_by_status_and_filterable() {
    let mut app = opened();
    update(&mut app, Action::Top);
    assert_eq!(names(&app), ["constellation", "slingshot", "goat", "pds"]);
    insta::assert_snapshot!(render(&app).backend());

    update(&mut app, Action::CycleSort);
    assert_eq!(names(&app), ["constellation", "goat", "pds", "slingshot"]);
    update(&mut app, Action::CycleSort);
    assert_eq!(
        names(&app),
        ["constellation", "slingshot", "goat", "pds"],
        "by behind"
    );
    update(&mut app, Action::CycleSort);

    update(&mut app, Action::ToggleOutdatedOnly);
    assert_eq!(names(&app), ["constellation", "slingshot"]);
    update(&mut app, Action::ToggleOutdatedOnly);

    update(&mut app, Action::Search);
    assert_eq!(app.view(), View::Search, "keys go to the filter");
    for c in "sling".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    update(&mut app, Action::SearchConfirm);
    assert_eq!(names(&app), ["slingshot"]);
    assert_eq!(app.view(), View::Updates);
    update(&mut app, Action::ClearSearch);
    assert_eq!(names(&app).len(), 4);

    // A later row of the same package replaces it, the selection stays on its package.
    update(&mut app, Action::Top);
    update(&mut app, Action::MoveDown);
    assert_eq!(view(&app).selected_row().unwrap().name, "slingshot");
    on_feedback(
        &mut app,
        Feedback::Upstream {
            check: 1,
            row: row("constellation", Status::UpToDate, Some(0)),
        },
    );
    assert_eq!(view(&app).rows.len(), 4);
    assert_eq!(view(&app).selected_row().unwrap().name, "slingshot");

    // `r` checks again: a new check number, the rows start over.
    let cmds = update(&mut app, Action::Updates);
    assert!(
        matches!(cmds.as_slice(), [Command::CheckUpstream { check: 2, .. }]),
        "{cmds:?}"
    );
    assert!(view(&app).rows.is_empty());
    assert_eq!(app.overlays.len(), 1, "the same view, not a second one");
}

#[test]
fn enter_bumps_through_a_preview_then_offers_a_build() {
    let mut app = opened();
    // The selection followed pds, the first row to arrive, as others sorted above it.
    assert_eq!(view(&app).selected_row().unwrap().name, "pds");
    // goat (unreachable) cannot be bumped: the reason, no command.
    update(&mut app, Action::Top);
    update(&mut app, Action::MoveDown);
    update(&mut app, Action::MoveDown);
    assert!(update(&mut app, Action::Bump).is_empty());
    let n = app.notice.clone().unwrap();
    assert!(
        n.error && n.text.starts_with("goat: upstream unreachable"),
        "{n:?}"
    );

    update(&mut app, Action::Top);
    let cmds = update(&mut app, Action::Bump);
    assert_eq!(
        cmds,
        [Command::PlanBump {
            package: "constellation".into(),
            to: Some("2".repeat(40))
        }]
    );
    assert_eq!(view(&app).planning.as_deref(), Some("constellation"));
    assert!(
        update(&mut app, Action::Bump).is_empty(),
        "one plan at a time"
    );

    let diff = "--- a/pkgs/microcosm/constellation/package.toml\n+++ b/pkgs/microcosm/constellation/package.toml\n\
                @@ -1,3 +1,3 @@\n name = \"constellation\"\n-version = \"0-unstable-2026-01-01\"\n+version = \"0-unstable-2026-02-01\"\n tier = 1\n";
    let preview = BumpPreview {
        summary: "0-unstable-2026-01-01 111111111111 -> 0-unstable-2026-02-01 222222222222".into(),
        diff: diff.into(),
        deps_note: Some("build.deps_hash becomes \"unknown\" (deps_verified = false): itoa 1.0.11 not in the local cargo cache".into()),
        packages: vec!["constellation".into(), "slingshot".into()],
    };
    on_feedback(
        &mut app,
        Feedback::BumpPlanned {
            package: "constellation".into(),
            result: Ok(preview),
        },
    );
    assert_eq!(view(&app).planning, None);
    assert_eq!(app.view(), View::Confirm);
    insta::assert_snapshot!(render(&app).backend());

    // Any other key leaves the preview open; yes writes exactly that plan.
    assert!(update(&mut app, Action::MoveDown).is_empty());
    assert_eq!(
        update(&mut app, Action::Confirm),
        [Command::WriteBump("constellation".into())]
    );
    assert_eq!(app.view(), View::Updates);

    let pkgs = vec!["constellation".to_string(), "slingshot".to_string()];
    let cmds = on_feedback(
        &mut app,
        Feedback::BumpWritten {
            package: "constellation".into(),
            result: Ok(pkgs.clone()),
        },
    );
    assert_eq!(cmds, [Command::RefreshStatus(pkgs.clone())]);
    assert!(
        view(&app).bumped.contains("slingshot"),
        "siblings are marked too"
    );
    let Some(Overlay::Confirm { on_yes, .. }) = app.overlays.last() else {
        panic!("a build is offered");
    };
    assert_eq!(*on_yes, OnYes::Rebuild(pkgs.clone()));
    let cmds = update(&mut app, Action::Confirm);
    assert_eq!(
        cmds,
        [Command::Build {
            packages: pkgs,
            tests: false
        }]
    );
}

#[test]
fn a_refused_plan_or_write_is_a_notice() {
    let mut app = opened();
    update(&mut app, Action::Top);
    update(&mut app, Action::Bump);
    on_feedback(
        &mut app,
        Feedback::BumpPlanned {
            package: "constellation".into(),
            result: Err("cloning x: timed out".into()),
        },
    );
    let n = app.notice.clone().unwrap();
    assert_eq!(
        (n.text.as_str(), n.error),
        ("bump of constellation: cloning x: timed out", true)
    );
    assert_eq!(app.view(), View::Updates);
    on_feedback(
        &mut app,
        Feedback::BumpWritten {
            package: "constellation".into(),
            result: Err(
                "pkgs/microcosm/constellation/package.toml changed on disk since atwb read it"
                    .into(),
            ),
        },
    );
    let n = app.notice.clone().unwrap();
    assert!(
        n.error && n.text.starts_with("bump of constellation not written: "),
        "{n:?}"
    );
    assert!(
        !matches!(app.overlays.last(), Some(Overlay::Confirm { .. })),
        "no build offered"
    );
}
