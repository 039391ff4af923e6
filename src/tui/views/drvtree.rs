//! The derivation tree pane: one row per derivation (running first, then failed, waiting,
//! planned; done ones as one count) and nom's footer. Draws a [`TreeSnapshot`] the jobs layer
//! folded; reads nothing else.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::nix::drvtree::{NodeState, Row, Totals, TreeSnapshot, format_bytes, format_duration};
use crate::tui::action::LogSource;
use crate::tui::app::App;
use crate::tui::logview::LogView;
use crate::tui::theme::Theme;

fn mark(theme: &Theme, s: NodeState) -> &'static str {
    let i = match s {
        NodeState::Building => 0,
        NodeState::Downloading => 1,
        NodeState::Failed => 2,
        NodeState::Waiting => 3,
        NodeState::Planned => 4,
        NodeState::Cancelled => 5,
        NodeState::Done => 6,
    };
    theme.glyphs.drv[i]
}

fn style(theme: &Theme, s: NodeState) -> ratatui::style::Style {
    match s {
        NodeState::Building | NodeState::Downloading => theme.status_running,
        NodeState::Failed => theme.status_failed,
        NodeState::Done => theme.status_ok,
        _ => theme.muted,
    }
}

/// `name  phase  1m02s/~2m10s  host  3.4 MiB/9.0 MiB`, cut to `width`.
fn row_line<'a>(theme: &Theme, r: &'a Row, width: usize) -> Line<'a> {
    let mut rest = vec![];
    if let Some(p) = &r.phase {
        rest.push(p.clone());
    }
    let time = match (r.elapsed_ms, r.estimate_ms) {
        (Some(e), Some(est)) => Some(format!("{}/~{}", format_duration(e), format_duration(est))),
        (Some(e), None) => Some(format_duration(e)),
        (None, Some(est)) => Some(format!("~{}", format_duration(est))),
        (None, None) => None,
    };
    rest.extend(time);
    if let Some(h) = &r.host {
        rest.push(format!("@{h}"));
    }
    if r.expected_bytes > 0 || r.done_bytes > 0 {
        rest.push(format!(
            "{}/{}",
            format_bytes(r.done_bytes),
            format_bytes(r.expected_bytes)
        ));
    }
    let text = format!("{}  {}", r.name, rest.join("  "));
    let text = theme
        .glyphs
        .truncate(text.trim_end(), width.saturating_sub(2));
    Line::from(vec![
        Span::styled(mark(theme, r.state), style(theme, r.state)),
        Span::raw(" "),
        Span::raw(text),
    ])
}

/// The footer: `⏵ 2 building  ✔ 3/8 built  ✘ 1  ⏸ 4 planned  ↓ 1/2 · 3.4 MiB  12s · ~2m left`
/// (the time left from the estimates of the derivations that have one).
fn footer(theme: &Theme, t: &Totals) -> String {
    let g = &theme.glyphs.drv;
    let built_of = t.builds_done + t.builds_running + t.builds_failed + t.builds_planned;
    let mut s = format!(
        "{} {} building  {} {}/{} built  {} {}  {} {} planned",
        g[0],
        t.builds_running,
        g[6],
        t.builds_done,
        built_of,
        g[2],
        t.builds_failed,
        g[4],
        t.builds_planned
    );
    if t.downloads_done + t.downloads_running > 0 {
        s.push_str(&format!(
            "  {} {}/{} {}",
            g[1],
            t.downloads_done,
            t.downloads_done + t.downloads_running,
            format_bytes(t.bytes_done)
        ));
    }
    s.push_str(&format!("  {}", format_duration(t.elapsed_ms)));
    if let Some(left) = t.estimate_left_ms {
        s.push_str(&format!(" · ~{} left", format_duration(left)));
    }
    s
}

/// Rows of the log view given to the tree pane when it is on (`T`), at most.
const PANE_ROWS: u16 = 14;

/// The log view's text area split for the tree pane when it is on and the job sent a tree:
/// the lines above, the tree below (half the height at most).
pub fn split_for_pane<'a>(
    app: &'a App,
    v: &LogView,
    text: Rect,
) -> (Rect, Option<(Rect, &'a TreeSnapshot)>) {
    let tree = match v.source {
        LogSource::Job { id, .. } if v.show_tree => {
            app.jobs.jobs.get(&id).and_then(|j| j.tree.as_deref())
        }
        _ => None,
    };
    let Some(tree) = tree else {
        return (text, None);
    };
    let h = PANE_ROWS.min(text.height / 2);
    let lines = Rect {
        height: text.height - h,
        ..text
    };
    let pane = Rect {
        y: text.y + lines.height,
        height: h,
        ..text
    };
    (lines, Some((pane, tree)))
}

/// Draw the tree into `area` (no border: the caller frames it).
pub fn draw(frame: &mut Frame, theme: &Theme, area: Rect, tree: &TreeSnapshot) {
    if area.height == 0 {
        return;
    }
    let width = area.width as usize;
    let body = area.height as usize - 1;
    let mut lines: Vec<Line> = Vec::with_capacity(body + 1);
    let shown = tree.rows.rows.len().min(body.saturating_sub(1));
    let cut = tree.rows.rows.len() - shown + tree.rows.hidden;
    lines.extend(
        tree.rows.rows[..shown]
            .iter()
            .map(|r| row_line(theme, r, width)),
    );
    let mut summary = vec![];
    if tree.rows.done > 0 {
        summary.push(format!("{} {} done", theme.glyphs.drv[6], tree.rows.done));
    }
    if cut > 0 {
        summary.push(format!("+{cut} more"));
    }
    if !summary.is_empty() && lines.len() < body {
        lines.push(Line::styled(summary.join("  "), theme.muted));
    }
    while lines.len() < body {
        lines.push(Line::raw(""));
    }
    lines.push(Line::raw(
        theme.glyphs.truncate(&footer(theme, &tree.totals), width),
    ));
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::drvtree::DrvTree;
    use crate::nix::internal_json::parse_line;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn snapshot_of(log: &str, cut_before: Option<&str>, theme: &Theme) -> String {
        let path = format!("{}/tests/fixtures/logs/{log}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let mut t = DrvTree::new();
        t.set_history("tree-a", &[61_000, 59_000, 75_000]);
        for (i, line) in text.lines().enumerate() {
            if cut_before.is_some_and(|c| line.contains(c)) {
                break;
            }
            t.apply(&parse_line(line), i as u64 * 250);
        }
        let now = 30_000;
        let snap = t.snapshot(20, now);
        let mut term = Terminal::new(TestBackend::new(64, 9)).unwrap();
        term.draw(|f| draw(f, theme, f.area(), &snap)).unwrap();
        crate::tui::views::buffer_text(term.backend().buffer())
    }

    #[test]
    fn pane_mid_build_shows_running_first_with_estimates() {
        let theme = Theme::coloured();
        insta::assert_snapshot!(snapshot_of(
            "tree-keep-going.log",
            Some("c is broken"),
            &theme
        ));
    }

    #[test]
    fn pane_after_keep_going_failure_ascii() {
        let mut theme = Theme::monochrome();
        theme.glyphs = crate::tui::theme::GlyphSet::ASCII;
        insta::assert_snapshot!(snapshot_of("tree-keep-going.log", None, &theme));
    }
}
