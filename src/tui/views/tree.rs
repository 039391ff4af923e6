//! The left pane: Tier -> Org -> Package with counts, and the search line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::search;
use crate::tui::app::{App, Mode, PackageStatus, Pane, Row};

use super::{highlighted, pane_border};

pub fn draw(frame: &mut Frame, app: &App, area: Rect, search_area: Option<Rect>, list: Rect) {
    let focused = app.focus == Pane::Tree && app.overlays.is_empty();
    let title = match (app.filter.tier, app.filter.category) {
        (None, None) => " Catalog ".to_owned(),
        (t, c) => {
            let mut parts = Vec::new();
            if let Some(t) = t {
                parts.push(format!("tier {t}"));
            }
            if let Some(c) = c {
                parts.push(c.as_str().to_owned());
            }
            format!(" Catalog · {} ", parts.join(" · "))
        }
    };
    frame.render_widget(
        Block::bordered()
            .title(title)
            .border_style(pane_border(focused)),
        area,
    );

    if let Some(s) = search_area {
        let typing = app.mode == Mode::Search;
        let mut spans = vec![
            Span::styled(
                "/",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(app.filter.query.clone()),
        ];
        if typing {
            spans.push(Span::styled("▏", Style::new().fg(Color::Yellow)));
        }
        spans.push(Span::styled(
            format!(
                "  {} match{}",
                app.shown.len(),
                if app.shown.len() == 1 { "" } else { "es" }
            ),
            Style::new().fg(Color::DarkGray),
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), s);
    }

    if app.rows.is_empty() {
        let msg = if app.catalog.packages.is_empty() {
            "The catalog has no valid packages."
        } else {
            "Nothing matches the filter."
        };
        frame.render_widget(
            Paragraph::new(msg).style(Style::new().fg(Color::DarkGray)),
            list,
        );
        return;
    }

    let lines: Vec<Line> = app
        .rows
        .iter()
        .enumerate()
        .skip(app.tree_offset)
        .take(list.height as usize)
        .map(|(i, row)| row_line(app, row, i == app.selected, focused, list.width))
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}

fn row_line(app: &App, row: &Row, selected: bool, focused: bool, width: u16) -> Line<'static> {
    let base = match row {
        Row::Tier { .. } => Style::new().add_modifier(Modifier::BOLD),
        Row::Org { .. } => Style::new().fg(Color::Cyan),
        Row::Package { .. } => Style::new(),
    };
    let spans = match row {
        Row::Tier {
            tier,
            count,
            expanded,
        } => {
            let mut spans = vec![Span::styled(
                format!(
                    "{} Tier {} · {} ({count})",
                    arrow(*expanded),
                    tier.number(),
                    tier.label()
                ),
                base,
            )];
            let members = app.shown.iter().copied();
            spans.extend(group_counts(
                app,
                members.filter(|&i| app.catalog.packages[i].tier == *tier),
            ));
            spans
        }
        Row::Org {
            tier,
            org,
            count,
            expanded,
        } => {
            let mut spans = vec![Span::styled(
                format!("  {} {org} ({count})", arrow(*expanded)),
                base,
            )];
            let members = app.shown.iter().copied();
            spans.extend(group_counts(
                app,
                members.filter(|&i| {
                    let p = &app.catalog.packages[i];
                    p.tier == *tier && &p.org == org
                }),
            ));
            spans
        }
        Row::Package { index } => {
            let p = &app.catalog.packages[*index];
            let status = app.status(*index);
            let m = search::matcher();
            let name_hits = search::indices(&m, &p.name, app.filter.query.trim())
                .map(|(_, i)| i)
                .unwrap_or_default();
            let mut spans = vec![
                Span::raw("    "),
                Span::styled(status.glyph(), Style::new().fg(status.color())),
                Span::raw(" "),
            ];
            spans.extend(highlighted(&p.name, &name_hits, base));
            spans
        }
    };
    let mut line = Line::from(spans);
    if selected {
        // Fill the row so the selection reads as a bar, not just highlighted text.
        let pad = (width as usize).saturating_sub(line.width());
        line.push_span(Span::raw(" ".repeat(pad)));
        let sel = if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().bg(Color::DarkGray)
        };
        line = line.patch_style(sel);
    }
    line
}

/// ` ✔3 ✘1` after a group: its built packages by status (never-built ones are the rest).
fn group_counts(app: &App, members: impl Iterator<Item = usize>) -> Vec<Span<'static>> {
    app.counts_of(members)
        .into_iter()
        .filter(|(s, _)| *s != PackageStatus::NeverBuilt)
        .map(|(s, n)| Span::styled(format!(" {}{n}", s.glyph()), Style::new().fg(s.color())))
        .collect()
}

fn arrow(expanded: bool) -> &'static str {
    if expanded { "▾" } else { "▸" }
}
