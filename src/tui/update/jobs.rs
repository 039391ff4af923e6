//! The jobs view: moving through this session's jobs, opening a job's log, cancelling and
//! re-running.

use crate::jobs::{JobId, JobSpec};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Overlay};

use super::{builds, log};

/// Keys while the jobs view is on top.
pub(super) fn jobs_action(app: &mut App, action: Action) -> Vec<Command> {
    let ordered: Vec<(JobId, bool)> = app
        .jobs
        .listed()
        .iter()
        .map(|j| (j.id, j.is_active()))
        .collect();
    let Some(Overlay::Jobs { selected }) = app.overlays.last_mut() else {
        return Vec::new();
    };
    let last = ordered.len().saturating_sub(1);
    *selected = (*selected).min(last);
    let current = ordered.get(*selected).copied();
    match action {
        Action::MoveDown => *selected = (*selected + 1).min(last),
        Action::MoveUp => *selected = selected.saturating_sub(1),
        Action::Top => *selected = 0,
        Action::Bottom => *selected = last,
        Action::OpenLog => {
            if let Some((id, _)) = current {
                return log::open_job_log(app, id);
            }
        }
        Action::CancelJob => match current {
            Some((id, true)) => return vec![Command::Cancel(id)],
            _ => app.notify("the selected job is not running", true),
        },
        Action::RerunJob => {
            if let Some(j) = current.and_then(|(id, _)| app.jobs.jobs.get(&id)) {
                return vec![Command::Submit(vec![j.spec.clone()])];
            }
        }
        Action::RerunFailed => return rerun_failed(app),
        Action::ToggleHideFinished => {
            app.jobs.hide_finished = !app.jobs.hide_finished;
            let what = if app.jobs.hide_finished {
                "finished jobs hidden (H shows them)"
            } else {
                "finished jobs shown"
            };
            app.notify(what, false);
        }
        Action::ClearFinished => {
            let n = app.jobs.clear_finished();
            app.notify(format!("cleared {n} finished job(s)"), false);
            if let Some(Overlay::Jobs { selected }) = app.overlays.last_mut() {
                *selected = 0;
            }
        }
        Action::BuildAll | Action::BuildShown => {
            return builds::main_action(app, action).unwrap_or_default();
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

/// The newest run of each failed target, once.
fn rerun_failed(app: &mut App) -> Vec<Command> {
    let mut specs: Vec<JobSpec> = Vec::new();
    for j in app.jobs.jobs.values().rev() {
        let seen = specs.iter().any(|s| s.installable == j.spec.installable);
        if !seen && j.failed() {
            specs.push(j.spec.clone());
        }
    }
    if specs.is_empty() {
        app.notify("no failed jobs to re-run", true);
        return Vec::new();
    }
    app.notify(format!("re-running {} failed job(s)", specs.len()), false);
    vec![Command::Submit(specs)]
}
