//! The metadata and service options forms: one field per row, list items under their field,
//! the validator's problem under the field in the error style, the open editor in place, and
//! the pick lists, prompts and dialogs over it (`form_dialogs`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::forms::{Editing, FieldKind, FieldValue, Form, Row};
use crate::tui::keymap::View;
use crate::tui::layout::{areas, inner};

use super::block;
use super::form_dialogs;
use super::wrap::{Hanging, wrap_all};

/// Columns of the focus mark and the labels; values start after them.
const LABEL_WIDTH: usize = 22;
/// Lines a multi-line editor takes.
const MULTILINE_HEIGHT: usize = 5;

/// Where the open text editor goes: its first line among the form's lines, and its height.
struct EditorSlot {
    line: usize,
    height: usize,
}

/// The form's lines, where the focused row starts and ends, and the editor's slot.
struct Laid {
    lines: Vec<Line<'static>>,
    focus: (usize, usize),
    editor: Option<EditorSlot>,
}

pub fn draw(frame: &mut Frame, app: &App, form: &Form) {
    let area = areas(app).body;
    frame.render_widget(Clear, area);
    let block = block(app, true)
        .title(title(app, form))
        .title_bottom(hint(app, form));
    let body = inner(area);
    frame.render_widget(block, area);
    let laid = lay_out(app, form, usize::from(body.width));
    let height = usize::from(body.height);
    // Views keep no state: the offset is the smallest that shows the whole focused row.
    let offset = laid.focus.1.saturating_sub(height);
    let shown: Vec<Line> = laid.lines.into_iter().skip(offset).take(height).collect();
    frame.render_widget(Paragraph::new(shown), body);
    if let (Some(slot), Some(Editing::Text { state, .. })) = (&laid.editor, &form.editing)
        && slot.line >= offset
        && slot.line < offset + height
    {
        let x = body.x + LABEL_WIDTH as u16;
        let y = body.y + (slot.line - offset) as u16;
        let h = (slot.height as u16).min(body.y + body.height - y);
        let r = Rect::new(x, y, body.width.saturating_sub(LABEL_WIDTH as u16), h);
        let mut ta = state.textarea();
        ta.set_style(app.theme.text);
        ta.set_cursor_line_style(Style::default());
        ta.set_cursor_style(app.theme.selection);
        frame.render_widget(&ta, r);
    }
    form_dialogs::draw_over(frame, app, form, area);
}

fn title(app: &App, form: &Form) -> Line<'static> {
    let t = &app.theme;
    let mut spans = vec![Span::styled(format!(" {} ", form.title()), t.heading)];
    if form.dirty() {
        spans.push(Span::styled("● modified ", t.warning));
    }
    if form.changed_on_disk {
        spans.push(Span::styled(
            format!(
                "{} changed on disk: saving shows the conflict ",
                t.glyphs.warning
            ),
            t.bad,
        ));
    }
    if form.saving {
        spans.push(Span::styled("saving… ", t.muted));
    }
    Line::from(spans)
}

/// `ctrl-s save · ctrl-z undo · esc leave`, from the live keymap.
fn hint(app: &App, form: &Form) -> String {
    let view = if form.editing.is_some() {
        View::FormEdit
    } else {
        View::Form
    };
    let key = |a| app.keymap.hint(view, a);
    let (enter, esc) = match &form.editing {
        Some(Editing::Text { state, .. }) if state.multiline => ("newline", "done"),
        Some(Editing::Text { .. }) => ("done", "done"),
        Some(Editing::Name { .. }) => ("create", "cancel"),
        _ => ("choose", "cancel"),
    };
    let editing = [
        (Action::FormEditEnter, enter),
        (Action::FormEditDone, esc),
        (Action::FormSave, "save"),
        (Action::FormUndo, "undo"),
    ];
    let pairs: &[(Action, &str)] = if form.editing.is_some() {
        &editing
    } else {
        &[
            (Action::FormEdit, "edit"),
            (Action::FormAddItem, "add"),
            (Action::FormRemoveItem, "remove"),
            (Action::FormSave, "save"),
            (Action::FormUndo, "undo"),
            (Action::FormRedo, "redo"),
            (Action::CloseOverlay, "leave"),
            (Action::Help, "all keys"),
        ]
    };
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(a, what)| key(*a).map(|k| format!("{k} {what}")))
        .collect();
    format!(" {} ", parts.join(" · "))
}

fn lay_out(app: &App, form: &Form, width: usize) -> Laid {
    let t = &app.theme;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut focus = (0, 0);
    let mut editor = None;
    for (p, m) in form.other_problems() {
        let text = if p.is_empty() {
            m.to_owned()
        } else {
            format!("{p}: {m}")
        };
        let line = Line::from(vec![
            Span::styled(format!("{} ", t.glyphs.warning), t.bad),
            Span::styled(text, t.bad),
        ]);
        lines.extend(wrap_all(vec![Hanging::new(line, 2)], width));
    }
    for (r, row) in form.rows.iter().enumerate() {
        let start = lines.len();
        let focused = r == form.focus;
        match row {
            Row::Section(s) => lines.push(Line::from(Span::styled(
                format!("{}{s}", if focused { "▸ " } else { "  " }),
                if focused { t.selection } else { t.heading },
            ))),
            Row::Empty => lines.push(Line::from(Span::styled(
                no_services_text(app),
                if focused { t.selection } else { t.muted },
            ))),
            Row::Field(i) => {
                let slot = field_line(app, form, *i, None, focused, &mut lines);
                editor = editor.or(slot);
                problem_lines(app, form, *i, width, &mut lines);
            }
            Row::Item { field, index } => {
                let slot = field_line(app, form, *field, Some(*index), focused, &mut lines);
                editor = editor.or(slot);
            }
        }
        if focused {
            focus = (start, lines.len());
        }
    }
    Laid {
        lines,
        focus,
        editor,
    }
}

fn no_services_text(app: &App) -> String {
    match app.keymap.hint(View::Form, Action::FormAddService) {
        Some(k) => format!("no services yet: {k} adds one"),
        None => "no services yet".into(),
    }
}

/// The field's (or list item's) line; the editor's slot when it is open on it.
fn field_line(
    app: &App,
    form: &Form,
    i: usize,
    item: Option<usize>,
    focused: bool,
    lines: &mut Vec<Line<'static>>,
) -> Option<EditorSlot> {
    let t = &app.theme;
    let f = &form.fields[i];
    let mark = if focused { "▸ " } else { "  " };
    let indent = if f.section.is_some() { "  " } else { "" };
    let label = match item {
        None => format!("{mark}{indent}{}", f.label),
        Some(n) => format!("{mark}{indent}  {}.", n + 1),
    };
    let editing_here = match &form.editing {
        Some(Editing::Text {
            field,
            item: it,
            state,
            ..
        }) if *field == i && *it == item => Some(state),
        _ => None,
    };
    let label_style = if focused && editing_here.is_none() {
        t.selection
    } else if form.problem_of(i).is_some() && item.is_none() {
        t.bad
    } else {
        t.muted
    };
    let label_span = Span::styled(format!("{label:<LABEL_WIDTH$}"), label_style);
    if let Some(state) = editing_here {
        let height = if state.multiline {
            MULTILINE_HEIGHT.max(state.lines.len().min(MULTILINE_HEIGHT))
        } else {
            1
        };
        let line = lines.len();
        lines.push(Line::from(label_span));
        lines.extend((1..height).map(|_| Line::default()));
        if let Some(Editing::Text {
            refused: Some(r), ..
        }) = &form.editing
        {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(LABEL_WIDTH)),
                Span::styled(format!("refused: {r}"), t.warning),
            ]));
        }
        return Some(EditorSlot { line, height });
    }
    let value = match (item, &f.value) {
        (Some(n), FieldValue::List(items)) => items.get(n).cloned().unwrap_or_default(),
        (None, FieldValue::List(items)) if !items.is_empty() => {
            format!("{} item(s)", items.len())
        }
        (None, FieldValue::List(_)) => "(empty)".into(),
        (None, _) if matches!(f.kind, FieldKind::Map { .. }) => "entries below".into(),
        (None, FieldValue::Absent) => match &f.absent_means {
            Some(m) => format!("— (means {m})"),
            None => "—".into(),
        },
        (_, v) => v.display(),
    };
    let value_style =
        if matches!(f.value, FieldValue::Absent) || matches!(f.kind, FieldKind::Map { .. }) {
            t.muted
        } else {
            t.text
        };
    let changed = item.is_none() && f.value != form.base.value(&f.path);
    let mut spans = vec![label_span, Span::styled(value, value_style)];
    if changed {
        spans.push(Span::styled(" ●", t.warning));
    }
    lines.push(Line::from(spans));
    None
}

/// The validator's problem with field `i`, under it, wrapped.
fn problem_lines(app: &App, form: &Form, i: usize, width: usize, lines: &mut Vec<Line<'static>>) {
    let Some(problem) = form.problem_of(i) else {
        return;
    };
    let t = &app.theme;
    let line = Line::from(vec![
        Span::raw(" ".repeat(LABEL_WIDTH)),
        Span::styled(format!("{} {problem}", t.glyphs.warning), t.bad),
    ]);
    lines.extend(wrap_all(vec![Hanging::new(line, LABEL_WIDTH + 2)], width));
}
