//! The left pane: Tier -> Org -> Package with counts, and the search line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::search;
use crate::tui::app::{App, Mode, PackageStatus, Pane, Row};

use super::{block, highlighted};

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
    let t = &app.theme;
    frame.render_widget(block(app, focused).title(title), area);

    if let Some(s) = search_area {
        let typing = app.mode == Mode::Search;
        let mut spans = vec![
            Span::styled("/", t.prompt),
            Span::styled(app.filter.query.clone(), t.text),
        ];
        if typing {
            spans.push(Span::styled(t.glyphs.cursor, t.cursor));
        }
        spans.push(Span::styled(
            format!(
                "  {} match{}",
                app.shown.len(),
                if app.shown.len() == 1 { "" } else { "es" }
            ),
            t.muted,
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), s);
    }

    if app.rows.is_empty() {
        let msg = if app.catalog.packages.is_empty() {
            "The catalog has no valid packages."
        } else {
            "Nothing matches the filter."
        };
        frame.render_widget(Paragraph::new(msg).style(t.muted), list);
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
    let t = &app.theme;
    let base = match row {
        Row::Tier { .. } | Row::Unplaced { .. } => t.tier_header,
        Row::Org { .. } => t.org_header,
        Row::Package { .. } | Row::Invalid { .. } => t.text,
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
                    arrow(app, *expanded),
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
            spans.extend(invalid_count(app, |p| p.tier == Some(*tier)));
            spans
        }
        Row::Org {
            tier,
            org,
            count,
            expanded,
        } => {
            let mut spans = vec![Span::styled(
                format!("  {} {org} ({count})", arrow(app, *expanded)),
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
            spans.extend(invalid_count(app, |p| {
                p.tier == Some(*tier) && &p.org == org
            }));
            spans
        }
        Row::Unplaced { .. } | Row::Invalid { .. } => invalid_spans(app, row),
        Row::Package { index } => {
            let p = &app.catalog.packages[*index];
            let status = app.status(*index);
            let m = search::matcher();
            let name_hits = search::indices(&m, &p.name, app.filter.query.trim())
                .map(|(_, i)| i)
                .unwrap_or_default();
            let mut spans = vec![
                Span::raw("    "),
                Span::styled(t.glyphs.status(status), t.status(status)),
                Span::raw(" "),
            ];
            spans.extend(highlighted(&p.name, &name_hits, base, t.search_match));
            spans.extend(super::cache::tree_mark(app, &p.name));
            spans
        }
    };
    let mut line = Line::from(spans);
    if selected {
        // Fill the row so the selection reads as a bar, not just highlighted text.
        let pad = (width as usize).saturating_sub(line.width());
        line.push_span(Span::raw(" ".repeat(pad)));
        let sel: Style = if focused {
            t.selection
        } else {
            t.selection_unfocused
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
        .map(|(s, n)| {
            Span::styled(
                format!(" {}{n}", app.theme.glyphs.status(s)),
                app.theme.status(s),
            )
        })
        .collect()
}

/// The `⚠` rows: an invalid package, and the group of those whose tier is unknown.
fn invalid_spans(app: &App, row: &Row) -> Vec<Span<'static>> {
    let t = &app.theme;
    match row {
        Row::Unplaced { count, expanded } => vec![Span::styled(
            format!(
                "{} {} Not loaded · tier unknown ({count})",
                arrow(app, *expanded),
                t.glyphs.warning
            ),
            t.tier_header,
        )],
        Row::Invalid { index } => {
            let p = &app.invalid[*index];
            // Without a tier it has no org line above it: the org goes with the name.
            let (indent, name) = match p.tier {
                Some(_) => ("    ", p.name.clone()),
                None => ("  ", format!("{}/{}", p.org, p.name)),
            };
            vec![
                Span::raw(indent),
                Span::styled(t.glyphs.warning, t.invalid),
                Span::raw(" "),
                Span::styled(name, t.invalid),
            ]
        }
        _ => Vec::new(),
    }
}

/// ` ⚠1` after a group holding invalid packages.
fn invalid_count(
    app: &App,
    keep: impl Fn(&crate::catalog::InvalidPackage) -> bool,
) -> Option<Span<'static>> {
    let n = app
        .shown_invalid
        .iter()
        .filter(|&&i| keep(&app.invalid[i]))
        .count();
    (n > 0).then(|| {
        Span::styled(
            format!(" {}{n}", app.theme.glyphs.warning),
            app.theme.invalid,
        )
    })
}

fn arrow(app: &App, expanded: bool) -> &'static str {
    if expanded {
        app.theme.glyphs.expanded
    } else {
        app.theme.glyphs.collapsed
    }
}
