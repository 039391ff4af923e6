//! Drawing. Every function here reads `&App` and writes to the frame; nothing changes state.

pub mod detail;
pub mod dialog;
pub mod help;
pub mod jobs;
pub mod jobs_strip;
pub mod log;
pub mod status;
pub mod tree;

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use super::app::{App, Overlay};
use super::layout::areas;

pub fn draw(frame: &mut Frame, app: &App) {
    let a = areas(app);
    status::draw_title(frame, app, a.title);
    if let Some(tree_area) = a.tree {
        tree::draw(frame, app, tree_area, a.search, a.tree_list);
    }
    if let Some(detail_area) = a.detail {
        detail::draw(frame, app, detail_area);
    }
    if let Some(strip) = a.jobs {
        jobs_strip::draw(frame, app, strip);
    }
    status::draw_status(frame, app, a.status);
    for overlay in &app.overlays {
        match overlay {
            Overlay::Help { scroll } => help::draw(frame, app, *scroll),
            Overlay::Log(v) => log::draw(frame, app, v),
            Overlay::Jobs { selected } => jobs::draw(frame, app, *selected),
            Overlay::Confirm { message, .. } => dialog::confirm(frame, app, message),
            Overlay::Prompt { label, text } => dialog::prompt(frame, label, text),
        }
    }
}

/// Style of characters a search matched.
pub fn match_style() -> Style {
    Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// `text` as spans, with the chars at `indices` (char positions, sorted) in the match style.
pub fn highlighted(text: &str, indices: &[usize], base: Style) -> Vec<Span<'static>> {
    if indices.is_empty() {
        return vec![Span::styled(text.to_owned(), base)];
    }
    let hl = base.patch(match_style());
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hl = false;
    let mut next = indices.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        let is_hl = next.peek() == Some(&&i);
        if is_hl {
            next.next();
        }
        if is_hl != run_hl && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_hl { hl } else { base },
            ));
        }
        run_hl = is_hl;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hl { hl } else { base }));
    }
    spans
}

/// Border style of a pane: bright when it has the focus.
pub fn pane_border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}
