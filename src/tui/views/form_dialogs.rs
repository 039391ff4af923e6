//! What a form draws over itself: pick lists, the name prompt, the service picker, the leave
//! prompt and the conflict view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::forms::{Conflict, Dialog, Editing, Form, Picker, Side, TextState};
use crate::tui::keymap::View;
use crate::tui::layout::{centered, inner};

use super::block;

/// Choices a pick list shows at once.
const PICK_ROWS: usize = 12;

pub fn draw_over(frame: &mut Frame, app: &App, form: &Form, area: Rect) {
    match &form.editing {
        Some(Editing::Pick {
            picker, refused, ..
        }) => pick_list(frame, app, area, " pick ", picker, refused.as_deref()),
        Some(Editing::Service { picker }) => {
            pick_list(frame, app, area, " which service? ", picker, None);
        }
        Some(Editing::Name {
            what,
            state,
            refused,
        }) => name_prompt(frame, app, area, &what.label(), state, refused.as_deref()),
        _ => {}
    }
    match &form.dialog {
        Some(Dialog::Leave) => leave(frame, app, form, area),
        Some(Dialog::Conflict(c)) => conflict(frame, app, c, area),
        None => {}
    }
}

fn key(app: &App, view: View, a: Action) -> String {
    app.keymap.hint(view, a).unwrap_or_else(|| "?".into())
}

fn pick_list(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    title: &str,
    picker: &Picker,
    refused: Option<&str>,
) {
    let t = &app.theme;
    let visible = picker.visible();
    let rows = visible.len().min(PICK_ROWS);
    // Keep the highlighted choice in the window.
    let first = picker.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::from(vec![
        Span::styled("filter ", t.muted),
        Span::raw(picker.filter.clone()),
        Span::styled(t.glyphs.cursor, t.cursor),
    ])];
    for (i, c) in visible.iter().enumerate().skip(first).take(rows) {
        let style = if i == picker.selected {
            t.selection
        } else {
            t.text
        };
        lines.push(Line::from(Span::styled(format!(" {c} "), style)));
    }
    if let Some(r) = refused {
        lines.push(Line::from(Span::styled(r.to_owned(), t.warning)));
    }
    let height = lines.len() as u16 + 2;
    let r = centered(area, 52, height);
    frame.render_widget(Clear, r);
    let hint = format!(
        " type to filter · {} choose · {} cancel ",
        key(app, View::FormEdit, Action::FormEditEnter),
        key(app, View::FormEdit, Action::FormEditDone)
    );
    frame.render_widget(
        Paragraph::new(lines).block(block(app, true).title(title.to_owned()).title_bottom(hint)),
        r,
    );
}

fn name_prompt(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    label: &str,
    state: &TextState,
    refused: Option<&str>,
) {
    let t = &app.theme;
    let mut lines = vec![Line::from(vec![
        Span::raw(state.text()),
        Span::styled(t.glyphs.cursor, t.cursor),
    ])];
    if let Some(r) = refused {
        lines.push(Line::from(Span::styled(r.to_owned(), t.bad)));
    }
    let r = centered(area, 60, lines.len() as u16 + 2);
    frame.render_widget(Clear, r);
    let title = format!(
        " {label} ({} creates, {} cancels) ",
        key(app, View::FormEdit, Action::FormEditEnter),
        key(app, View::FormEdit, Action::FormEditDone)
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(app, true).title(title)),
        r,
    );
}

fn leave(frame: &mut Frame, app: &App, form: &Form, area: Rect) {
    let t = &app.theme;
    let k = |a| key(app, View::FormDialog, a);
    let lines = vec![
        Line::from(format!("{} has unsaved changes.", form.title())),
        Line::default(),
        Line::from(vec![
            Span::styled(k(Action::FormSave), t.dialog_key),
            Span::raw(" save   "),
            Span::styled(k(Action::FormDiscard), t.dialog_key),
            Span::raw(" discard   "),
            Span::styled(k(Action::CloseOverlay), t.dialog_key),
            Span::raw(" stay"),
        ]),
    ];
    let r = centered(area, 60, 5);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            block(app, true)
                .title(" Leave the form? ")
                .border_style(t.dialog_border),
        ),
        r,
    );
}

fn conflict(frame: &mut Frame, app: &App, c: &Conflict, area: Rect) {
    let t = &app.theme;
    let k = |a| key(app, View::FormDialog, a);
    let mut lines = vec![
        Line::from(Span::styled(
            "The file changed on disk since the form read it. Nothing was written.",
            t.bad,
        )),
        Line::default(),
    ];
    if c.fields.is_empty() {
        lines.push(Line::from(
            "No field of this form differs: saving puts your changes on top of the disk's.",
        ));
    }
    for (i, (f, side)) in c.fields.iter().zip(&c.choice).enumerate() {
        let mark = if i == c.selected { "▸ " } else { "  " };
        let keep = match side {
            Side::Mine => "keeps mine",
            Side::Disk => "takes the disk's",
        };
        let head = if i == c.selected {
            t.selection
        } else {
            t.heading
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{}", f.path), head),
            Span::styled(
                if f.both_changed {
                    "  changed on both sides, "
                } else {
                    "  "
                },
                t.muted,
            ),
            Span::styled(keep, t.warning),
        ]));
        let value = |who: &str, v: &crate::tui::forms::FieldValue, chosen: bool| {
            let style = if chosen { t.good } else { t.text };
            Line::from(vec![
                Span::styled(format!("    {who:<6}"), t.muted),
                Span::styled(v.display(), style),
            ])
        };
        lines.push(value("mine", &f.ours, *side == Side::Mine));
        lines.push(value("disk", &f.theirs, *side == Side::Disk));
        lines.push(value("was", &f.base, false));
    }
    let hint = format!(
        " {} keep mine · {} take disk's · {} save · {} re-open from disk · {} back ",
        k(Action::FormKeepMine),
        k(Action::FormTakeDisk),
        k(Action::Confirm),
        k(Action::FormReopen),
        k(Action::CloseOverlay)
    );
    let height = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, area.width.saturating_sub(4).min(100), height);
    frame.render_widget(Clear, r);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    // The selected field stays in view: four lines per field after two of header.
    let want = 2 + (c.selected as u16 + 1) * 4;
    let scroll = want.saturating_sub(inner(r).height);
    frame.render_widget(
        text.scroll((scroll, 0)).block(
            block(app, true)
                .title(" Conflict ")
                .title_bottom(hint)
                .border_style(t.dialog_border),
        ),
        r,
    );
}
