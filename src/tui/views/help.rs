//! The `?` overlay: every binding of the live keymap, grouped by view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::{centered, inner};

use super::block;
use super::wrap::{Hanging, wrap_all};

/// Columns of the keys; the description starts after them (and wrapped lines under it).
const KEYS_WIDTH: usize = 24;

/// The overlay's place on a screen of the app's size.
fn area(app: &App) -> Rect {
    let full = Rect::new(0, 0, app.width, app.height);
    centered(full, 78, full.height.saturating_sub(2))
}

/// The help text wrapped to `width` columns.
pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    for (view, rows) in app.keymap.help_rows() {
        if rows.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Hanging::new(Line::default(), 0));
        }
        out.push(Hanging::new(
            Span::styled(format!("[keys.{}]", view.name()), t.help_header),
            0,
        ));
        for (keys, action) in rows {
            let line = Line::from(vec![
                Span::styled(format!("  {keys:<w$}", w = KEYS_WIDTH - 2), t.help_key),
                Span::styled(format!("{:<28}", action.describe()), t.text),
                Span::styled(action.name(), t.muted),
            ]);
            out.push(Hanging::new(line, KEYS_WIDTH));
        }
    }
    wrap_all(out, width)
}

pub fn line_count(app: &App) -> usize {
    lines(app, inner(area(app)).width as usize).len()
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
    let area = area(app);
    frame.render_widget(Clear, area);
    let block = block(app, true)
        .title(format!(" Keys · remap in {} ", app.config_file))
        .title_bottom(bottom_hint(app));
    frame.render_widget(
        Paragraph::new(lines(app, inner(area).width as usize))
            .block(block)
            .scroll((scroll, 0)),
        area,
    );
}
