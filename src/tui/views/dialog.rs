//! Small centred dialogs: a yes/no question and a one-line prompt.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::centered;

use super::block;

pub fn confirm(frame: &mut Frame, app: &App, message: &str) {
    let full = frame.area();
    let width = 64.min(full.width);
    let key = |a| app.keymap.hint(View::Confirm, a).unwrap_or_default();
    let bold = app.theme.dialog_key;
    let hint = Line::from(vec![
        Span::styled(key(Action::Confirm), bold),
        Span::raw(" yes   "),
        Span::styled(key(Action::CloseOverlay), bold),
        Span::raw(" no"),
    ]);
    let text = Paragraph::new(vec![Line::from(message.to_owned()), Line::default(), hint])
        .wrap(Wrap { trim: false });
    // Word wrapping decides the height, so the key hint is never cut off.
    let height = text.line_count(width.saturating_sub(2)) as u16 + 2;
    let area = centered(full, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        text.block(
            block(app, true)
                .title(" Confirm ")
                .border_style(app.theme.dialog_border),
        ),
        area,
    );
}

pub fn prompt(frame: &mut Frame, app: &App, label: &str, text: &str) {
    let area = centered(frame.area(), 70, 3);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(text.to_owned()),
            Span::styled(app.theme.glyphs.cursor, app.theme.cursor),
        ]))
        .block(block(app, true).title(format!(" {label} (enter opens, esc cancels) "))),
        area,
    );
}
