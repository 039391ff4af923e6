//! The main view's keys about builds: building and testing what is selected or shown,
//! cancelling, opening logs and the editor, the jobs view, scoring hardening on request; and the
//! hash fix with its rebuild.

use crate::jobs::spec::FailureSummary;
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Hardening, OnYes, Overlay, Row};
use crate::tui::jobs::JobPhase;

use super::log;

/// Main-view actions about builds; None when `action` is not one of them.
pub(super) fn main_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    let commands = match action {
        Action::Build if matches!(app.selected_row(), Some(Row::Package { .. })) => {
            let p = selected_packages(app);
            build(app, p, false)
        }
        // A tier or an org: many packages, asked first.
        Action::Build => {
            let p = selected_packages(app);
            super::bulk::ask(app, p)
        }
        Action::BuildShown => {
            let p = app
                .shown
                .iter()
                .map(|&i| app.catalog.packages[i].name.clone())
                .collect();
            super::bulk::ask(app, p)
        }
        Action::BuildAll => {
            let p = app
                .catalog
                .packages
                .iter()
                .map(|p| p.name.clone())
                .collect();
            super::bulk::ask(app, p)
        }
        Action::Test => test_selected(app),
        Action::OpenLog => log::open_package_log(app, true),
        Action::OpenLogOrToggle
            if matches!(app.selected_row(), Some(Row::Package { .. })) && has_log(app) =>
        {
            log::open_package_log(app, false)
        }
        Action::FixHash => fix_selected(app),
        Action::HashPackage => super::hashes::hash_selected(app),
        Action::Jobs => {
            app.overlays.push(Overlay::Jobs { selected: 0 });
            Vec::new()
        }
        Action::CancelJob => cancel_selected(app),
        Action::ScoreHardening => score_hardening(app),
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

/// Asks the runtime to evaluate the catalog and score its services, unless that already runs.
fn score_hardening(app: &mut App) -> Vec<Command> {
    if app.hardening == Hardening::Pending {
        app.notify("hardening scores are being computed", false);
        return Vec::new();
    }
    app.hardening = Hardening::Pending;
    app.notify(
        "scoring hardening: evaluating the catalog's Nix code (restricted: no import-from-derivation, nothing outside the catalog)",
        false,
    );
    vec![Command::ScoreHardening]
}

/// Names of the packages the selected tree line stands for: the package, or every package shown
/// in the selected tier or org.
pub(super) fn selected_packages(app: &App) -> Vec<String> {
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
        Some(Row::Invalid { .. } | Row::Unplaced { .. }) | None => Vec::new(),
    }
}

/// One build (or test) command for `packages`, with a notice saying what starts.
pub(super) fn build(app: &mut App, packages: Vec<String>, tests: bool) -> Vec<Command> {
    if packages.is_empty() {
        app.notify("nothing to build: no package shown", true);
        return Vec::new();
    }
    let what = if packages.len() == 1 {
        packages[0].clone()
    } else {
        format!("{} packages", packages.len())
    };
    app.notify(
        format!("{} {what}", if tests { "testing" } else { "building" }),
        false,
    );
    vec![Command::Build { packages, tests }]
}

fn test_selected(app: &mut App) -> Vec<Command> {
    if let Some(p) = app.selected_package() {
        let name = p.name.clone();
        build(app, vec![name], true)
    } else {
        app.notify("select a package to test", true);
        Vec::new()
    }
}

fn cancel_selected(app: &mut App) -> Vec<Command> {
    let active = app
        .selected_package()
        .and_then(|p| app.jobs.latest_for(&p.name))
        .filter(|j| j.is_active())
        .map(|j| j.id);
    if let Some(id) = active {
        vec![Command::Cancel(id)]
    } else {
        app.notify("no running job for the selected package", true);
        Vec::new()
    }
}

/// Whether the selected package has a log to open (a job of this session or a recorded run).
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

fn fix_selected(app: &mut App) -> Vec<Command> {
    let Some(name) = app.selected_package().map(|p| p.name.clone()) else {
        app.notify("select a package to fix", true);
        return Vec::new();
    };
    let failure = last_failure(app, &name);
    fix_hash(app, Some(name), failure)
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

/// Asks the runtime to write the `got:` hash when `failure` is a hash mismatch; else says why not.
pub(super) fn fix_hash(
    app: &mut App,
    package: Option<String>,
    failure: Option<FailureSummary>,
) -> Vec<Command> {
    let Some(package) = package else {
        app.notify("this log is not about a catalog package", true);
        return Vec::new();
    };
    match failure {
        Some(f) if f.hash_mismatch.is_some() => vec![Command::FixHash {
            package,
            failure: f,
        }],
        Some(f) => {
            app.notify(
                format!(
                    "{package}: last failure is {}, not a hash mismatch",
                    f.class.replace('_', " ")
                ),
                true,
            );
            Vec::new()
        }
        None => {
            app.notify(format!("{package}: no hash mismatch to fix"), true);
            Vec::new()
        }
    }
}

/// The hash fix's outcome: say what was written and offer to rebuild what it touched.
pub(super) fn on_hash_fixed(
    app: &mut App,
    package: String,
    result: Result<crate::catalog::edit::FixReport, String>,
) -> Vec<Command> {
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            app.notify(format!("{package}: hash not fixed: {e}"), true);
            return Vec::new();
        }
    };
    let mut rebuild: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.parent()?.file_name()?.to_str().map(str::to_owned))
        .collect();
    if rebuild.is_empty() {
        rebuild.push(package.clone());
    }
    app.notify(
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
        on_yes: OnYes::Rebuild(rebuild.clone()),
    });
    // The header of an open log of these packages and the title bar's counts follow the fix
    // (a fixed package is stale until rebuilt) without waiting for the next build.
    let fixed = format!(
        "wrote {} = {} into package.toml; stale until rebuilt",
        report.field.as_str(),
        report.new
    );
    for o in &mut app.overlays {
        if let Overlay::Log(v) = o
            && v.package.as_ref().is_some_and(|p| rebuild.contains(p))
        {
            v.fixed = Some(fixed.clone());
        }
    }
    vec![Command::RefreshStatus(rebuild)]
}
