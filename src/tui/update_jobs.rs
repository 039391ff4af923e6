//! The part of `update` about builds: starting and cancelling jobs, the jobs view, the log view,
//! the hash fix, and folding the engine's events and the runtime's feedback into the state.
//! Pure like the rest of `update`: it returns `Command`s and never touches processes or files.

use crate::jobs::spec::FailureSummary;
use crate::jobs::store::estimate;
use crate::jobs::{JobEvent, JobId, Outcome};

use super::action::{Action, Command, Feedback, LogRange, LogSeek, LogSource};
use super::app::{App, Hardening, Notice, OnYes, Overlay, Row};
use super::jobs::{JobPhase, JobView};
use super::layout;
use super::logview::{LogLine, LogView};

fn notice(app: &mut App, text: impl Into<String>, error: bool) {
    app.notice = Some(Notice {
        text: text.into(),
        error,
    });
}

/// Names of the packages the selected tree line stands for: the package, or every package shown
/// in the selected tier or org.
fn selected_packages(app: &App) -> Vec<String> {
    let packages = &app.catalog.packages;
    let names = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        app.shown
            .iter()
            .copied()
            .filter(|&i| keep(i))
            .map(|i| packages[i].name.clone())
            .collect()
    };
    match app.selected_row() {
        Some(Row::Package { index }) => vec![packages[*index].name.clone()],
        Some(Row::Tier { tier, .. }) => names(&|i| packages[i].tier == *tier),
        Some(Row::Org { tier, org, .. }) => {
            names(&|i| packages[i].tier == *tier && &packages[i].org == org)
        }
        None => Vec::new(),
    }
}

fn build(app: &mut App, packages: Vec<String>, tests: bool) -> Vec<Command> {
    if packages.is_empty() {
        notice(app, "nothing to build: no package shown", true);
        return Vec::new();
    }
    let what = if packages.len() == 1 {
        packages[0].clone()
    } else {
        format!("{} packages", packages.len())
    };
    notice(
        app,
        format!("{} {what}", if tests { "testing" } else { "building" }),
        false,
    );
    vec![Command::Build { packages, tests }]
}

/// Main-view actions about builds; None when `action` is not one of them.
pub fn main_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    let commands = match action {
        Action::Build => {
            let p = selected_packages(app);
            build(app, p, false)
        }
        Action::BuildShown => {
            let p = app
                .shown
                .iter()
                .map(|&i| app.catalog.packages[i].name.clone())
                .collect();
            build(app, p, false)
        }
        Action::BuildAll => {
            let p = app
                .catalog
                .packages
                .iter()
                .map(|p| p.name.clone())
                .collect();
            build(app, p, false)
        }
        Action::Test => match app.selected_package() {
            Some(p) => {
                let name = p.name.clone();
                build(app, vec![name], true)
            }
            None => {
                notice(app, "select a package to test", true);
                Vec::new()
            }
        },
        Action::OpenLog => open_package_log(app, true),
        Action::OpenLogOrToggle
            if matches!(app.selected_row(), Some(Row::Package { .. })) && has_log(app) =>
        {
            open_package_log(app, false)
        }
        Action::FixHash => {
            let Some(name) = app.selected_package().map(|p| p.name.clone()) else {
                notice(app, "select a package to fix", true);
                return Some(Vec::new());
            };
            let failure = last_failure(app, &name);
            fix_hash(app, Some(name), failure)
        }
        Action::OpenEditor => match app.selected_package() {
            Some(p) => vec![Command::OpenEditor(p.dir.join("package.toml"))],
            None => {
                notice(app, "select a package to edit", true);
                Vec::new()
            }
        },
        Action::Jobs => {
            app.overlays.push(Overlay::Jobs { selected: 0 });
            Vec::new()
        }
        Action::CancelJob => {
            let active = app
                .selected_package()
                .and_then(|p| app.jobs.latest_for(&p.name))
                .filter(|j| j.is_active())
                .map(|j| j.id);
            match active {
                Some(id) => vec![Command::Cancel(id)],
                None => {
                    notice(app, "no running job for the selected package", true);
                    Vec::new()
                }
            }
        }
        Action::OpenLogFile => {
            app.overlays.push(Overlay::Prompt {
                label: "Open internal-json log file".into(),
                text: String::new(),
            });
            Vec::new()
        }
        _ => return None,
    };
    Some(commands)
}

/// `q`: quit at once when nothing runs, else ask first.
pub fn quit(app: &mut App) -> Vec<Command> {
    let n = app.jobs.active_count();
    if n == 0 {
        return vec![Command::Quit];
    }
    app.overlays.push(Overlay::Confirm {
        message: format!(
            "{n} job{} still running or queued. Cancel {} and quit?",
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" }
        ),
        on_yes: OnYes::QuitCancelling,
    });
    Vec::new()
}

fn has_log(app: &App) -> bool {
    let Some(p) = app.selected_package() else {
        return false;
    };
    app.jobs.latest_for(&p.name).is_some()
        || app
            .statuses
            .get(&p.name)
            .is_some_and(|s| s.last.log_file.is_some())
}

/// The newest failure known for `package`: from this session's jobs, else the status store.
fn last_failure(app: &App, package: &str) -> Option<FailureSummary> {
    if let Some(j) = app.jobs.latest_for(package)
        && let JobPhase::Finished { failure, .. } = &j.phase
    {
        return failure.clone();
    }
    app.statuses.get(package)?.last.failure.clone()
}

fn fix_hash(
    app: &mut App,
    package: Option<String>,
    failure: Option<FailureSummary>,
) -> Vec<Command> {
    let Some(package) = package else {
        notice(app, "this log is not about a catalog package", true);
        return Vec::new();
    };
    match failure {
        Some(f) if f.hash_mismatch.is_some() => vec![Command::FixHash {
            package,
            failure: f,
        }],
        Some(f) => {
            notice(
                app,
                format!(
                    "{package}: last failure is {}, not a hash mismatch",
                    f.class.replace('_', " ")
                ),
                true,
            );
            Vec::new()
        }
        None => {
            notice(app, format!("{package}: no hash mismatch to fix"), true);
            Vec::new()
        }
    }
}

/// Opens the log of the selected package's newest job, or its last recorded run.
fn open_package_log(app: &mut App, explain: bool) -> Vec<Command> {
    let Some(p) = app.selected_package() else {
        if explain {
            notice(app, "select a package to see its log", true);
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
            notice(
                app,
                format!("{name} has no log yet: press b to build it"),
                true,
            );
            Vec::new()
        }
    }
}

fn open_job_log(app: &mut App, id: JobId) -> Vec<Command> {
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

fn open_view(app: &mut App, view: LogView) -> Vec<Command> {
    let source = view.source.clone();
    app.overlays.push(Overlay::Log(Box::new(view)));
    vec![Command::LoadLog {
        source,
        range: LogRange::Tail,
    }]
}

/// Keys while the log view is on top.
pub fn log_action(app: &mut App, action: Action) -> Vec<Command> {
    let height = layout::log_text(app).height.max(1) as usize;
    let Some(v) = app.log_view_mut() else {
        return Vec::new();
    };
    v.message = None;
    if let Some(typed) = v.typing.as_mut() {
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
        return Vec::new();
    }
    let visible = v.visible().len();
    let top = v.top_for(visible, height);
    let scroll_to = |v: &mut LogView, new_top: isize| -> Vec<Command> {
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
    };
    let page = height.saturating_sub(1).max(1) as isize;
    match action {
        Action::MoveDown => return scroll_to(v, top as isize + 1),
        Action::MoveUp => return scroll_to(v, top as isize - 1),
        Action::PageDown => return scroll_to(v, top as isize + page),
        Action::PageUp => return scroll_to(v, top as isize - page),
        Action::Top => {
            v.follow = false;
            v.top = 0;
            if v.first > 0 && !v.loading {
                v.loading = true;
                return vec![Command::LoadLog {
                    source: v.source.clone(),
                    range: LogRange::Head,
                }];
            }
        }
        Action::Bottom => return follow_tail(v),
        Action::ToggleFollow => {
            if v.follow {
                v.follow = false;
                v.top = top;
            } else {
                return follow_tail(v);
            }
        }
        Action::ToggleWrap => v.wrap = !v.wrap,
        Action::Search => v.typing = Some(String::new()),
        Action::SearchNext | Action::SearchPrev => {
            if v.query.is_none() {
                v.message = Some("no search: press / first".into());
            } else {
                let from = v.current;
                return jump_to_match(v, from, action == Action::SearchNext);
            }
        }
        Action::FirstError => {
            // The window's first error line is the log's when the window starts at line 0;
            // the fallback (the failure's first line) only counts if no error line is anywhere.
            let local = if v.holds_whole_log() {
                v.first_error()
            } else if v.first == 0 {
                v.visible()
                    .into_iter()
                    .find(|&i| super::logview::is_error_line(&v.lines[i]))
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
        }
        Action::CycleDrv => {
            v.drv_filter = v.next_drv();
            v.top = 0;
            v.message = Some(match &v.drv_filter {
                Some(d) => format!("only {}", crate::nix::state::drv_name(d)),
                None if v.drvs.is_empty() => "no derivations known in this log".into(),
                None => "all derivations".into(),
            });
        }
        Action::SaveLog => {
            let name = v
                .package
                .clone()
                .unwrap_or_else(|| "log".into())
                .replace(['/', ' '], "_");
            return vec![Command::SaveLog {
                source: v.source.clone(),
                name,
            }];
        }
        Action::FixHash => {
            let (package, failure) = (v.package.clone(), v.failure.clone());
            return fix_hash(app, package, failure);
        }
        Action::CancelJob => match &v.source {
            LogSource::Job { id, .. } if v.live => return vec![Command::Cancel(*id)],
            _ => v.message = Some("this job is not running".into()),
        },
        _ => app.dirty = false,
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

/// A whole-log seek's answer: reveal the line if it is in the window, else load the page
/// around it and reveal it when that arrives.
fn on_sought(v: &mut LogView, seek: LogSeek, line: Result<Option<u64>, String>) -> Vec<Command> {
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

/// Keys while the jobs view is on top.
pub fn jobs_action(app: &mut App, action: Action) -> Vec<Command> {
    let ordered: Vec<(JobId, bool, bool)> = app
        .jobs
        .ordered()
        .iter()
        .map(|j| (j.id, j.is_active(), j.failed()))
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
            if let Some((id, ..)) = current {
                return open_job_log(app, id);
            }
        }
        Action::CancelJob => match current {
            Some((id, true, _)) => return vec![Command::Cancel(id)],
            _ => notice(app, "the selected job is not running", true),
        },
        Action::RerunJob => {
            if let Some(j) = current.and_then(|(id, ..)| app.jobs.jobs.get(&id)) {
                return vec![Command::Submit(vec![j.spec.clone()])];
            }
        }
        Action::RerunFailed => {
            // The newest run of each failed target, once.
            let mut specs: Vec<crate::jobs::JobSpec> = Vec::new();
            for j in app.jobs.jobs.values().rev() {
                let seen = specs.iter().any(|s| s.installable == j.spec.installable);
                if !seen && j.failed() {
                    specs.push(j.spec.clone());
                }
            }
            if specs.is_empty() {
                notice(app, "no failed jobs to re-run", true);
            } else {
                notice(
                    app,
                    format!("re-running {} failed job(s)", specs.len()),
                    false,
                );
                return vec![Command::Submit(specs)];
            }
        }
        Action::BuildAll | Action::BuildShown => {
            return main_action(app, action).unwrap_or_default();
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

/// Keys while a confirm dialog is on top.
pub fn confirm_action(app: &mut App, action: Action) -> Vec<Command> {
    if action != Action::Confirm {
        app.dirty = false;
        return Vec::new();
    }
    match app.overlays.pop() {
        Some(Overlay::Confirm { on_yes, .. }) => match on_yes {
            OnYes::QuitCancelling => vec![Command::CancelAll, Command::Quit],
            OnYes::Rebuild(packages) => build(app, packages, false),
        },
        Some(other) => {
            app.overlays.push(other);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Keys while the path prompt is on top.
pub fn prompt_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(Overlay::Prompt { text, .. }) = app.overlays.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::SearchInput(c) => text.push(c),
        Action::SearchBackspace => {
            text.pop();
        }
        Action::SearchCancel => {
            app.overlays.pop();
        }
        Action::SearchConfirm => {
            let path = text.trim().to_owned();
            app.overlays.pop();
            if path.is_empty() {
                return Vec::new();
            }
            let path = std::path::PathBuf::from(path);
            let title = format!("{} (saved log)", path.display());
            return open_view(app, LogView::new(LogSource::File(path), title, None, false));
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

/// Folds one engine event into the state. Log lines mark the frame dirty only when the log view
/// showing them is on top, so a chatty build does not redraw an unrelated screen.
pub fn on_job_event(app: &mut App, event: JobEvent) -> Vec<Command> {
    match event {
        JobEvent::Queued { id, spec } => {
            let est = app
                .statuses
                .get(&spec.package)
                .and_then(|s| estimate(&s.history, spec.kind));
            app.jobs.jobs.insert(id, JobView::new(id, spec, est));
            app.dirty = true;
        }
        JobEvent::Started { id, log_file, .. } => {
            let now = app.now;
            if let Some(j) = app.jobs.jobs.get_mut(&id) {
                j.phase = JobPhase::Running { started: now };
                j.log_file = Some(log_file.clone());
            }
            if let Some(v) = app.log_view_of_job(id)
                && let LogSource::Job { log_file: f, .. } = &mut v.source
            {
                *f = Some(log_file);
            }
            app.dirty = true;
        }
        JobEvent::Log {
            id,
            line_no,
            drv,
            text,
        } => {
            if let Some(j) = app.jobs.jobs.get_mut(&id) {
                j.lines += 1;
            }
            let on_top = matches!(app.overlays.last(), Some(Overlay::Log(l))
                if matches!(l.source, LogSource::Job { id: j, .. } if j == id));
            if let Some(v) = app.log_view_of_job(id)
                && v.live
                && line_no >= v.next_raw
            {
                v.next_raw = line_no + 1;
                for l in LogLine::split(&text, drv) {
                    v.push_live(l);
                }
                app.dirty |= on_top;
            }
        }
        JobEvent::Progress {
            id,
            progress,
            phase,
        } => {
            if let Some(j) = app.jobs.jobs.get_mut(&id) {
                j.progress = progress;
                if phase.is_some() {
                    j.build_phase = phase;
                }
                app.dirty = true;
            }
        }
        JobEvent::Finished(result) => {
            let failure = result.failure.as_ref().map(FailureSummary::from);
            let package = result.spec.package.clone();
            let entry = app
                .jobs
                .jobs
                .entry(result.id)
                .or_insert_with(|| JobView::new(result.id, result.spec.clone(), None));
            entry.phase = JobPhase::Finished {
                outcome: result.outcome,
                duration: result.duration,
                failure: failure.clone(),
            };
            if result.log_file.is_some() {
                entry.log_file = result.log_file.clone();
            }
            if let Some(v) = app.log_view_of_job(result.id) {
                v.live = false;
                v.failure = failure.clone();
                v.outcome = Some(result.outcome);
                if let LogSource::Job { log_file, .. } = &mut v.source
                    && result.log_file.is_some()
                {
                    *log_file = result.log_file.clone();
                }
            }
            let head = format!(
                "{} {}: {}",
                result.spec.kind.as_str(),
                result.spec.label,
                result.outcome.as_str()
            );
            match (&failure, result.outcome) {
                (Some(f), o) if o != Outcome::Ok => notice(
                    app,
                    format!(
                        "{head} · {}{}",
                        f.class.replace('_', " "),
                        if f.hash_mismatch.is_some() {
                            " · f fixes it"
                        } else {
                            ""
                        }
                    ),
                    true,
                ),
                _ => notice(
                    app,
                    format!("{head} in {}", super::jobs::short_duration(result.duration)),
                    false,
                ),
            }
            app.dirty = true;
            return vec![Command::RefreshStatus(vec![package])];
        }
    }
    Vec::new()
}

/// Folds what the runtime reports back into the state.
pub fn on_feedback(app: &mut App, feedback: Feedback) -> Vec<Command> {
    app.dirty = true;
    match feedback {
        Feedback::Statuses(s) => {
            app.statuses.extend(s);
            app.statuses_loaded = true;
        }
        Feedback::Hardening(h) => app.hardening = h,
        Feedback::LogPage { source, page } => {
            let view = app.overlays.iter_mut().find_map(|o| match o {
                Overlay::Log(l) if l.source == source || same_job(&l.source, &source) => Some(l),
                _ => None,
            });
            if let Some(v) = view {
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
        }
        Feedback::LogSought { source, seek, line } => {
            let view = app.overlays.iter_mut().find_map(|o| match o {
                Overlay::Log(l) if l.source == source || same_job(&l.source, &source) => Some(l),
                _ => None,
            });
            if let Some(v) = view {
                return on_sought(v, seek, line);
            }
        }
        Feedback::LogSaved { source, result } => {
            let text = match &result {
                Ok(p) => format!("saved to {}", p.display()),
                Err(e) => format!("not saved: {e}"),
            };
            if let Some(v) = app.overlays.iter_mut().find_map(|o| match o {
                Overlay::Log(l) if l.source == source => Some(l),
                _ => None,
            }) {
                v.message = Some(text.clone());
            }
            notice(app, text, result.is_err());
        }
        Feedback::HashFixed { package, result } => match result {
            Ok(report) => {
                let mut rebuild: Vec<String> = report
                    .files
                    .iter()
                    .filter_map(|f| f.parent()?.file_name()?.to_str().map(str::to_owned))
                    .collect();
                if rebuild.is_empty() {
                    rebuild.push(package.clone());
                }
                notice(
                    app,
                    format!(
                        "{package}: wrote {} = {} in {} file(s)",
                        report.field.as_str(),
                        report.new,
                        report.files.len()
                    ),
                    false,
                );
                app.overlays.push(Overlay::Confirm {
                    message: format!(
                        "Wrote {} = {} into {}. Rebuild {} now?",
                        report.field.as_str(),
                        report.new,
                        rebuild.join(", "),
                        if rebuild.len() == 1 { "it" } else { "them" }
                    ),
                    on_yes: OnYes::Rebuild(rebuild),
                });
            }
            Err(e) => notice(app, format!("{package}: hash not fixed: {e}"), true),
        },
        Feedback::CatalogReloaded { catalog, invalid } => {
            app.replace_catalog(catalog, invalid);
            super::update::keep_selection_visible(app);
        }
        Feedback::Notice(n) => app.notice = Some(n),
    }
    Vec::new()
}

fn same_job(a: &LogSource, b: &LogSource) -> bool {
    matches!((a, b), (LogSource::Job { id: x, .. }, LogSource::Job { id: y, .. }) if x == y)
}

/// The hardening text for a service in the detail pane.
pub fn hardening_text(app: &App, service: &str) -> String {
    match &app.hardening {
        Hardening::Pending => "…".into(),
        Hardening::Unavailable(_) => "n/a".into(),
        Hardening::Scores(s) => match s.get(service) {
            Some(Ok(score)) => format!("{score:.1}"),
            Some(Err(_)) | None => "n/a".into(),
        },
    }
}
