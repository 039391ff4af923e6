//! The updates view (`u`): asking upstream about every package (rows stream in as
//! `Feedback::Upstream`), moving, sorting and filtering, and the bump: Enter asks for a plan,
//! its diff is shown for a yes/no, yes writes it, and a written bump offers a build.

use crate::jobs::upstream::{Status, UpstreamQuery};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, OnYes, Overlay};
use crate::tui::updates::{BumpPreview, UpdatesView, bump_target};

/// `u` from the main view (or in the updates view: check again).
pub(super) fn open(app: &mut App) -> Vec<Command> {
    let queries: Vec<UpstreamQuery> = app
        .catalog
        .packages
        .iter()
        .filter_map(UpstreamQuery::of)
        .collect();
    app.upstream_checks += 1;
    let view = UpdatesView::new(app.upstream_checks, queries.len());
    match app.overlays.last_mut() {
        Some(Overlay::Updates(v)) => {
            let (sort, only) = (v.sort, v.only_outdated);
            **v = UpdatesView {
                sort,
                only_outdated: only,
                ..view
            };
        }
        _ => app.overlays.push(Overlay::Updates(Box::new(view))),
    }
    vec![Command::CheckUpstream {
        check: app.upstream_checks,
        queries,
    }]
}

fn view(app: &mut App) -> Option<&mut UpdatesView> {
    app.overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::Updates(v) => Some(&mut **v),
        _ => None,
    })
}

/// Keys while the updates view is on top.
pub(super) fn updates_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(Overlay::Updates(v)) = app.overlays.last_mut() else {
        return Vec::new();
    };
    if v.typing {
        match action {
            Action::SearchInput(c) => v.filter.push(c),
            Action::SearchBackspace => {
                v.filter.pop();
            }
            Action::SearchConfirm => v.typing = false,
            Action::SearchCancel => {
                v.typing = false;
                v.filter.clear();
            }
            Action::MoveDown => v.selected += 1,
            Action::MoveUp => v.selected = v.selected.saturating_sub(1),
            _ => app.dirty = false,
        }
        v.clamp();
        return Vec::new();
    }
    let last = v.visible().len().saturating_sub(1);
    match action {
        Action::MoveDown => v.selected = (v.selected + 1).min(last),
        Action::MoveUp => v.selected = v.selected.saturating_sub(1),
        Action::PageDown => v.selected = (v.selected + 10).min(last),
        Action::PageUp => v.selected = v.selected.saturating_sub(10),
        Action::Top => v.selected = 0,
        Action::Bottom => v.selected = last,
        Action::Search => v.typing = true,
        Action::ClearSearch => v.filter.clear(),
        Action::CycleSort => v.sort = v.sort.next(),
        Action::ToggleOutdatedOnly => v.only_outdated = !v.only_outdated,
        Action::Updates => return open(app),
        Action::Bump => return bump(app),
        _ => app.dirty = false,
    }
    if let Some(Overlay::Updates(v)) = app.overlays.last_mut() {
        v.clamp();
    }
    Vec::new()
}

/// Enter on a row: ask for the bump's plan (computed off the UI thread).
fn bump(app: &mut App) -> Vec<Command> {
    let Some(v) = view(app) else {
        return Vec::new();
    };
    if let Some(p) = &v.planning {
        let text = format!("already preparing the bump of {p}");
        app.notify(&text, false);
        return Vec::new();
    }
    let Some(row) = v.selected_row().cloned() else {
        return Vec::new();
    };
    match row.status {
        Status::Unreachable => {
            let text = format!("{}: upstream unreachable ({})", row.name, row.reason);
            app.notify(&text, true);
            Vec::new()
        }
        Status::UpToDate => {
            let text = format!("{} is up to date ({})", row.name, row.reason);
            app.notify(&text, false);
            Vec::new()
        }
        Status::Outdated => {
            v.planning = Some(row.name.clone());
            let to = bump_target(&row);
            let text = format!(
                "computing the bump of {} to {}…",
                row.name,
                to.as_deref()
                    .map_or("upstream", |t| t.get(..12).unwrap_or(t))
            );
            app.notify(&text, false);
            vec![Command::PlanBump {
                package: row.name,
                to,
            }]
        }
    }
}

/// A streamed row of check `check` (dropped when the view was closed or re-checked since).
pub(super) fn on_row(app: &mut App, check: u64, row: crate::jobs::upstream::UpstreamRow) {
    match view(app) {
        Some(v) if v.check == check => v.add(row),
        _ => app.dirty = false,
    }
}

/// The plan came back: show its diff for a yes/no, or say why there is none.
pub(super) fn on_planned(app: &mut App, package: String, result: Result<BumpPreview, String>) {
    if let Some(v) = view(app) {
        v.planning = None;
    }
    match result {
        Err(e) => app.notify(format!("bump of {package}: {e}"), true),
        Ok(p) if p.diff.is_empty() => {
            app.notify(
                format!("{package}: {}; nothing to change", p.summary),
                false,
            );
        }
        Ok(preview) => {
            // The "computing…" notice is answered by the preview itself.
            app.notice = None;
            app.overlays.push(Overlay::BumpPreview {
                package,
                preview: Box::new(preview),
            });
        }
    }
}

/// Keys while a bump's diff is shown: yes writes it, no drops it.
pub(super) fn preview_action(app: &mut App, action: Action) -> Vec<Command> {
    if action != Action::Confirm {
        app.dirty = false;
        return Vec::new();
    }
    match app.overlays.pop() {
        Some(Overlay::BumpPreview { package, .. }) => vec![Command::WriteBump(package)],
        Some(other) => {
            app.overlays.push(other);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// The bump was written (or refused): the packages are stale now; offer to build them.
pub(super) fn on_written(
    app: &mut App,
    package: String,
    result: Result<Vec<String>, String>,
) -> Vec<Command> {
    match result {
        Err(e) => {
            app.notify(format!("bump of {package} not written: {e}"), true);
            Vec::new()
        }
        Ok(packages) => {
            if let Some(v) = view(app) {
                v.bumped.extend(packages.iter().cloned());
            }
            let names = packages.join(", ");
            app.overlays.push(Overlay::Confirm {
                message: format!("Bumped {names}; stale until rebuilt. Build now?"),
                on_yes: OnYes::Rebuild(packages.clone()),
            });
            vec![Command::RefreshStatus(packages)]
        }
    }
}
