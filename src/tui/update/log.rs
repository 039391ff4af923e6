//! The log view: opening a job's or a file's log, its keys (scrolling, follow, wrap, search,
//! first error, the derivation filter, save, fix, cancel), and the pages and seek answers the
//! runtime sends back. Only a window of lines is in memory; beyond it, this asks for pages.

use crate::jobs::JobId;
use crate::jobs::logpage::{LogPage, LogRange, LogSeek, is_error_line};
use crate::tui::action::{Action, Command, LogSource};
use crate::tui::app::{App, Overlay};
use crate::tui::jobs::JobPhase;
use crate::tui::layout;
use crate::tui::logview::LogView;

use super::builds;

/// Opens the log of the selected package's newest job, or its last recorded run.
pub(super) fn open_package_log(app: &mut App, explain: bool) -> Vec<Command> {
    let Some(p) = app.selected_package() else {
        if explain {
            app.notify("select a package to see its log", true);
        }
        return Vec::new();
    };
    let name = p.name.clone();
    if let Some(j) = app.jobs.latest_for(&name) {
        let id = j.id;
        return open_job_log(app, id);
    }
    let last = app.statuses.get(&name).map(|s| s.last.clone());
    match last {
        Some(r) if r.log_file.is_some() => {
            let path = r.log_file.clone().unwrap_or_default();
            let mut view = LogView::new(
                LogSource::File(path.clone()),
                format!("{name} · last {} ({})", r.kind.as_str(), r.outcome.as_str()),
                Some(name),
                false,
            );
            view.failure = r.failure;
            view.outcome = Some(r.outcome);
            open_view(app, view)
        }
        _ => {
            app.notify(format!("{name} has no log yet: press b to build it"), true);
            Vec::new()
        }
    }
}

pub(super) fn open_job_log(app: &mut App, id: JobId) -> Vec<Command> {
    let Some(j) = app.jobs.jobs.get(&id) else {
        return Vec::new();
    };
    let mut view = LogView::new(
        LogSource::Job {
            id,
            log_file: j.log_file.clone(),
        },
        format!("{} {} · {}", j.title(), j.id, j.spec.installable),
        Some(j.spec.package.clone()),
        j.is_active(),
    );
    if let JobPhase::Finished {
        failure, outcome, ..
    } = &j.phase
    {
        view.failure = failure.clone();
        view.outcome = Some(*outcome);
    }
    open_view(app, view)
}

/// Puts `view` on top and asks for its newest lines.
pub(super) fn open_view(app: &mut App, view: LogView) -> Vec<Command> {
    let source = view.source.clone();
    app.overlays.push(Overlay::Log(Box::new(view)));
    vec![Command::LoadLog {
        source,
        range: LogRange::Tail,
    }]
}

/// Keys while the log view is on top.
pub(super) fn log_action(app: &mut App, action: Action) -> Vec<Command> {
    let height = layout::log_text(app).height.max(1) as usize;
    let Some(v) = app.log_view_mut() else {
        return Vec::new();
    };
    v.message = None;
    if v.typing.is_some() {
        return typing(v, action, height);
    }
    let page = height.saturating_sub(1).max(1) as isize;
    match action {
        Action::MoveDown => return scroll_by(v, height, 1),
        Action::MoveUp => return scroll_by(v, height, -1),
        Action::PageDown => return scroll_by(v, height, page),
        Action::PageUp => return scroll_by(v, height, -page),
        Action::Top => return to_top(v),
        Action::Bottom => return follow_tail(v),
        Action::ToggleFollow if v.follow => {
            v.follow = false;
            v.top = v.top_for(v.visible().len(), height);
        }
        Action::ToggleFollow => return follow_tail(v),
        Action::ToggleWrap => v.wrap = !v.wrap,
        Action::ToggleTree => v.show_tree = !v.show_tree,
        Action::Search => v.typing = Some(String::new()),
        Action::SearchNext | Action::SearchPrev if v.query.is_none() => {
            v.message = Some("no search: press / first".into());
        }
        Action::SearchNext | Action::SearchPrev => {
            let from = v.current;
            return jump_to_match(v, from, action == Action::SearchNext);
        }
        Action::FirstError => return first_error(v),
        Action::CycleDrv => cycle_drv(v),
        Action::SaveLog => return save(v),
        Action::FixHash => {
            let (package, failure) = (v.package.clone(), v.failure.clone());
            return builds::fix_hash(app, package, failure);
        }
        Action::CancelJob => match &v.source {
            LogSource::Job { id, .. } if v.live => return vec![Command::Cancel(*id)],
            _ => v.message = Some("this job is not running".into()),
        },
        _ => app.dirty = false,
    }
    Vec::new()
}

/// Keys while a search query is typed after `/`; Enter jumps to the first match below the top.
fn typing(v: &mut LogView, action: Action, height: usize) -> Vec<Command> {
    let Some(typed) = v.typing.as_mut() else {
        return Vec::new();
    };
    match action {
        Action::SearchInput(c) => typed.push(c),
        Action::SearchBackspace => {
            typed.pop();
        }
        Action::SearchCancel => v.typing = None,
        Action::SearchConfirm => {
            v.query = v.typing.take().filter(|q| !q.is_empty());
            let from = v
                .visible()
                .get(v.top_for(v.visible().len(), height))
                .copied();
            return jump_to_match(v, from.and_then(|f| f.checked_sub(1)), true);
        }
        _ => {}
    }
    Vec::new()
}

/// Moves the top line by `delta`; above the window's first line, asks for the page before it.
fn scroll_by(v: &mut LogView, height: usize, delta: isize) -> Vec<Command> {
    let visible = v.visible().len();
    let new_top = v.top_for(visible, height) as isize + delta;
    v.follow = false;
    let max_top = visible.saturating_sub(height) as isize;
    v.top = new_top.clamp(0, max_top.max(0)) as usize;
    if new_top < 0 && v.first > 0 && !v.loading {
        v.loading = true;
        return vec![Command::LoadLog {
            source: v.source.clone(),
            range: LogRange::Before(v.first),
        }];
    }
    if v.top as isize >= max_top && v.at_tail {
        // Scrolling to the end resumes following, like `less +F`.
        v.follow = v.live;
    }
    Vec::new()
}

fn to_top(v: &mut LogView) -> Vec<Command> {
    v.follow = false;
    v.top = 0;
    if v.first > 0 && !v.loading {
        v.loading = true;
        return vec![Command::LoadLog {
            source: v.source.clone(),
            range: LogRange::Head,
        }];
    }
    Vec::new()
}

fn follow_tail(v: &mut LogView) -> Vec<Command> {
    v.follow = true;
    if !v.at_tail && !v.loading {
        v.loading = true;
        return vec![Command::LoadLog {
            source: v.source.clone(),
            range: LogRange::Tail,
        }];
    }
    Vec::new()
}

/// `e`: the first error line, in the window when it can tell, else by a whole-log seek.
fn first_error(v: &mut LogView) -> Vec<Command> {
    // The window's first error line is the log's when the window starts at line 0;
    // the fallback (the failure's first line) only counts if no error line is anywhere.
    let local = if v.holds_whole_log() {
        v.first_error()
    } else if v.first == 0 {
        v.visible()
            .into_iter()
            .find(|&i| is_error_line(&v.lines[i]))
    } else {
        None
    };
    match local {
        Some(i) => {
            v.current = Some(i);
            v.reveal(i);
        }
        None if v.holds_whole_log() => v.message = Some("no error line in this log".into()),
        None => {
            return vec![Command::SeekLog {
                source: v.source.clone(),
                seek: LogSeek::FirstError {
                    fallback: v.failure.as_ref().map(|f| f.first_line.clone()),
                    drv: v.drv_filter.clone(),
                },
            }];
        }
    }
    Vec::new()
}

fn cycle_drv(v: &mut LogView) {
    v.drv_filter = v.next_drv();
    v.top = 0;
    v.message = Some(match &v.drv_filter {
        Some(d) => format!("only {}", crate::nix::state::drv_name(d)),
        None if v.drvs.is_empty() => "no derivations known in this log".into(),
        None => "all derivations".into(),
    });
}

fn save(v: &LogView) -> Vec<Command> {
    let name = v
        .package
        .clone()
        .unwrap_or_else(|| "log".into())
        .replace(['/', ' '], "_");
    vec![Command::SaveLog {
        source: v.source.clone(),
        name,
    }]
}

/// The next match in the window; beyond it, a whole-log seek from the window's edge (the
/// runtime answers with `Feedback::LogSought`, which loads the page holding the match).
fn jump_to_match(v: &mut LogView, from: Option<usize>, forward: bool) -> Vec<Command> {
    let found = if v.holds_whole_log() {
        v.find(from, forward)
    } else {
        v.find_in_window(from, forward)
    };
    if let Some(i) = found {
        v.current = Some(i);
        v.reveal(i);
        return Vec::new();
    }
    let query = v.query.clone().unwrap_or_default();
    if v.holds_whole_log() || query.is_empty() {
        v.current = None;
        v.message = Some(format!("no match for {query:?}"));
        return Vec::new();
    }
    // Nothing left in the window that way: go on from its edge.
    let from = if forward {
        v.first + v.lines.len().saturating_sub(1) as u64
    } else {
        v.first
    };
    v.message = Some(format!("searching the whole log for {query:?}"));
    vec![Command::SeekLog {
        source: v.source.clone(),
        seek: LogSeek::Match {
            query,
            from,
            forward,
            drv: v.drv_filter.clone(),
        },
    }]
}

/// The open log view showing `source` (for a job: whatever its log file is by now).
fn view_of<'a>(app: &'a mut App, source: &LogSource) -> Option<&'a mut LogView> {
    app.overlays.iter_mut().find_map(|o| match o {
        Overlay::Log(l) if l.source == *source || same_job(&l.source, source) => Some(l.as_mut()),
        _ => None,
    })
}

fn same_job(a: &LogSource, b: &LogSource) -> bool {
    matches!((a, b), (LogSource::Job { id: x, .. }, LogSource::Job { id: y, .. }) if x == y)
}

/// A page the runtime read: into the window, then to a pending jump's line if it holds it.
pub(super) fn on_page(app: &mut App, source: &LogSource, page: Result<LogPage, String>) {
    let Some(v) = view_of(app, source) else {
        return;
    };
    match page {
        Ok(p) => {
            // Live lines after the seeded ones arrive as events.
            if v.live && p.at_tail {
                v.next_raw = p.raw_total;
            }
            v.apply_page(p);
            if let Some(i) = v.pending_jump.take().and_then(|n| v.index_of(n)) {
                v.current = Some(i);
                v.reveal(i);
            }
        }
        Err(e) => {
            v.loading = false;
            v.pending_jump = None;
            v.message = Some(e);
        }
    }
}

/// A whole-log seek's answer: reveal the line if it is in the window, else load the page
/// around it and reveal it when that arrives.
pub(super) fn on_sought(
    app: &mut App,
    source: &LogSource,
    seek: LogSeek,
    line: Result<Option<u64>, String>,
) -> Vec<Command> {
    let Some(v) = view_of(app, source) else {
        return Vec::new();
    };
    let n = match line {
        Ok(Some(n)) => n,
        Ok(None) => {
            v.current = None;
            v.message = Some(match seek {
                LogSeek::Match { query, .. } => format!("no match for {query:?}"),
                LogSeek::FirstError { .. } => "no error line in this log".into(),
            });
            return Vec::new();
        }
        Err(e) => {
            v.message = Some(e);
            return Vec::new();
        }
    };
    v.message = None;
    if let Some(i) = v.index_of(n) {
        v.current = Some(i);
        v.reveal(i);
        return Vec::new();
    }
    v.follow = false;
    v.pending_jump = Some(n);
    v.loading = true;
    vec![Command::LoadLog {
        source: v.source.clone(),
        range: LogRange::Around(n),
    }]
}

/// A save's outcome, in the view that asked (if still open) and the status bar.
pub(super) fn on_saved(
    app: &mut App,
    source: &LogSource,
    result: &Result<std::path::PathBuf, String>,
) {
    let text = match result {
        Ok(p) => format!("saved to {}", p.display()),
        Err(e) => format!("not saved: {e}"),
    };
    let view = app.overlays.iter_mut().find_map(|o| match o {
        Overlay::Log(l) if l.source == *source => Some(l),
        _ => None,
    });
    if let Some(v) = view {
        v.message = Some(text.clone());
    }
    app.notify(text, result.is_err());
}
