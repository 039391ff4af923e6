//! Invalid packages and the edit loop around them: `E` at the first error's line, the offer to
//! edit again while the file still has errors, the problems view (`!`) and its jump to the
//! package, the message history (`M`), and reloads (`ctrl-r`, and files changed on disk, which
//! reload only their package when no catalog-wide rule is involved).

use std::path::{Path, PathBuf};

use crate::catalog::{Diagnostic, Loaded, Reloaded};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Mode, NodeKey, OnYes, Overlay, Pane};
use crate::tui::views::problems as view;

use super::main::keep_selection_visible;

/// Main-view actions of this file; None for the others.
pub(super) fn main_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    if let Some(p) = app.selected_invalid()
        && matches!(action, Action::Build | Action::Test | Action::FixHash)
    {
        let text = format!(
            "{} does not load, so it cannot be built: fix {} first ({} edits it)",
            p.name,
            view::shown(app, &p.file),
            app.keymap
                .hint(crate::tui::keymap::View::Main, Action::OpenEditor)
                .unwrap_or_else(|| "$EDITOR".into())
        );
        app.notify(text, true);
        return Some(Vec::new());
    }
    match action {
        Action::Problems => app.overlays.push(Overlay::Problems { selected: 0 }),
        Action::MessageHistory => app.overlays.push(Overlay::Messages { scroll: 0 }),
        Action::ReloadCatalog => return Some(reload_all(app)),
        Action::OpenEditor => return Some(open_editor(app)),
        _ => return None,
    }
    Some(Vec::new())
}

fn reload_all(app: &mut App) -> Vec<Command> {
    app.notify("reloading the catalog", false);
    app.reload_requested = true;
    vec![Command::ReloadCatalog]
}

/// `E`: the selected package's file in `$EDITOR`; an invalid one at its first error's line.
fn open_editor(app: &mut App) -> Vec<Command> {
    let (file, line) = if let Some(i) = app.selected_invalid() {
        (i.file.clone(), i.first_line())
    } else if let Some(p) = app.selected_package() {
        (p.dir.join("package.toml"), None)
    } else {
        app.notify("select a package to edit", true);
        return Vec::new();
    };
    edit(app, file, line)
}

fn edit(app: &mut App, file: PathBuf, line: Option<usize>) -> Vec<Command> {
    app.editing = Some(file.clone());
    vec![Command::OpenEditor { file, line }]
}

/// The confirm dialog's yes to "edit again?".
pub(super) fn edit_again(app: &mut App, file: PathBuf, line: Option<usize>) -> Vec<Command> {
    edit(app, file, line)
}

/// Keys while the problems view is on top.
pub(super) fn problems_action(app: &mut App, action: Action) -> Vec<Command> {
    let count = app.problems.len();
    let Some(Overlay::Problems { selected }) = app.overlays.last_mut() else {
        return Vec::new();
    };
    let last = count.saturating_sub(1);
    match action {
        Action::MoveDown => *selected = (*selected + 1).min(last),
        Action::MoveUp => *selected = selected.saturating_sub(1),
        Action::Top => *selected = 0,
        Action::Bottom => *selected = last,
        Action::JumpToPackage => {
            let at = *selected;
            jump_to_problem(app, at);
        }
        Action::OpenEditor => {
            let at = *selected;
            return edit_problem(app, at);
        }
        Action::ReloadCatalog => return reload_all(app),
        _ => app.dirty = false,
    }
    Vec::new()
}

/// Keys while the message history is on top: it scrolls.
pub(super) fn messages_action(app: &mut App, action: Action) {
    let max = view::history_line_count(app).saturating_sub(1) as u16;
    let Some(Overlay::Messages { scroll }) = app.overlays.last_mut() else {
        return;
    };
    match action {
        Action::MoveDown => *scroll = (*scroll + 1).min(max),
        Action::MoveUp => *scroll = scroll.saturating_sub(1),
        Action::Top => *scroll = 0,
        Action::Bottom => *scroll = max,
        _ => app.dirty = false,
    }
}

/// The package folder a diagnostic is about: the one its file is in.
fn package_key(app: &App, d: &Diagnostic) -> Option<NodeKey> {
    let inside = |dir: &Path| d.file.starts_with(dir);
    if let Some(i) = app.invalid.iter().position(|p| inside(&p.dir)) {
        return Some(NodeKey::Invalid(i));
    }
    let i = app.catalog.packages.iter().position(|p| inside(&p.dir))?;
    Some(NodeKey::Package(i))
}

/// Enter in the problems view: close it and select the diagnostic's package in the tree,
/// clearing filters and opening groups that hid it.
fn jump_to_problem(app: &mut App, at: usize) {
    let Some(d) = app.problems.get(at).cloned() else {
        return;
    };
    let Some(key) = package_key(app, &d) else {
        return app.notify(
            format!("{} is not in a package folder", view::shown(app, &d.file)),
            true,
        );
    };
    if !app.rows.iter().any(|r| r.is(&key)) {
        app.filter = crate::tui::app::Filter::default();
        app.mode = Mode::Normal;
        let (tier, org) = match &key {
            NodeKey::Package(i) => {
                let p = &app.catalog.packages[*i];
                (Some(p.tier), p.org.clone())
            }
            NodeKey::Invalid(i) => (app.invalid[*i].tier, app.invalid[*i].org.clone()),
            _ => (None, String::new()),
        };
        match tier {
            Some(t) => {
                app.collapsed.remove(&NodeKey::Tier(t));
                app.collapsed.remove(&NodeKey::Org(t, org));
            }
            None => {
                app.collapsed.remove(&NodeKey::Unplaced);
            }
        }
        app.refilter();
    }
    if let Some(pos) = app.rows.iter().position(|r| r.is(&key)) {
        app.selected = pos;
        app.detail_scroll = 0;
        app.focus = Pane::Tree;
    }
    app.overlays.pop();
    keep_selection_visible(app);
}

/// `E` in the problems view: the diagnostic's file at its line.
fn edit_problem(app: &mut App, at: usize) -> Vec<Command> {
    let Some(d) = app.problems.get(at) else {
        return Vec::new();
    };
    let is_file = d
        .file
        .extension()
        .is_some_and(|e| e == "toml" || e == "nix");
    if !is_file {
        let text = format!("{} is a folder: nothing to edit", view::shown(app, &d.file));
        app.notify(text, true);
        return Vec::new();
    }
    let (file, line) = (d.file.clone(), (d.line > 0).then_some(d.line));
    edit(app, file, line)
}

/// The whole catalog read again (`ctrl-r`, after `$EDITOR`, after a change a single reload
/// cannot settle). After `$EDITOR`, a file that still has errors is offered for another edit.
pub(super) fn on_catalog_reloaded(app: &mut App, loaded: Loaded) -> Vec<Command> {
    let names_before = app.package_names();
    let invalid_before: Vec<String> = app.invalid.iter().map(|i| i.name.clone()).collect();
    let invalid_dirs_before: Vec<PathBuf> = app.invalid.iter().map(|i| i.dir.clone()).collect();
    app.replace_catalog(loaded);
    keep_selection_visible(app);
    let edited = app.editing.take();
    let still_invalid = edited
        .as_ref()
        .and_then(|f| app.invalid.iter().find(|i| &i.file == f));
    if let Some(i) = still_invalid {
        let n = i.diagnostics.len();
        let message = format!(
            "{} still has {n} error{}: edit again?",
            view::shown(app, &i.file),
            if n == 1 { "" } else { "s" }
        );
        let on_yes = OnYes::EditAgain {
            file: i.file.clone(),
            line: i.first_line(),
        };
        app.notify(message.clone(), true);
        app.overlays.push(Overlay::Confirm { message, on_yes });
    } else if let Some(file) = edited {
        // Only news is worth a message: a file that had errors loads again.
        let dir = file.parent().map(Path::to_path_buf);
        let fixed = invalid_dirs_before.iter().any(|d| Some(d) == dir.as_ref());
        if fixed {
            app.notify(format!("{}: loads again", view::shown(app, &file)), false);
        }
    } else {
        // Only news, or the answer to `ctrl-r`, is worth a message: a reload after atwb's own
        // save must not push "saved …" off the status line.
        let requested = std::mem::take(&mut app.reload_requested);
        let news = app.package_names() != names_before
            || app
                .invalid
                .iter()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
                != invalid_before;
        // The wizard's own write is told by the wizard ("wrote …").
        let wizard_wrote = app.select_after_reload.is_some();
        if requested || (news && !wizard_wrote) {
            let text = reload_summary(app, &names_before, &invalid_before);
            app.notify(text, !app.problems.is_empty());
        }
    }
    // Packages that appeared (a fixed file) have no status yet, and any file may have changed
    // (staleness): the store is read again for all of them.
    vec![Command::RefreshStatus(app.package_names())]
}

/// `catalog reloaded: 7 packages · loads again: slingshot · now invalid: goat (! lists ...)`.
fn reload_summary(app: &App, valid_before: &[String], invalid_before: &[String]) -> String {
    let mut parts = vec![format!(
        "catalog reloaded: {} packages",
        app.catalog.packages.len()
    )];
    let fixed: Vec<&str> = app
        .catalog
        .packages
        .iter()
        .filter(|p| invalid_before.contains(&p.name))
        .map(|p| p.name.as_str())
        .collect();
    if !fixed.is_empty() {
        parts.push(format!("loads again: {}", fixed.join(", ")));
    }
    let broken: Vec<&str> = app
        .invalid
        .iter()
        .filter(|i| valid_before.contains(&i.name))
        .map(|i| i.name.as_str())
        .collect();
    if !broken.is_empty() {
        parts.push(format!("now invalid: {}", broken.join(", ")));
    }
    if !app.invalid.is_empty() {
        parts.push(format!(
            "{} invalid ({} lists the problems)",
            app.invalid.len(),
            app.keymap
                .hint(crate::tui::keymap::View::Main, Action::Problems)
                .unwrap_or_else(|| "atwb check".into())
        ));
    }
    parts.join(" · ")
}

/// A package folder read again after its files changed on disk: put in place (selection and
/// scroll kept) and marked stale when it was built, or the whole catalog reloaded when a
/// catalog-wide rule is involved.
pub(super) fn on_package_reloaded(app: &mut App, dir: &Path, result: Reloaded) -> Vec<Command> {
    // Already shown as it is on disk (atwb's own write, or the reload after `$EDITOR` came
    // first): nothing to say.
    let unchanged = match &result {
        Reloaded::Valid(p) => app.catalog.packages.iter().any(|q| q == &**p),
        Reloaded::Invalid(i) => app.invalid.iter().any(|j| j == i),
        Reloaded::Gone => {
            !app.catalog.packages.iter().any(|p| p.dir == dir)
                && !app.invalid.iter().any(|i| i.dir == dir)
        }
        Reloaded::NeedsFullLoad => false,
    };
    if unchanged {
        app.dirty = false;
        // A comment may have changed: the build's fingerprint (staleness) still follows it.
        return match result {
            Reloaded::Valid(p) => vec![Command::RefreshStatus(vec![p.name])],
            _ => Vec::new(),
        };
    }
    let text = match &result {
        Reloaded::Valid(p) => format!("{}: changed on disk, reloaded", p.name),
        Reloaded::Invalid(i) => format!(
            "{}: changed on disk and has {} error{} ({} shows it)",
            i.name,
            i.diagnostics.len(),
            if i.diagnostics.len() == 1 { "" } else { "s" },
            app.keymap
                .hint(crate::tui::keymap::View::Main, Action::Problems)
                .unwrap_or_else(|| "atwb check".into())
        ),
        Reloaded::Gone => format!("{}: removed on disk", view::shown(app, dir)),
        Reloaded::NeedsFullLoad => String::new(),
    };
    let error = matches!(result, Reloaded::Invalid(_));
    let name = match &result {
        Reloaded::Valid(p) => Some(p.name.clone()),
        _ => None,
    };
    if !app.replace_package(dir, result) {
        return vec![Command::ReloadCatalog];
    }
    keep_selection_visible(app);
    app.notify(text, error);
    let Some(name) = name else {
        return Vec::new();
    };
    // Stale at once when it was built (the files differ from the build's); the store's
    // fingerprint then confirms it.
    if let Some(s) = app.statuses.get_mut(&name)
        && s.last_build.is_some()
    {
        s.stale = true;
    }
    vec![Command::RefreshStatus(vec![name])]
}

/// `lib/` changed: every build may be stale.
pub(super) fn on_lib_changed(app: &mut App) -> Vec<Command> {
    app.dirty = true;
    vec![Command::RefreshStatus(app.package_names())]
}
