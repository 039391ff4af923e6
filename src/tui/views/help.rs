//! The `?` overlay: every binding of the live keymap, grouped by view.

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::centered;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (view, rows) in app.keymap.help_rows() {
        if rows.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::default());
        }
        out.push(Line::from(Span::styled(
            format!("[keys.{}]", view.name()),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )));
        for (keys, action) in rows {
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<22}"), Style::new().fg(Color::Yellow)),
                Span::raw(format!("{:<28}", action.describe())),
                Span::styled(action.name(), Style::new().fg(Color::DarkGray)),
            ]));
        }
    }
    out
}

pub fn line_count(app: &App) -> usize {
    lines(app).len()
}

/// `j/k scroll · esc close`, from the live help keymap.
fn bottom_hint(app: &App) -> String {
    let key = |a| app.keymap.hint(View::Help, a).unwrap_or_else(|| "?".into());
    format!(
        " {}/{} scroll · {} close ",
        key(Action::MoveDown),
        key(Action::MoveUp),
        key(Action::CloseOverlay)
    )
}

pub fn draw(frame: &mut Frame, app: &App, scroll: u16) {
    let area = centered(frame.area(), 78, frame.area().height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(format!(" Keys · remap in {} ", app.config_file))
        .title_bottom(bottom_hint(app))
        .border_style(Style::new().fg(Color::Cyan));
    frame.render_widget(
        Paragraph::new(lines(app)).block(block).scroll((scroll, 0)),
        area,
    );
}
