//! What the user needs to fix a catalog: the detail of a package that did not load (each
//! diagnostic with file:line:col, field, message and hint), the problems view (`!`, every
//! diagnostic like `atwb check`), and the message history (`M`).

use std::path::Path;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::catalog::{Diagnostic, InvalidPackage};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::{centered, inner};
use crate::tui::messages::clock;

use super::block;
use super::wrap::{Hanging, wrap_all};

/// `path` relative to the catalog's root (`pkgs/<org>/<name>/package.toml`), as the views show
/// it.
pub fn shown(app: &App, path: &Path) -> String {
    path.strip_prefix(&app.catalog.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `file:line:col  field` then the message and the hint, indented, for one diagnostic.
fn diagnostic_lines(app: &App, d: &Diagnostic) -> Vec<Hanging> {
    let t = &app.theme;
    let mut out = vec![
        Hanging::new(
            Line::from(vec![
                Span::styled(
                    format!("{}:{}:{}", shown(app, &d.file), d.line, d.column),
                    t.accent,
                ),
                Span::styled(format!("  {}", d.field), t.muted),
            ]),
            2,
        ),
        Hanging::new(Span::styled(format!("  {}", d.message), t.bad), 2),
    ];
    if let Some(h) = &d.hint {
        out.push(Hanging::new(
            Span::styled(format!("  hint: {h}"), t.text),
            8,
        ));
    }
    out
}

/// The detail pane of a package folder that did not load.
pub fn invalid_lines(app: &App, p: &InvalidPackage) -> Vec<Hanging> {
    let t = &app.theme;
    let place = match p.tier {
        Some(tier) => format!(" · tier {}", tier.number()),
        None => " · tier unknown".to_owned(),
    };
    let n = p.diagnostics.len();
    let mut out = vec![
        Hanging::new(
            Line::from(vec![
                Span::styled(format!("{} ", t.glyphs.warning), t.invalid),
                Span::styled(p.name.clone(), t.heading),
                Span::styled("  ", t.muted),
                Span::styled(p.org.clone(), t.accent),
                Span::styled(format!("{place} · not loaded"), t.muted),
            ]),
            0,
        ),
        Hanging::new(
            Span::styled(
                format!(
                    "{} has {n} error{}; the package is left out of builds until {} fixed.",
                    shown(app, &p.file),
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "it is" } else { "they are" }
                ),
                t.text,
            ),
            0,
        ),
        Hanging::new(Line::default(), 0),
    ];
    for d in &p.diagnostics {
        out.extend(diagnostic_lines(app, d));
        out.push(Hanging::new(Line::default(), 0));
    }
    let key = |a| app.keymap.hint(View::Main, a);
    let mut keys = Vec::new();
    if let Some(k) = key(Action::OpenEditor) {
        keys.push(match p.first_line() {
            Some(line) => format!("{k} edit at line {line}"),
            None => format!("{k} edit"),
        });
    }
    if let Some(k) = key(Action::Problems) {
        keys.push(format!("{k} every problem"));
    }
    if let Some(k) = key(Action::ReloadCatalog) {
        keys.push(format!("{k} reload"));
    }
    out.push(Hanging::new(Span::styled(keys.join(" · "), t.muted), 0));
    out
}

/// The problems view's place on the screen.
fn area(app: &App) -> Rect {
    let full = Rect::new(0, 0, app.width, app.height);
    centered(
        full,
        full.width.saturating_sub(4).max(20),
        full.height.saturating_sub(2),
    )
}

/// Every diagnostic's lines, and the index of the first line of each.
fn problem_lines(app: &App, selected: usize, width: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut starts = Vec::new();
    for (i, d) in app.problems.iter().enumerate() {
        starts.push(lines.len());
        let mut these = wrap_all(diagnostic_lines(app, d), width);
        if i == selected {
            let pad = |l: Line<'static>| {
                let fill = width.saturating_sub(l.width());
                let mut l = l;
                l.push_span(Span::raw(" ".repeat(fill)));
                l.patch_style(app.theme.selection)
            };
            these = these.into_iter().map(pad).collect();
        }
        lines.extend(these);
    }
    (lines, starts)
}

pub fn draw_problems(frame: &mut Frame, app: &App, selected: usize) {
    let area = area(app);
    frame.render_widget(Clear, area);
    let key = |a| app.keymap.hint(View::Problems, a).unwrap_or_default();
    let files = app.diagnostics;
    let title = format!(
        " Problems · {} in {files} file{} ",
        app.problems.len(),
        if files == 1 { "" } else { "s" }
    );
    let hint = format!(
        " {} go to package · {} edit at line · {} reload · {} close ",
        key(Action::JumpToPackage),
        key(Action::OpenEditor),
        key(Action::ReloadCatalog),
        key(Action::CloseOverlay)
    );
    let body = inner(area);
    let block = block(app, true).title(title).title_bottom(hint);
    if app.problems.is_empty() {
        let text = Paragraph::new(Span::styled(
            "No problems: every package file loads.",
            app.theme.good,
        ));
        frame.render_widget(text.block(block), area);
        return;
    }
    let (lines, starts) = problem_lines(app, selected, body.width as usize);
    // Keep the selected diagnostic on screen, as near the top as the list allows.
    let height = body.height as usize;
    let first = starts.get(selected).copied().unwrap_or(0);
    let top = first.min(lines.len().saturating_sub(height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(top).unwrap_or(u16::MAX), 0)),
        area,
    );
}

/// The message history as lines wrapped to `width`, newest first.
fn history_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    for m in app.messages.newest_first() {
        let (level, style) = if m.error {
            ("error", t.bad)
        } else {
            ("info ", t.text)
        };
        out.push(Hanging::new(
            Line::from(vec![
                Span::styled(format!("{} ", clock(m.unix)), t.muted),
                Span::styled(format!("{level} "), style),
                Span::styled(m.text.clone(), t.text),
            ]),
            15,
        ));
    }
    if out.is_empty() {
        out.push(Hanging::new(Span::styled("No messages yet.", t.muted), 0));
    }
    wrap_all(out, width)
}

pub fn history_line_count(app: &App) -> usize {
    history_lines(app, inner(area(app)).width as usize).len()
}

pub fn draw_messages(frame: &mut Frame, app: &App, scroll: u16) {
    let area = area(app);
    frame.render_widget(Clear, area);
    let key = |a| app.keymap.hint(View::Messages, a).unwrap_or_default();
    let title = format!(
        " Messages · last {} of at most {} (UTC) ",
        app.messages.len(),
        crate::tui::messages::HISTORY
    );
    let hint = format!(
        " {}/{} scroll · {} close ",
        key(Action::MoveDown),
        key(Action::MoveUp),
        key(Action::CloseOverlay)
    );
    frame.render_widget(
        Paragraph::new(history_lines(app, inner(area).width as usize))
            .block(block(app, true).title(title).title_bottom(hint))
            .scroll((scroll, 0)),
        area,
    );
}
