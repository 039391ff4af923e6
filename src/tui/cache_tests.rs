//! The cache key's state changes and what the tree and the detail pane draw from them, with a
//! fabricated engine report (the real check runs in `tests/cache_check.rs`).

use crate::jobs::cache::CacheState;
use crate::jobs::cache_check::{CacheRow, CheckEvent, CheckReport, CheckStage};
use crate::jobs::store::CacheAsked;

use super::action::{Action, Command};
use super::app::Overlay;
use super::keymap::{Key, View};
use super::tests::{fixture_app, render, select};
use super::update::{on_feedback, on_job_event, update};

const URL: &str = "https://cache.example.invalid";

fn report(rows: Vec<(&str, Result<CacheState, String>)>) -> CheckEvent {
    let rows = rows
        .into_iter()
        .map(|(name, state)| CacheRow {
            package: name.into(),
            drv_path: state.is_ok().then(|| format!("/nix/store/x-{name}.drv")),
            out_paths: vec![format!(
                "/nix/store/0c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d-{name}"
            )],
            state,
        })
        .collect();
    CheckEvent::Done(Some(CheckReport {
        rows,
        asked: CacheAsked {
            at: 9_700,
            substituters: vec![URL.into(), "https://other.example.invalid".into()],
        },
    }))
}

fn event(event: CheckEvent) -> crate::jobs::JobEvent {
    crate::jobs::JobEvent::CacheCheck {
        id: crate::jobs::JobId(1),
        event: Box::new(event),
    }
}

/// The key the user presses, through the keymap of the view on top (as the runtime does).
fn press(app: &mut crate::tui::app::App, view: View, key: char) -> Vec<Command> {
    let action = app
        .keymap
        .action(view, &Key::char(key))
        .expect("a bound key");
    update(app, action)
}

/// The question on top, if any.
fn question(app: &crate::tui::app::App) -> Option<String> {
    match app.overlays.last() {
        Some(Overlay::Confirm { message, .. }) => Some(message.clone()),
        _ => None,
    }
}

#[test]
fn the_key_asks_about_the_selection_its_group_or_everything_shown() {
    let mut app = fixture_app(120, 30);
    select(&mut app, "pds");
    // One package: no question.
    assert_eq!(
        press(&mut app, View::Main, 'p'),
        vec![Command::CheckCaches(vec!["pds".into()])]
    );
    assert_eq!(question(&app), None);
    // The first tier's line: its packages, asked first; y starts them.
    app.selected = 0;
    assert!(press(&mut app, View::Main, 'p').is_empty());
    let asked = question(&app).expect("a question for a group");
    let Command::CheckCaches(group) = &press(&mut app, View::Confirm, 'y')[0] else {
        panic!()
    };
    assert!(
        group.len() > 1 && group.contains(&"pds".to_string()),
        "{group:?}"
    );
    assert_eq!(
        asked,
        format!(
            "Ask the caches about {} packages? one evaluation, nothing is built",
            group.len()
        )
    );
    assert_eq!(question(&app), None);
    // Everything shown: asked with the count; n and esc cancel, enter starts.
    let n = app.shown.len();
    assert!(press(&mut app, View::Main, 'P').is_empty());
    assert_eq!(
        question(&app).as_deref(),
        Some(
            format!("Ask the caches about {n} packages? one evaluation, nothing is built").as_str()
        )
    );
    assert!(press(&mut app, View::Confirm, 'n').is_empty());
    assert_eq!(question(&app), None);
    assert!(press(&mut app, View::Main, 'P').is_empty());
    let esc = app
        .keymap
        .action(View::Confirm, &Key::parse("esc").unwrap())
        .unwrap();
    assert!(update(&mut app, esc).is_empty());
    assert_eq!(question(&app), None);
    assert!(press(&mut app, View::Main, 'P').is_empty());
    let enter = app
        .keymap
        .action(View::Confirm, &Key::parse("enter").unwrap())
        .unwrap();
    let Command::CheckCaches(all) = &update(&mut app, enter)[0] else {
        panic!()
    };
    assert_eq!(all.len(), n);
    // While one runs (its first stage arrived), another is refused without a question.
    on_job_event(
        &mut app,
        event(CheckEvent::Stage(CheckStage::Evaluating { targets: 7 })),
    );
    assert!(press(&mut app, View::Main, 'P').is_empty());
    assert_eq!(question(&app), None);
    assert_eq!(
        app.notice.as_ref().map(|n| n.text.as_str()),
        Some("the caches are being asked already")
    );
    on_job_event(&mut app, event(CheckEvent::Done(None)));
    assert!(app.cache_check.is_none());
}

/// `pds` was never built; after the report it shows ☁ in the tree and its cache in the
/// detail pane; `goat` is in no cache; a throwing target's error is the notice.
#[test]
fn a_never_built_package_in_a_cache() {
    let mut app = fixture_app(120, 30);
    app.unix_now = 10_000;
    select(&mut app, "pds");
    on_job_event(
        &mut app,
        event(CheckEvent::Stage(CheckStage::Asking {
            outputs: 3,
            substituters: 2,
        })),
    );
    let asking = format!("{}", render(&app).backend());
    assert!(
        asking.contains("caches: asking 2 substituter(s) about 3 output(s)"),
        "{asking}"
    );
    let commands = on_job_event(
        &mut app,
        event(report(vec![
            ("pds", Ok(CacheState::Cached { url: URL.into() })),
            ("goat", Ok(CacheState::NotCached)),
            ("leaflet", Err("error: leaflet is marked as broken".into())),
        ])),
    );
    assert_eq!(commands.len(), 1, "a status refresh: {commands:?}");
    // The detail's end: status and cache.
    update(&mut app, Action::NextPane);
    update(&mut app, Action::Bottom);
    insta::assert_snapshot!(render(&app).backend());
    update(&mut app, Action::PrevPane);
    select(&mut app, "goat");
    let text = format!("{}", render(&app).backend());
    assert!(
        text.contains("not in any cache (asked https://cache.example.invalid,"),
        "{text}"
    );
    assert!(text.contains("5m ago"), "{text}");
}

/// A check that could not evaluate `leaflet` (offline): its detail pane says so, with when and
/// nix's first line, instead of "p asks the caches"; a refresh after an edit (the store has no
/// current failure) brings the plain unknown back; an evaluation that works replaces it.
#[test]
fn a_failed_check_is_what_the_detail_pane_says_until_the_package_changes() {
    let mut app = fixture_app(120, 30);
    app.unix_now = 9_700 + 130;
    select(&mut app, "leaflet");
    // The detail pane's cache value, whole (the pane wraps it).
    let cache_line = |app: &crate::tui::app::App| -> String {
        crate::tui::views::cache::detail_value(app, "leaflet")
            .iter()
            .map(|s| s.content.to_string())
            .collect()
    };
    assert!(cache_line(&app).contains("unknown · p asks the caches"));
    // As the check reports it: nix's `error:` line (the batch's `first_error_line`).
    let error = "error: unable to download 'https://github.com/hyperlink-academy/leaflet/archive/0000000.tar.gz': Couldn't resolve host name (6)";
    on_job_event(
        &mut app,
        event(report(vec![("leaflet", Err(error.into()))])),
    );
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.error && notice.text.contains("unable to download"),
        "{notice:?}"
    );
    let line = cache_line(&app);
    assert!(
        line.contains(
            "unknown · the last ask failed 2m ago: unable to download 'https://github.com/"
        ),
        "{line}"
    );
    assert!(!line.contains("p asks the caches"), "{line}");
    update(&mut app, Action::NextPane);
    update(&mut app, Action::Bottom);
    insta::assert_snapshot!(render(&app).backend());
    update(&mut app, Action::PrevPane);

    // The store's view after an edit of leaflet's package.toml: nothing current.
    on_feedback(
        &mut app,
        crate::tui::action::Feedback::CacheFailures(vec![("leaflet".into(), None)]),
    );
    assert!(cache_line(&app).contains("unknown · p asks the caches"));

    // Failed again, then answered: the answer replaces the failure.
    on_job_event(
        &mut app,
        event(report(vec![("leaflet", Err("error: boom".into()))])),
    );
    assert!(cache_line(&app).contains("the last ask failed 2m ago: boom"));
    on_job_event(
        &mut app,
        event(report(vec![("leaflet", Ok(CacheState::NotCached))])),
    );
    let line = cache_line(&app);
    assert!(line.contains("not in any cache (asked"), "{line}");
    assert!(!line.contains("failed"), "{line}");
}

#[test]
fn the_failure_line_skips_a_bare_error_heading() {
    let mut app = fixture_app(120, 30);
    app.unix_now = 1_000;
    let failure = crate::jobs::store::CacheFailure {
        error: "error:\n\n  error: attribute 'x' missing".into(),
        at: 990,
        fingerprint: None,
    };
    app.cache_failures.insert("pds".into(), failure);
    let text: String = crate::tui::views::cache::detail_value(&app, "pds")
        .iter()
        .map(|s| s.content.to_string())
        .collect();
    assert_eq!(
        text,
        "unknown · the last ask failed 10s ago: attribute 'x' missing"
    );
}
