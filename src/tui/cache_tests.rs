//! The cache key's state changes and what the tree and the detail pane draw from them, with a
//! fabricated engine report (the real check runs in `tests/cache_check.rs`).

use crate::jobs::cache::CacheState;
use crate::jobs::cache_check::{CacheRow, CheckEvent, CheckReport, CheckStage};
use crate::jobs::store::CacheAsked;

use super::action::{Action, Command};
use super::tests::{fixture_app, render, select};
use super::update::{on_job_event, update};

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

#[test]
fn the_key_asks_about_the_selection_its_group_or_everything_shown() {
    let mut app = fixture_app(120, 30);
    select(&mut app, "pds");
    assert_eq!(
        update(&mut app, Action::CheckCache),
        vec![Command::CheckCaches(vec!["pds".into()])]
    );
    app.selected = 0; // the first tier's line: its packages
    let Command::CheckCaches(group) = &update(&mut app, Action::CheckCache)[0] else {
        panic!()
    };
    assert!(
        group.len() > 1 && group.contains(&"pds".to_string()),
        "{group:?}"
    );
    let Command::CheckCaches(all) = &update(&mut app, Action::CheckCacheShown)[0] else {
        panic!()
    };
    assert_eq!(all.len(), app.shown.len());
    // While one runs (its first stage arrived), another is refused.
    on_job_event(
        &mut app,
        event(CheckEvent::Stage(CheckStage::Evaluating { targets: 7 })),
    );
    assert!(update(&mut app, Action::CheckCacheShown).is_empty());
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
