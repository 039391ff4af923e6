//! The title bar (catalog and counts) and the status bar (filters and key hints).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::action::Action;
use crate::tui::app::{App, Mode, PackageStatus};
use crate::tui::keymap::View;

pub fn draw_title(frame: &mut Frame, app: &App, area: Rect) {
    let total = app.catalog.packages.len();
    let bar = app.theme.title_bar;
    let left = Line::from(vec![
        Span::styled(" atwb", bar.add_modifier(Modifier::BOLD)),
        Span::styled(format!(" · {} · {total} packages", app.catalog_label), bar),
    ]);
    let counts = app.status_counts();
    // Words when they fit, else glyphs and numbers only.
    let right = [false, true]
        .into_iter()
        .map(|compact| counts_line(app, &counts, compact, bar))
        .find(|l| left.width() + l.width() + 2 <= area.width as usize);
    frame.render_widget(Paragraph::new(left).style(bar), area);
    if let Some(right) = right {
        frame.render_widget(Paragraph::new(right), area);
    }
}

/// `⟳ 1 building  ✔ 3 ok  ✘ 1 failed  ◌ 2 never  ~ 0 stale`, or compact `⟳1 ✔3 ✘1 ◌2 ~0`.
fn counts_line(
    app: &App,
    counts: &[(PackageStatus, usize)],
    compact: bool,
    bar: Style,
) -> Line<'static> {
    let mut right: Vec<Span> = Vec::new();
    if !app.statuses_loaded {
        right.push(Span::styled("reading build status… ", bar));
    }
    for &(s, n) in counts {
        // Building and cancelled only while there are some; the others always, so the
        // totals read the same every time.
        if n == 0 && matches!(s, PackageStatus::Building | PackageStatus::Cancelled) {
            continue;
        }
        right.push(Span::styled(
            app.theme.glyphs.status(s),
            app.theme.on_title_bar(s),
        ));
        if compact {
            right.push(Span::styled(format!("{n} "), bar));
        } else {
            right.push(Span::styled(format!(" {n} {}  ", s.count_label()), bar));
        }
    }
    Line::from(right).right_aligned()
}

pub fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    if let Some(n) = &app.notice {
        let style = if n.error { t.notice_error } else { t.notice };
        let width = crate::tui::layout::notice_width(app);
        let mut lines = crate::tui::messages::status_lines(&n.text, width);
        if lines.len() > area.height as usize {
            // A screen too short to wrap: one line, cut, and the history keeps the rest.
            let one = lines.join(" ");
            lines = crate::tui::messages::status_lines(&one, width);
            lines.truncate(1);
            if lines[0].chars().count() < one.chars().count() {
                let keep: String = lines[0]
                    .chars()
                    .take(width.saturating_sub(crate::tui::messages::MORE.chars().count()))
                    .collect();
                lines[0] = format!("{}{}", keep.trim_end(), crate::tui::messages::MORE);
            }
        }
        let text: Vec<Line> = lines
            .into_iter()
            .map(|l| Line::from(format!(" {l}")))
            .collect();
        frame.render_widget(Paragraph::new(text).style(style), area);
        return;
    }
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
    if let Some((package, step)) = &app.hashing {
        let step = step.map_or_else(|| "starting".to_string(), |s| s.to_string());
        parts.push(format!("hashing {package}: {step}…"));
    }
    if let Some((targets, stage)) = &app.cache_check {
        let stage = stage
            .as_ref()
            .map_or_else(|| format!("{targets} target(s)"), ToString::to_string);
        parts.push(format!("caches: {stage}…"));
    }
    let mut left = vec![Span::raw(parts.join(" · "))];
    if app.diagnostics > 0 {
        left.push(Span::raw(" · "));
        let how = app
            .keymap
            .hint(View::Main, Action::Problems)
            .map_or_else(|| "atwb check".to_owned(), |k| format!("{k} problems"));
        left.push(Span::styled(
            format!("{} {} invalid ({how})", t.glyphs.warning, app.diagnostics),
            t.invalid,
        ));
    }
    let mut hints = hints(app);
    let bar = t.status_bar;
    let left = Line::from(left);
    let left_width = left.width();
    frame.render_widget(Paragraph::new(left).style(bar), area);
    let width_of = |h: &[(String, &str)]| -> usize {
        h.iter()
            .map(|(k, l)| k.chars().count() + l.chars().count() + 3)
            .sum()
    };
    // Too narrow for every hint: drop the middle ones first (the first and the last, usually
    // help and quit, stay longest).
    while hints.len() > 2 && left_width + width_of(&hints) + 2 > area.width as usize {
        hints.remove(hints.len() / 2);
    }
    let hints_width = width_of(&hints);
    if left_width + hints_width + 2 <= area.width as usize {
        let key = t.key_hint;
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
        (View::Log, _) => &[
            (Action::ToggleFollow, "follow"),
            (Action::Search, "search"),
            (Action::FirstError, "error"),
            (Action::ToggleWrap, "wrap"),
            (Action::CycleDrv, "drv"),
            (Action::SaveLog, "save"),
            (Action::CloseOverlay, "close"),
        ],
        (View::Jobs, _) => &[
            (Action::OpenLog, "log"),
            (Action::CancelJob, "cancel"),
            (Action::RerunJob, "re-run"),
            (Action::RerunFailed, "re-run failed"),
            (Action::BuildAll, "build all"),
            (Action::CloseOverlay, "close"),
        ],
        (View::Confirm, _) => &[(Action::Confirm, "yes"), (Action::CloseOverlay, "no")],
        (View::Problems, _) => &[
            (Action::JumpToPackage, "go to package"),
            (Action::OpenEditor, "edit"),
            (Action::ReloadCatalog, "reload"),
            (Action::CloseOverlay, "close"),
        ],
        (View::Messages, _) => &[(Action::CloseOverlay, "close")],
        (View::Search, _) if !app.overlays.is_empty() => &[
            (Action::SearchConfirm, "ok"),
            (Action::SearchCancel, "cancel"),
        ],
        (_, Mode::Search) => &[
            (Action::SearchConfirm, "keep filter"),
            (Action::SearchCancel, "clear"),
        ],
        _ => &[
            (Action::Build, "build"),
            (Action::OpenLog, "log"),
            (Action::Jobs, "jobs"),
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
