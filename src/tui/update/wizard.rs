//! Keys and results of the new-package wizard: source -> detection (a background command) ->
//! review (each proposal accepted or changed) -> write; the written package is then selected in
//! the tree once the catalog has been reloaded.

use crate::scaffold::Proposal;
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Overlay};
use crate::tui::wizard::{Step, Wizard};

/// `n`: open the wizard.
pub(super) fn open(app: &mut App) {
    app.overlays.push(Overlay::Wizard(Box::default()));
}

fn wizard_mut(app: &mut App) -> Option<&mut Wizard> {
    match app.overlays.last_mut() {
        Some(Overlay::Wizard(w)) => Some(w),
        _ => None,
    }
}

/// Keys while the wizard is on top (its view takes typed text: see `App::view`).
pub(super) fn wizard_action(app: &mut App, action: Action) -> Vec<Command> {
    let now = app.now;
    let Some(w) = wizard_mut(app) else {
        return Vec::new();
    };
    match &mut w.step {
        Step::Source { text } => match action {
            Action::SearchInput(c) => text.push(c),
            Action::SearchBackspace => {
                text.pop();
            }
            Action::SearchCancel => {
                app.overlays.pop();
            }
            Action::SearchConfirm => {
                let source = text.trim().to_string();
                if source.is_empty() {
                    return Vec::new();
                }
                w.step = Step::Detecting {
                    source: source.clone(),
                    step: "starting".into(),
                    started: now,
                };
                return vec![Command::DetectPackage { source }];
            }
            _ => app.dirty = false,
        },
        // Closing while busy abandons the result (it is ignored when it arrives).
        Step::Detecting { .. } | Step::Writing { .. } => {
            if action == Action::SearchCancel {
                app.overlays.pop();
            } else {
                app.dirty = false;
            }
        }
        Step::Failed { source, .. } => match action {
            Action::SearchConfirm => {
                w.step = Step::Source {
                    text: std::mem::take(source),
                };
            }
            Action::SearchCancel => {
                app.overlays.pop();
            }
            _ => app.dirty = false,
        },
        Step::Review { .. } => return review_action(app, action),
    }
    Vec::new()
}

fn review_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(w) = wizard_mut(app) else {
        return Vec::new();
    };
    let count = w.fields().len();
    let key = w
        .fields()
        .get(selected_of(w))
        .map(|f| (f.key.clone(), f.value.clone()));
    let Step::Review {
        proposal,
        selected,
        editing,
        error,
    } = &mut w.step
    else {
        return Vec::new();
    };
    if let Some(text) = editing {
        match action {
            Action::SearchInput(c) => text.push(c),
            Action::SearchBackspace => {
                text.pop();
            }
            Action::SearchCancel => *editing = None,
            Action::SearchConfirm => {
                if let Some((key, _)) = key {
                    match proposal.set(&key, text) {
                        Ok(()) => *error = None,
                        Err(e) => *error = Some(e),
                    }
                }
                *editing = None;
            }
            _ => app.dirty = false,
        }
        return Vec::new();
    }
    match action {
        Action::MoveDown | Action::SearchInput('j') => {
            *selected = (*selected + 1).min(count.saturating_sub(1));
        }
        Action::MoveUp | Action::SearchInput('k') => *selected = selected.saturating_sub(1),
        Action::SearchConfirm | Action::SearchInput('e') => {
            *editing = key.map(|(_, value)| value);
        }
        Action::SearchInput('w') => {
            let proposal = proposal.clone();
            w.step = Step::Writing {
                proposal: proposal.clone(),
            };
            return vec![Command::WritePackage(proposal)];
        }
        Action::SearchCancel | Action::SearchInput('q') => {
            app.overlays.pop();
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

fn selected_of(w: &Wizard) -> usize {
    match &w.step {
        Step::Review { selected, .. } => *selected,
        _ => 0,
    }
}

/// The wizard waiting for detection or writing, if it is still open.
fn waiting(app: &mut App) -> Option<&mut Wizard> {
    app.overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::Wizard(w) if w.is_busy() => Some(w.as_mut()),
        _ => None,
    })
}

pub(super) fn on_progress(app: &mut App, of: &str, text: String) {
    if let Some(Wizard {
        step: Step::Detecting { step, source, .. },
    }) = waiting(app)
        && source == of
    {
        *step = text;
    }
}

pub(super) fn on_detected(app: &mut App, of: &str, result: Result<Box<Proposal>, String>) {
    let Some(w) = waiting(app) else { return };
    let Step::Detecting { source, .. } = &w.step else {
        return;
    };
    // A detection the user abandoned (and then started another) is not this one.
    if source != of {
        return;
    }
    w.step = match result {
        Ok(proposal) => Step::Review {
            proposal,
            selected: 0,
            editing: None,
            error: None,
        },
        Err(message) => Step::Failed {
            message,
            source: source.clone(),
        },
    };
}

pub(super) fn on_written(app: &mut App, result: Result<Vec<String>, String>) {
    match result {
        Ok(names) => {
            app.overlays.retain(|o| !matches!(o, Overlay::Wizard(_)));
            app.notify(
                format!("wrote {}; review it in the metadata form", names.join(", ")),
                false,
            );
            app.select_after_reload = names.into_iter().next();
        }
        Err(message) => {
            let Some(w) = waiting(app) else { return };
            let Step::Writing { proposal } = &w.step else {
                return;
            };
            w.step = Step::Review {
                proposal: proposal.clone(),
                selected: 0,
                editing: None,
                error: Some(message),
            };
        }
    }
}

/// After a reload: select the package the wizard wrote (clearing filters that hide it) and
/// open its metadata form, as nix-init ends in an editor: the proposal is a start to review.
pub(super) fn select_written(app: &mut App) -> Vec<Command> {
    let Some(name) = app.select_after_reload.take() else {
        return Vec::new();
    };
    let Some(index) = app.catalog.packages.iter().position(|p| p.name == name) else {
        return Vec::new();
    };
    if !app.shown.contains(&index) {
        app.filter = crate::tui::app::Filter::default();
        app.refilter();
    }
    let tier = app.catalog.packages[index].tier;
    let org = app.catalog.packages[index].org.clone();
    app.collapsed.remove(&crate::tui::app::NodeKey::Tier(tier));
    app.collapsed
        .remove(&crate::tui::app::NodeKey::Org(tier, org));
    app.rebuild_rows();
    if let Some(pos) = app
        .rows
        .iter()
        .position(|r| r.is(&crate::tui::app::NodeKey::Package(index)))
    {
        app.selected = pos;
        return super::forms::open(app, false);
    }
    Vec::new()
}
