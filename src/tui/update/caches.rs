//! The cache keys (`p`: the selection or its group, `P`: everything shown): asking the binary
//! caches without building. Evaluating runs the catalog's Nix code, so it starts only on the
//! key; the engine runs it and reports through `JobEvent::CacheCheck`, folded in here: the
//! stage into the status bar, the answers into `app.caches` (the tree's ☁).

use crate::jobs::cache_check::{CheckEvent, CheckReport};
use crate::jobs::store::{CacheFailure, CacheStatus};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, OnYes, Overlay};

/// Main-view cache actions; None when `action` is not one of them. `p` on one package starts
/// at once; everything shown, or a group of more than one package, is asked first (one
/// evaluation of all of them), as building a group is.
pub(super) fn main_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    let packages = match action {
        Action::CheckCache => super::builds::selected_packages(app),
        Action::CheckCacheShown => app
            .shown
            .iter()
            .map(|&i| app.catalog.packages[i].name.clone())
            .collect(),
        _ => return None,
    };
    // Nothing to ask about, or a check already running: `start` says so, no question first.
    if packages.len() < 2 || app.cache_check.is_some() {
        return Some(start(app, packages));
    }
    app.overlays.push(Overlay::Confirm {
        message: format!(
            "Ask the caches about {} packages? one evaluation, nothing is built",
            packages.len()
        ),
        on_yes: OnYes::CheckCaches(packages),
    });
    Some(Vec::new())
}

/// Start the check (one package, or answered yes).
pub(super) fn start(app: &mut App, packages: Vec<String>) -> Vec<Command> {
    if app.cache_check.is_some() {
        app.notify("the caches are being asked already", false);
        return Vec::new();
    }
    if packages.is_empty() {
        app.notify("nothing to ask the caches about: no package shown", true);
        return Vec::new();
    }
    let what = match packages.as_slice() {
        [one] => one.clone(),
        many => format!("{} packages", many.len()),
    };
    app.notify(
        format!(
            "asking the binary caches about {what} (evaluating their Nix code, building nothing)"
        ),
        false,
    );
    vec![Command::CheckCaches(packages)]
}

/// A stage goes to the status bar; the report into the cache states, a summary notice and a
/// status refresh (the evaluation also makes staleness exact).
pub(super) fn on_event(app: &mut App, event: CheckEvent) -> Vec<Command> {
    app.dirty = true;
    match event {
        CheckEvent::Stage(stage) => {
            let targets = match &stage {
                crate::jobs::cache_check::CheckStage::Evaluating { targets } => *targets,
                crate::jobs::cache_check::CheckStage::Asking { .. } => {
                    app.cache_check.as_ref().map_or(0, |c| c.0)
                }
            };
            app.cache_check = Some((targets, Some(stage)));
            Vec::new()
        }
        CheckEvent::Done(None) => {
            app.cache_check = None;
            app.notify("the cache check was cancelled", false);
            Vec::new()
        }
        CheckEvent::Done(Some(report)) => {
            app.cache_check = None;
            fold(app, &report);
            let names = report.rows.iter().map(|r| r.package.clone()).collect();
            vec![Command::RefreshStatus(names)]
        }
    }
}

fn fold(app: &mut App, report: &CheckReport) {
    let mut failed = Vec::new();
    for row in &report.rows {
        if let Some(s) = CacheStatus::of_row(row, &report.asked) {
            app.caches.insert(row.package.clone(), s);
            app.cache_failures.remove(&row.package);
        } else {
            app.caches.remove(&row.package);
            if let Err(error) = &row.state {
                // As the store keeps it; the refresh that follows brings its fingerprint.
                let failure = CacheFailure {
                    error: error.clone(),
                    at: report.asked.at,
                    fingerprint: None,
                };
                app.cache_failures.insert(row.package.clone(), failure);
            }
            failed.push(row);
        }
    }
    let mut text = format!("caches: {}", report.summary());
    // One evaluation error said in full; more are in `atwb cache`'s rows.
    if let [row] = failed.as_slice()
        && let Err(e) = &row.state
    {
        text.push_str(&format!(" ({}: {e})", row.package));
    }
    app.notify(text, !failed.is_empty());
}

/// The store's view after a refresh: current states replace, the rest are forgotten.
pub(super) fn on_store(app: &mut App, states: Vec<(String, Option<CacheStatus>)>) {
    for (name, state) in states {
        match state {
            Some(s) => {
                app.caches.insert(name, s);
            }
            None => {
                app.caches.remove(&name);
            }
        }
    }
}

/// The store's failed checks after a refresh: current ones replace, the rest are forgotten.
pub(super) fn on_store_failures(app: &mut App, failures: Vec<(String, Option<CacheFailure>)>) {
    for (name, failure) in failures {
        match failure {
            Some(f) => {
                app.cache_failures.insert(name, f);
            }
            None => {
                app.cache_failures.remove(&name);
            }
        }
    }
}
