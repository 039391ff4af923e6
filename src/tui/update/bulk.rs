//! Builds of many packages at once (`a`, `B`, `b` on a tier or an org): asked first, with the
//! count and an estimate from the status store's history, and summed up in one notice when the
//! last of them finishes.

use std::time::Duration;

use crate::jobs::spec::{JobKind, JobResult, Outcome};
use crate::tui::action::Command;
use crate::tui::app::{App, OnYes, Overlay};
use crate::tui::jobs::Batch;

use super::builds;

/// Ask before building `packages`: "Build 12 packages? about 14 min; 3 never built".
pub(super) fn ask(app: &mut App, packages: Vec<String>) -> Vec<Command> {
    if packages.is_empty() {
        return builds::build(app, packages, false);
    }
    let n = packages.len();
    app.overlays.push(Overlay::Confirm {
        message: format!(
            "Build {n} package{}? {}",
            if n == 1 { "" } else { "s" },
            estimate_text(app, &packages)
        ),
        on_yes: OnYes::BuildBatch(packages),
    });
    Vec::new()
}

/// Answered yes: start the builds and remember them as one batch.
pub(super) fn start(app: &mut App, packages: Vec<String>) -> Vec<Command> {
    app.batch = Some(Batch {
        total: packages.len(),
        pending: packages.iter().cloned().collect(),
        ..Batch::default()
    });
    builds::build(app, packages, false)
}

/// A job finished: count it when it is one of the batch's builds; the last one ends the batch
/// with its summary notice.
pub(super) fn on_finished(app: &mut App, result: &JobResult) {
    let Some(batch) = app.batch.as_mut() else {
        return;
    };
    if result.spec.kind != JobKind::Build || !batch.pending.remove(&result.spec.package) {
        return;
    }
    match result.outcome {
        Outcome::Ok => batch.ok += 1,
        Outcome::Cancelled => batch.cancelled += 1,
        _ => batch.failed += 1,
    }
    if batch.pending.is_empty() {
        let text = summary_text(batch);
        let error = batch.failed > 0;
        app.batch = None;
        app.notify(text, error);
    }
}

/// `5 builds: 1 ok, 4 failed` (cancelled ones named when there are any).
fn summary_text(b: &Batch) -> String {
    let mut text = format!(
        "{} build{}: {} ok, {} failed",
        b.total,
        if b.total == 1 { "" } else { "s" },
        b.ok,
        b.failed
    );
    if b.cancelled > 0 {
        text.push_str(&format!(", {} cancelled", b.cancelled));
    }
    text
}

/// `about 14 min; 3 never built`: the sum of each package's median successful build time,
/// and how many have no such history to go by.
fn estimate_text(app: &App, packages: &[String]) -> String {
    let mut total = Duration::ZERO;
    let mut unknown = 0;
    for p in packages {
        match app
            .statuses
            .get(p)
            .and_then(crate::jobs::PackageStatus::estimate)
        {
            Some(d) => total += d,
            None => unknown += 1,
        }
    }
    let known = packages.len() - unknown;
    let time = if known == 0 {
        "no build time known".to_string()
    } else {
        format!("about {}", rough(total))
    };
    match unknown {
        0 => time,
        n if n == packages.len() => format!("{time}: none built before"),
        n => format!("{time}; {n} never built"),
    }
}

/// Minutes past a minute (rounded up), else seconds.
fn rough(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min", s.div_ceil(60))
    }
}
