//! The updates view (`u`): one row per package as upstream answers (pinned version and rev,
//! upstream head, newest tag, commits behind, status), a detail of the selected row (the
//! reason, what failed, the release notes), and the bump preview (the diff before writing).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::jobs::upstream::{Status, UpstreamRow};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::{areas, centered, inner};
use crate::tui::updates::{BumpPreview, UpdatesView};

use super::block;

const DETAIL_LINES: u16 = 7;

pub fn draw(frame: &mut Frame, app: &App, v: &UpdatesView) {
    let area = areas(app).body;
    frame.render_widget(Clear, area);
    frame.render_widget(block(app, true).title(title(v)), area);
    let body = inner(area);
    let detail_h = DETAIL_LINES.min(body.height / 2);
    let list = Rect {
        height: body.height.saturating_sub(detail_h),
        ..body
    };
    let detail = Rect {
        y: list.y + list.height,
        height: detail_h,
        ..body
    };
    let rows = v.visible();
    let t = &app.theme;
    let mut lines = vec![Line::styled(
        format!(
            "  {:<22} {:<30} {:<12} {:<18} {:>6}  STATUS",
            "NAME", "PINNED", "HEAD", "NEWEST TAG", "BEHIND"
        ),
        t.heading,
    )];
    if rows.is_empty() {
        let text = if v.done() {
            "No package matches (o: all packages, esc in the filter clears it)."
        } else {
            "Asking upstream… rows appear as each package answers."
        };
        lines.push(Line::styled(format!("  {text}"), t.muted));
    }
    let height = list.height.saturating_sub(1) as usize;
    let selected = v.selected.min(rows.len().saturating_sub(1));
    let offset = selected.saturating_sub(height.saturating_sub(1));
    for (i, r) in rows.iter().enumerate().skip(offset).take(height) {
        let mut line = row_line(app, v, r);
        if i == selected {
            let pad = (list.width as usize).saturating_sub(line.width());
            line.push_span(Span::raw(" ".repeat(pad)));
            line = line.patch_style(t.selection);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), list);
    let detail_lines = rows
        .get(selected)
        .map(|r| detail_text(app, v, r))
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(detail_lines).wrap(Wrap { trim: false }),
        detail,
    );
}

fn title(v: &UpdatesView) -> String {
    let outdated = v
        .rows
        .iter()
        .filter(|r| r.status == Status::Outdated)
        .count();
    let unreachable = v
        .rows
        .iter()
        .filter(|r| r.status == Status::Unreachable)
        .count();
    let mut t = format!(
        " Updates · {}/{} answered · {outdated} outdated · {unreachable} unreachable · sort: {}",
        v.rows.len(),
        v.asked,
        v.sort.label()
    );
    if v.only_outdated {
        t.push_str(" · only outdated");
    }
    if v.typing || !v.filter.is_empty() {
        t.push_str(&format!(
            " · filter: {}{}",
            v.filter,
            if v.typing { "_" } else { "" }
        ));
    }
    t.push(' ');
    t
}

fn status_style(app: &App, r: &UpstreamRow) -> Style {
    match r.status {
        Status::UpToDate => app.theme.good,
        Status::Outdated => app.theme.warning,
        Status::Unreachable => app.theme.bad,
    }
}

fn row_line(app: &App, v: &UpdatesView, r: &UpstreamRow) -> Line<'static> {
    let g = &app.theme.glyphs;
    let short =
        |s: Option<&str>| s.map_or_else(|| "-".to_string(), |s| s.chars().take(12).collect());
    let pinned = format!(
        "{} @{}",
        r.pinned_version,
        &short(Some(&r.pinned_rev))[..7.min(r.pinned_rev.len())]
    );
    let behind = r.behind.map_or_else(|| "-".into(), |n| n.to_string());
    let status = if v.bumped.contains(&r.name) {
        "bumped (stale until rebuilt)".to_string()
    } else if v.planning.as_deref() == Some(r.name.as_str()) {
        "computing the bump…".to_string()
    } else {
        r.status.as_str().to_string()
    };
    Line::from(vec![
        Span::styled(
            format!("  {:<22} ", g.truncate(&r.name, 22)),
            app.theme.heading,
        ),
        Span::raw(format!("{:<30} ", g.truncate(&pinned, 30))),
        Span::raw(format!("{:<12} ", short(r.head.as_deref()))),
        Span::raw(format!(
            "{:<18} ",
            g.truncate(r.newest_tag.as_deref().unwrap_or("-"), 18)
        )),
        Span::raw(format!("{behind:>6}  ")),
        Span::styled(status, status_style(app, r)),
    ])
}

fn detail_text(app: &App, v: &UpdatesView, r: &UpstreamRow) -> Vec<Line<'static>> {
    let t = &app.theme;
    let key = |a| app.keymap.hint(View::Updates, a).unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{}: ", r.name), t.heading),
        Span::styled(r.reason.clone(), status_style(app, r)),
        Span::styled(format!("  ({})", r.url), t.muted),
    ])];
    for p in &r.problems {
        lines.push(Line::styled(format!("! {p}"), t.warning));
    }
    if let Some(rel) = &r.release {
        let name = rel
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&rel.tag_name);
        let when = rel.published_at.as_deref().unwrap_or_default();
        lines.push(Line::styled(format!("release {name} {when}"), t.heading));
        let body = rel.body.as_deref().unwrap_or("(no release notes)");
        lines.extend(
            body.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .take(3)
                .map(|l| Line::raw(format!("  {l}"))),
        );
    }
    if r.status == Status::Outdated && !v.bumped.contains(&r.name) {
        lines.push(Line::from(vec![
            Span::styled(key(Action::Bump), t.dialog_key),
            Span::styled(" bump (shows the diff first)", t.muted),
        ]));
    }
    lines
}

/// The bump's diff over everything, with its yes/no.
pub fn preview(frame: &mut Frame, app: &App, package: &str, p: &BumpPreview) {
    let full = frame.area();
    let t = &app.theme;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("Bump {package}: "), t.heading),
        Span::raw(p.summary.clone()),
    ])];
    if let Some(note) = &p.deps_note {
        lines.push(Line::styled(note.clone(), t.warning));
    }
    if p.packages.len() > 1 {
        lines.push(Line::styled(
            format!("moves together: {}", p.packages.join(", ")),
            t.muted,
        ));
    }
    lines.push(Line::default());
    let budget = full.height.saturating_sub(lines.len() as u16 + 6) as usize;
    let diff: Vec<&str> = p.diff.lines().collect();
    for l in diff.iter().take(budget) {
        let style = if l.starts_with("+++") || l.starts_with("---") || l.starts_with("@@") {
            t.muted
        } else if l.starts_with('+') {
            t.good
        } else if l.starts_with('-') {
            t.bad
        } else {
            Style::default()
        };
        lines.push(Line::styled((*l).to_string(), style));
    }
    if diff.len() > budget {
        lines.push(Line::styled(
            format!("{} {} more lines", t.glyphs.ellipsis, diff.len() - budget),
            t.warning,
        ));
    }
    let key = |a| app.keymap.hint(View::Confirm, a).unwrap_or_default();
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(key(Action::Confirm), t.dialog_key),
        Span::raw(" write it   "),
        Span::styled(key(Action::CloseOverlay), t.dialog_key),
        Span::raw(" no"),
    ]));
    let width = full.width.min(100);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    // Wrapping decides the height, so the key hint is never cut off.
    let height = (text.line_count(width.saturating_sub(2)) as u16 + 2).min(full.height);
    let area = centered(full, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        text.block(
            block(app, true)
                .title(" Bump: write package.toml? ")
                .border_style(t.dialog_border),
        ),
        area,
    );
}
