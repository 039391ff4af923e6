//! Keys of the metadata and service options forms: opening them from the main view, moving
//! between fields, the editors, structural edits, save (refused while a field is invalid),
//! undo/redo, the leave prompt and the conflict view; and the feedback of reading and writing.

use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Overlay};
use crate::tui::forms::{
    Charset, Choice, Dialog, Draft, EditCode, EditKey, Editing, FieldKind, FieldValue, Form,
    FormKind, NewName, Outcome, Picker, Row, TextState,
};

use super::form_save;

/// `m` / `s` on the main view: read the selected package's file (the form opens on feedback).
pub(super) fn open(app: &mut App, service_form: bool) -> Vec<Command> {
    let Some(p) = app.selected_package() else {
        app.notify("select a package to open its form", true);
        return Vec::new();
    };
    let (package, path) = (p.name.clone(), p.dir.join("package.toml"));
    let kind = if service_form {
        FormKind::Service(String::new())
    } else {
        FormKind::Metadata
    };
    vec![Command::OpenForm {
        package,
        path,
        kind,
    }]
}

/// The file is read: open the form (a service form picks its service first when there are
/// several).
pub fn on_opened(app: &mut App, package: String, kind: FormKind, result: Result<Draft, String>) {
    let draft = match result {
        Ok(d) => d,
        Err(e) => return app.notify(format!("{package}: form not opened: {e}"), true),
    };
    let services = draft.services();
    let kind = match kind {
        FormKind::Service(s) if s.is_empty() && services.len() == 1 => {
            FormKind::Service(services[0].clone())
        }
        other => other,
    };
    let mut form = Form::new(package, kind, draft);
    if matches!(&form.kind, FormKind::Service(s) if s.is_empty()) && services.len() > 1 {
        form.editing = Some(Editing::Service {
            picker: Picker::new(services, ""),
        });
    }
    app.overlays.push(Overlay::Form(Box::new(form)));
}

pub(super) fn form_mut(app: &mut App) -> Option<&mut Form> {
    match app.overlays.last_mut() {
        Some(Overlay::Form(f)) => Some(f),
        _ => None,
    }
}

/// Keys while a form is the top overlay.
pub(super) fn form_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    if form.dialog.is_some() {
        return form_save::dialog_action(app, action);
    }
    if form.editing.is_some() {
        return edit_action(app, action);
    }
    nav_action(app, action)
}

/// Moving between rows and acting on the focused field.
fn nav_action(app: &mut App, action: Action) -> Vec<Command> {
    let page = usize::from(app.height.saturating_sub(8)).max(1);
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    let last = form.rows.len().saturating_sub(1);
    match action {
        Action::MoveDown => form.focus = (form.focus + 1).min(last),
        Action::MoveUp => form.focus = form.focus.saturating_sub(1),
        Action::PageDown => form.focus = (form.focus + page).min(last),
        Action::PageUp => form.focus = form.focus.saturating_sub(page),
        Action::Top => form.focus = 0,
        Action::Bottom => form.focus = last,
        Action::FormEdit => start_edit(form, false),
        Action::FormToggle => start_edit(form, true),
        Action::FormAddItem => add_item(form),
        Action::FormRemoveItem => remove_item(form),
        Action::FormItemUp => move_item(form, false),
        Action::FormItemDown => move_item(form, true),
        Action::FormAddOption | Action::FormAddService => {
            let what = match (&form.kind, action) {
                (_, Action::FormAddService) => NewName::Service,
                (FormKind::Service(s), _) if !s.is_empty() => {
                    NewName::Option { service: s.clone() }
                }
                _ => {
                    return notify(
                        app,
                        "options belong to a service: open the service form (s)",
                    );
                }
            };
            if matches!(form.kind, FormKind::Metadata) {
                return notify(app, "services are added in the service form (s)");
            }
            form.editing = Some(Editing::Name {
                what,
                state: TextState::new("", false, Charset::Any),
                refused: None,
            });
        }
        Action::FormRemoveOption => return remove_option(app),
        Action::FormRemoveService => return remove_service(app),
        Action::FormSave => return form_save::save(app),
        Action::FormUndo | Action::FormRedo => undo_redo(app, action == Action::FormUndo),
        Action::CloseOverlay => {
            if form.dirty() {
                form.dialog = Some(Dialog::Leave);
            } else {
                app.overlays.pop();
            }
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

pub(super) fn notify(app: &mut App, text: &str) -> Vec<Command> {
    app.notify(text, true);
    Vec::new()
}

pub(super) fn undo_redo(app: &mut App, undo: bool) {
    let Some(form) = form_mut(app) else { return };
    let done = if undo { form.undo() } else { form.redo() };
    if !done {
        app.notify(
            if undo {
                "nothing to undo"
            } else {
                "nothing to redo"
            },
            false,
        );
    }
}

/// How text of this kind is typed.
fn charset(kind: &FieldKind) -> Charset {
    match kind {
        FieldKind::Port => Charset::Digits,
        FieldKind::Integer { min, .. } if *min >= 0 => Charset::Digits,
        FieldKind::Integer { .. } => Charset::SignedDigits,
        _ => Charset::Any,
    }
}

/// Enter on a field: a text editor, a pick list, or a toggle; on a list, a new item.
/// `toggle_only` (space) acts on booleans alone.
fn start_edit(form: &mut Form, toggle_only: bool) {
    let Some((i, item)) = form.focused() else {
        return;
    };
    let f = &form.fields[i];
    let editing = match (&f.kind, item) {
        (FieldKind::Bool, _) => {
            let on = matches!(f.value, FieldValue::Bool(true));
            form.checkpoint(false);
            return form.set_value(i, None, FieldValue::Bool(!on));
        }
        _ if toggle_only => return,
        (FieldKind::List { .. }, None) => return add_item(form),
        (FieldKind::Map { .. }, _) => return,
        (FieldKind::List { item: kind }, Some(n)) => {
            editor_for(i, Some(n), kind, &list_item(&f.value, n))
        }
        (kind, _) => editor_for(i, None, kind, &text_of(&f.value)),
    };
    form.editing = Some(editing);
}

/// The editor for a value of `kind` holding `current`: a pick list for a choice, else text.
fn editor_for(field: usize, item: Option<usize>, kind: &FieldKind, current: &str) -> Editing {
    if let FieldKind::Enum { choices, open } = kind {
        let labels = choices.iter().map(|c| c.label.clone()).collect();
        let current = choices
            .iter()
            .find(|c| plain_choice(c) == current)
            .map_or(current, |c| c.label.as_str());
        return Editing::Pick {
            field,
            item,
            picker: Picker::new(labels, current).open(*open),
            refused: None,
        };
    }
    Editing::Text {
        field,
        item,
        state: TextState::new(
            current,
            matches!(kind, FieldKind::MultiLineText),
            charset(kind),
        ),
        refused: None,
    }
}

/// A choice's value as typed (`1` for tier 1, shown as `1 foundation`).
fn plain_choice(c: &Choice) -> String {
    match &c.value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The value a pick list's label stands for under `kind` (an open list's typed text as is).
fn value_of_label(kind: &FieldKind, label: &str) -> String {
    let kind = match kind {
        FieldKind::List { item } => item.as_ref(),
        k => k,
    };
    match kind {
        FieldKind::Enum { choices, .. } => choices
            .iter()
            .find(|c| c.label == label)
            .map_or_else(|| label.to_owned(), plain_choice),
        _ => label.to_owned(),
    }
}

fn text_of(v: &FieldValue) -> String {
    match v {
        FieldValue::Text(t) => t.clone(),
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::Absent | FieldValue::List(_) => String::new(),
    }
}

fn list_item(v: &FieldValue, n: usize) -> String {
    match v {
        FieldValue::List(items) => items.get(n).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

fn list_of(form: &Form, i: usize) -> Vec<String> {
    match &form.fields[i].value {
        FieldValue::List(items) => items.clone(),
        _ => Vec::new(),
    }
}

fn row_of(form: &Form, target: &Row) -> Option<usize> {
    form.rows.iter().position(|r| r == target)
}

/// `a`: a new item after the focused one (or at the end), edited at once. With choices
/// (licenses) the pick list opens and the item exists only once one is chosen.
fn add_item(form: &mut Form) {
    let Some((i, item)) = form.focused() else {
        return;
    };
    let FieldKind::List { item: kind } = form.fields[i].kind.clone() else {
        return;
    };
    let mut items = list_of(form, i);
    let at = item.map_or(items.len(), |n| n + 1);
    if matches!(*kind, FieldKind::Enum { .. }) {
        form.editing = Some(editor_for(i, Some(at), &kind, ""));
        return;
    }
    form.checkpoint(true);
    items.insert(at, String::new());
    form.set_value(i, None, FieldValue::List(items));
    if let Some(r) = row_of(
        form,
        &Row::Item {
            field: i,
            index: at,
        },
    ) {
        form.focus = r;
    }
    form.editing = Some(editor_for(i, Some(at), &kind, ""));
}

fn remove_item(form: &mut Form) {
    let Some((i, Some(n))) = form.focused() else {
        return;
    };
    let path = form.fields[i].path.clone();
    form.checkpoint(false);
    if let Err(e) = form.draft.remove_item(&path, n) {
        form.pending.insert(path, (form.fields[i].value.clone(), e));
    }
    form.refresh();
}

fn move_item(form: &mut Form, down: bool) {
    let Some((i, Some(n))) = form.focused() else {
        return;
    };
    let len = list_of(form, i).len();
    let to = if down { n + 1 } else { n.wrapping_sub(1) };
    if to >= len {
        return;
    }
    let path = form.fields[i].path.clone();
    form.checkpoint(false);
    if form.draft.move_item(&path, n, to).is_ok() {
        form.refresh();
        if let Some(r) = row_of(
            form,
            &Row::Item {
                field: i,
                index: to,
            },
        ) {
            form.focus = r;
        }
    }
}

fn remove_option(app: &mut App) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    let (FormKind::Service(service), Some(option)) = (
        form.kind.clone(),
        form.focused_section()
            .and_then(|s| s.strip_prefix("option ").map(str::to_owned)),
    ) else {
        return notify(app, "move into an option's rows to remove it");
    };
    form.checkpoint(false);
    let result = form.draft.remove_option(&service, &option);
    form.refresh();
    let text = match result {
        Ok(()) => format!("removed option {option} (ctrl-z undoes)"),
        Err(e) => e,
    };
    app.notify(text, false);
    Vec::new()
}

fn remove_service(app: &mut App) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    let FormKind::Service(service) = form.kind.clone() else {
        return notify(app, "services are removed in the service form (s)");
    };
    if service.is_empty() {
        return notify(app, "this package has no services");
    }
    form.checkpoint(false);
    if let Err(e) = form.draft.remove_service(&service) {
        return notify(app, &e);
    }
    form.kind = FormKind::Service(form.draft.services().into_iter().next().unwrap_or_default());
    form.focus = 0;
    form.refresh();
    app.notify(format!("removed service {service} (ctrl-z undoes)"), false);
    Vec::new()
}

/// Keys while an editor is open.
fn edit_action(app: &mut App, action: Action) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    match action {
        Action::FormKey(key) => type_key(form, key),
        Action::FormEditEnter => return enter(app),
        Action::FormEditDone => finish(form, false),
        Action::FormSave => {
            finish(form, false);
            return form_save::save(app);
        }
        Action::FormUndo | Action::FormRedo => {
            finish(form, false);
            undo_redo(app, action == Action::FormUndo);
        }
        _ => app.dirty = false,
    }
    Vec::new()
}

/// A typed key: into the editor, the value re-validated at once.
fn type_key(form: &mut Form, key: EditKey) {
    let Some(editing) = form.editing.as_mut() else {
        return;
    };
    let (_, typed) = match editing {
        Editing::Text {
            state,
            refused,
            field,
            item,
        } => {
            // A refused key leaves the text as it was; the reason shows under the editor.
            let out = state.input(key);
            *refused = refused_of(&out);
            let typed = (out == Outcome::Changed).then(|| (*field, *item, state.text()));
            (out, typed)
        }
        Editing::Pick {
            picker, refused, ..
        } => {
            let out = picker.input(key);
            *refused = refused_of(&out);
            (out, None)
        }
        Editing::Service { picker } => (picker.input(key), None),
        Editing::Name { state, refused, .. } => {
            let out = state.input(key);
            *refused = refused_of(&out);
            (out, None)
        }
    };
    if let Some((field, item, text)) = typed {
        form.checkpoint(true);
        let value = if text.is_empty() && item.is_none() && base_absent(form, field) {
            FieldValue::Absent
        } else {
            FieldValue::Text(text)
        };
        form.set_value(field, item, value);
    }
}

fn refused_of(out: &Outcome) -> Option<String> {
    match out {
        Outcome::Refused(r) => Some(r.clone()),
        _ => None,
    }
}

/// An optional field emptied again is left out of the file, as it was.
fn base_absent(form: &Form, field: usize) -> bool {
    form.fields
        .get(field)
        .is_some_and(|f| form.base.value(&f.path) == FieldValue::Absent)
}

/// Enter in an editor: a newline in multi-line text, else done / choose / create.
fn enter(app: &mut App) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    match form.editing.clone() {
        Some(Editing::Text { state, .. }) if state.multiline => {
            type_key(form, EditKey::plain(EditCode::Enter));
        }
        Some(Editing::Text { .. }) => finish(form, false),
        Some(Editing::Pick {
            field,
            item,
            picker,
            ..
        }) => {
            finish(form, true);
            if let Some(label) = picker.chosen() {
                let value = value_of_label(&form.fields[field].kind, &label);
                choose(form, field, item, value);
            }
        }
        Some(Editing::Service { picker }) => {
            if let Some(s) = picker.current() {
                form.kind = FormKind::Service(s.to_owned());
                form.focus = 0;
                form.refresh();
            }
            form.editing = None;
        }
        Some(Editing::Name { what, state, .. }) => return create(app, &what, state.text().trim()),
        None => {}
    }
    Vec::new()
}

/// A choice from a pick list: the enum's value, a list item replaced or inserted.
fn choose(form: &mut Form, field: usize, item: Option<usize>, choice: String) {
    form.checkpoint(false);
    let value = match item {
        None => FieldValue::Text(choice),
        Some(n) => {
            let mut items = list_of(form, field);
            if n < items.len() {
                items[n] = choice;
            } else {
                items.insert(n.min(items.len()), choice);
            }
            FieldValue::List(items)
        }
    };
    form.set_value(field, None, value);
    if let Some(n) = item
        && let Some(r) = row_of(form, &Row::Item { field, index: n })
    {
        form.focus = r;
    }
}

/// Closes the editor. A text list item left empty is dropped again (with its undo step).
fn finish(form: &mut Form, _chosen: bool) {
    if let Some(Editing::Text {
        field,
        item: Some(n),
        state,
        ..
    }) = &form.editing
        && state.text().is_empty()
    {
        let (field, n) = (*field, *n);
        let mut items = list_of(form, field);
        if n < items.len() {
            items.remove(n);
            form.set_value(field, None, FieldValue::List(items));
        }
    }
    form.editing = None;
    form.close_session();
}

/// The name prompt's Enter: a new service or option.
fn create(app: &mut App, what: &NewName, name: &str) -> Vec<Command> {
    let Some(form) = form_mut(app) else {
        return Vec::new();
    };
    if name.is_empty() {
        form.editing = None;
        return Vec::new();
    }
    form.checkpoint(false);
    let result = match what {
        NewName::Service => form.draft.add_service(name),
        NewName::Option { service } => form.draft.add_option(service, name),
    };
    if let Err(e) = result {
        if let Some(Editing::Name { refused, .. }) = form.editing.as_mut() {
            *refused = Some(e);
        }
        form.undo();
        return Vec::new();
    }
    form.editing = None;
    if matches!(what, NewName::Service) {
        form.kind = FormKind::Service(name.to_owned());
    }
    form.refresh();
    if let Some(r) = form
        .rows
        .iter()
        .position(|r| *r == Row::Section(format!("option {name}")))
    {
        form.focus = r + 1;
    }
    Vec::new()
}
