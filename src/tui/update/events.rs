//! Folding what happens outside the UI into its state: the engine's job events, one `apply_*`
//! per event kind, and the runtime's feedback on the commands it performed.

use std::path::PathBuf;

use crate::jobs::logpage::LogLine;
use crate::jobs::spec::FailureSummary;
use crate::jobs::store::estimate;
use crate::jobs::{JobEvent, JobId, JobResult, JobSpec, Outcome, Progress};
use crate::tui::action::{Command, Feedback, LogSource};
use crate::tui::app::{App, Overlay};
use crate::tui::jobs::{JobPhase, JobView, short_duration};

use super::{builds, hashes, log, problems, updates};

/// Folds one engine event into the state. Log lines mark the frame dirty only when the log view
/// showing them is on top, so a chatty build does not redraw an unrelated screen.
pub fn on_job_event(app: &mut App, event: JobEvent) -> Vec<Command> {
    match event {
        JobEvent::Queued { id, spec } => apply_queued(app, id, spec),
        JobEvent::Started {
            id,
            log_file,
            command,
            ..
        } => apply_started(app, id, log_file, command),
        JobEvent::Log {
            id,
            line_no,
            drv,
            text,
        } => apply_log(app, id, line_no, drv, &text),
        JobEvent::Progress {
            id,
            progress,
            phase,
        } => apply_progress(app, id, progress, phase),
        JobEvent::Tree { id, tree } => apply_tree(app, id, tree),
        JobEvent::Finished(result) => return apply_finished(app, &result),
        JobEvent::CacheCheck { event, .. } => return super::caches::on_event(app, *event),
    }
    Vec::new()
}

/// A new job, with the time its earlier successful runs took.
fn apply_queued(app: &mut App, id: JobId, spec: JobSpec) {
    let est = app
        .statuses
        .get(&spec.package)
        .and_then(|s| estimate(&s.history, spec.kind));
    app.jobs.jobs.insert(id, JobView::new(id, spec, est));
    app.dirty = true;
}

/// The job runs and writes `log_file`, which an open view of it reads older pages from.
fn apply_started(app: &mut App, id: JobId, log_file: PathBuf, command: String) {
    let now = app.now;
    let unix_now = app.unix_now;
    if let Some(j) = app.jobs.jobs.get_mut(&id) {
        j.phase = JobPhase::Running { started: now };
        j.log_file = Some(log_file.clone());
        j.details.command = Some(command);
        j.details.started_at = Some(unix_now);
    }
    if let Some(v) = app.log_view_of_job(id)
        && let LogSource::Job { log_file: f, .. } = &mut v.source
    {
        *f = Some(log_file);
    }
    app.dirty = true;
}

/// A raw log line: counted, and appended to a live view of the job unless the page it was
/// seeded with already held it.
fn apply_log(app: &mut App, id: JobId, line_no: u64, drv: Option<String>, text: &str) {
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
        for l in LogLine::split(text, drv) {
            v.push_live(l);
        }
        app.dirty |= on_top;
    }
}

/// Derivations built so far; the builder's phase when nix says one began.
fn apply_progress(app: &mut App, id: JobId, progress: Progress, phase: Option<String>) {
    if let Some(j) = app.jobs.jobs.get_mut(&id) {
        j.progress = progress;
        if phase.is_some() {
            j.build_phase = phase;
        }
        app.dirty = true;
    }
}

/// The job's derivation tree; redrawn when a view shows it.
fn apply_tree(app: &mut App, id: JobId, tree: Box<crate::nix::drvtree::TreeSnapshot>) {
    if let Some(j) = app.jobs.jobs.get_mut(&id) {
        j.tree = Some(tree);
        app.dirty |= app.tree_pane_shows(id);
    }
}

/// Rows of a finished job's tree kept for the jobs view's detail pane.
const KEPT_TREE_ROWS: usize = 64;

/// The job's result: into its row and an open view of it, a notice, and a status refresh.
fn apply_finished(app: &mut App, result: &JobResult) -> Vec<Command> {
    let failure = result.failure.as_ref().map(|f| {
        let ctx = crate::nix::advice::Context::for_job(
            &result.spec.installable,
            &result.spec.package,
            app.package_names(),
        );
        FailureSummary::with_hint(f, &ctx)
    });
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
    // The final tree (settled after nix exited) comes with the result, which unlike the tree
    // events is never dropped for a slow subscriber. Kept while the job is listed, so only as
    // many rows as a detail pane shows.
    if let Some(tree) = &result.tree.snapshot {
        let mut tree = tree.clone();
        tree.rows.keep(KEPT_TREE_ROWS);
        entry.tree = Some(tree);
    }
    let d = &mut entry.details;
    d.exit_code = result.exit_code;
    d.drv_path = result.drv_path.clone().or(d.drv_path.take());
    d.ended_at = Some(
        d.started_at
            .map_or(app.unix_now, |s| s + result.duration.as_secs()),
    );
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
    let (text, error) = finished_notice(result, failure.as_ref());
    app.notify(text, error);
    super::bulk::on_finished(app, result);
    app.dirty = true;
    vec![Command::RefreshStatus(vec![result.spec.package.clone()])]
}

/// `build demo: failed · hash mismatch · f fixes it`, or `build demo: ok in 42s`.
fn finished_notice(result: &JobResult, failure: Option<&FailureSummary>) -> (String, bool) {
    let head = format!(
        "{} {}: {}",
        result.spec.kind.as_str(),
        result.spec.label,
        result.outcome.as_str()
    );
    match failure {
        Some(f) if result.outcome != Outcome::Ok => {
            let fix = if f.hash_mismatch.is_some() {
                " · f fixes it"
            } else {
                ""
            };
            let class = f.class.replace('_', " ");
            (format!("{head} · {class}{fix}"), true)
        }
        _ => (
            format!("{head} in {}", short_duration(result.duration)),
            false,
        ),
    }
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
        Feedback::Caches(c) => super::caches::on_store(app, c),
        Feedback::CacheFailures(f) => super::caches::on_store_failures(app, f),
        Feedback::LogPage { source, page } => log::on_page(app, &source, page),
        Feedback::LogSought { source, seek, line } => {
            return log::on_sought(app, &source, seek, line);
        }
        Feedback::LogSaved { source, result } => log::on_saved(app, &source, &result),
        Feedback::HashProgress { package, step } => hashes::on_progress(app, &package, step),
        Feedback::HashesComputed { package, result } => hashes::on_computed(app, &package, result),
        Feedback::HashesWritten { package, result } => {
            return hashes::on_written(app, package, result);
        }
        Feedback::WizardProgress { source, step } => {
            super::wizard::on_progress(app, &source, step);
        }
        Feedback::WizardDetected { source, result } => {
            super::wizard::on_detected(app, &source, result);
        }
        Feedback::WizardWritten(result) => super::wizard::on_written(app, result),
        Feedback::HashFixed { package, result } => {
            return builds::on_hash_fixed(app, package, result);
        }
        Feedback::CatalogReloaded(loaded) => {
            let mut commands = problems::on_catalog_reloaded(app, *loaded);
            commands.extend(super::wizard::select_written(app));
            return commands;
        }
        Feedback::PackageReloaded { dir, result } => {
            return problems::on_package_reloaded(app, &dir, result);
        }
        Feedback::LibChanged => return problems::on_lib_changed(app),
        // Through `notify`, so the message history keeps it.
        Feedback::Notice(n) => app.notify(n.text, n.error),
        Feedback::Upstream { check, row } => updates::on_row(app, check, row),
        Feedback::BumpPlanned { package, result } => updates::on_planned(app, package, result),
        Feedback::BumpWritten { package, result } => {
            return updates::on_written(app, package, result);
        }

        Feedback::FormOpened {
            package,
            kind,
            result,
        } => super::forms::on_opened(app, package, kind, result),
        Feedback::FormSaved { package, result } => {
            return super::form_save::on_saved(app, &package, result);
        }
        Feedback::PackageFileChanged(path, bytes) => {
            super::form_save::on_file_changed(app, &path, bytes.as_deref());
        }
    }
    Vec::new()
}
