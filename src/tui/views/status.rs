//! The title bar (catalog and counts) and the status bar (filters and key hints).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::action::Action;
use crate::tui::app::{App, Mode};
use crate::tui::keymap::View;

pub fn draw_title(frame: &mut Frame, app: &App, area: Rect) {
    let total = app.catalog.packages.len();
    let bar = Style::new().bg(Color::Blue).fg(Color::White);
    let left = Line::from(vec![
        Span::styled(" atwb", bar.add_modifier(Modifier::BOLD)),
        Span::styled(format!(" · {} · {total} packages", app.catalog_label), bar),
    ]);
    let counts: Vec<String> = app
        .status_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{} {n} {}", s.glyph(), s.label()))
        .collect();
    let right = Line::from(Span::styled(format!("{} ", counts.join("  ")), bar)).right_aligned();
    let fits = left.width() + right.width() + 2 <= area.width as usize;
    frame.render_widget(Paragraph::new(left).style(bar), area);
    if fits {
        frame.render_widget(Paragraph::new(right), area);
    }
}

pub fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let mut parts = vec![format!(
        " {}/{} shown",
        app.shown.len(),
        app.catalog.packages.len()
    )];
    match app.filter.tier {
        Some(t) => parts.push(format!("tier {t}")),
        None => parts.push("all tiers".into()),
    }
    if let Some(c) = app.filter.category {
        parts.push(c.as_str().into());
    }
    if !app.filter.query.is_empty() {
        parts.push(format!("/{}", app.filter.query));
    }
    let mut left = vec![Span::raw(parts.join(" · "))];
    if app.diagnostics > 0 {
        left.push(Span::raw(" · "));
        left.push(Span::styled(
            format!("⚠ {} invalid (atwb check)", app.diagnostics),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let hints = hints(app);
    let bar = Style::new().bg(Color::DarkGray).fg(Color::White);
    let left = Line::from(left);
    let left_width = left.width();
    frame.render_widget(Paragraph::new(left).style(bar), area);
    let hints_width: usize = hints
        .iter()
        .map(|(k, l)| k.chars().count() + l.chars().count() + 3)
        .sum();
    if left_width + hints_width + 2 <= area.width as usize {
        let key = Style::new()
            .fg(Color::Yellow)
            .bg(Color::DarkGray)
            .add_modifier(Modifier::BOLD);
        let mut spans = Vec::new();
        for (k, label) in hints {
            spans.push(Span::styled(k, key));
            spans.push(Span::styled(format!(" {label}  "), bar));
        }
        frame.render_widget(Paragraph::new(Line::from(spans).right_aligned()), area);
    }
}

/// Key hints for the current view, read from the live keymap so remapped keys show correctly.
fn hints(app: &App) -> Vec<(String, &'static str)> {
    let view = app.view();
    let wanted: &[(Action, &str)] = match (view, app.mode) {
        (View::Help, _) => &[(Action::CloseOverlay, "close")],
        (_, Mode::Search) => &[
            (Action::SearchConfirm, "keep filter"),
            (Action::SearchCancel, "clear"),
        ],
        _ => &[
            (Action::Search, "search"),
            (Action::CycleCategory, "category"),
            (Action::NextPane, "pane"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
    };
    let mut out: Vec<(String, &'static str)> = Vec::new();
    if view == View::Main {
        let tiers: Vec<String> = [
            Action::FilterTier1,
            Action::FilterTier2,
            Action::FilterTier3,
            Action::FilterTierAll,
        ]
        .into_iter()
        .filter_map(|a| app.keymap.hint(view, a))
        .collect();
        if !tiers.is_empty() {
            out.push((tiers.join("/"), "tier"));
        }
    }
    out.extend(
        wanted
            .iter()
            .filter_map(|(a, label)| app.keymap.hint(view, *a).map(|k| (k, *label))),
    );
    out
}
