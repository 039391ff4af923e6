//! The jobs view's detail pane: the selected job's nix process (command line, start, end, exit
//! status, derivation, log path) and, in the rows left, its derivation tree (the log view's
//! tree pane widget; a finished job's last tree stays as long as the job is listed).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::time::civil_from_days;
use crate::tui::jobs::{JobPhase, JobView};
use crate::tui::theme::Theme;

/// Rows the facts take under the list (a rule and six fields).
pub const HEIGHT: u16 = 7;
/// Fewest rows worth giving the tree (a rule, a row, the footer).
const MIN_TREE: u16 = 3;
/// Rows of tree the pane takes at most (more would only show more planned rows).
const TREE_MAX: u16 = 40;

/// The jobs list and the pane under it, when there is room for both (None: the list only).
/// When a listed job has a tree, the list gets as many rows as it has jobs, up to half of
/// what the facts leave (more on a tall screen, where the tree would pass [`TREE_MAX`] rows
/// beyond that half), and the pane the rest; otherwise the pane is the facts only. Decided
/// by the listed jobs, not the selected one, so moving the selection does not move the split.
pub fn split(area: Rect, jobs: &[&JobView]) -> Option<(Rect, Rect)> {
    if area.height < 2 * HEIGHT {
        return None;
    }
    let room = area.height - HEIGHT;
    let wanted = u16::try_from(jobs.len()).unwrap_or(u16::MAX);
    let list_h = if jobs.iter().any(|j| j.tree.is_some()) && room / 2 >= MIN_TREE {
        wanted
            .clamp(1, room / 2)
            .max(room.saturating_sub(room / 2 + TREE_MAX))
    } else {
        room
    };
    let list = Rect {
        height: list_h,
        ..area
    };
    let pane = Rect {
        y: area.y + list_h,
        height: area.height - list_h,
        ..area
    };
    Some((list, pane))
}

/// The facts, then the tree (or why there is none) in the rows left.
pub fn draw(frame: &mut Frame, t: &Theme, area: Rect, job: &JobView) {
    let facts = Rect {
        height: HEIGHT.min(area.height),
        ..area
    };
    frame.render_widget(Paragraph::new(lines(t, job)), facts);
    if area.height < HEIGHT + MIN_TREE {
        return;
    }
    let rule = Rect {
        y: area.y + HEIGHT,
        height: 1,
        ..area
    };
    let tree_area = Rect {
        y: rule.y + 1,
        height: area.height - HEIGHT - 1,
        ..area
    };
    frame.render_widget(
        Paragraph::new(Line::styled(" ── derivations ", t.muted)),
        rule,
    );
    if let Some(tree) = job.tree.as_deref() {
        let inset = Rect {
            x: tree_area.x + 1,
            width: tree_area.width.saturating_sub(1),
            ..tree_area
        };
        super::drvtree::draw(frame, t, inset, tree);
    } else {
        let why = match job.phase {
            JobPhase::Queued => " not started yet",
            _ => " nix named no derivation (an evaluation, or nothing to build)",
        };
        frame.render_widget(Paragraph::new(Line::styled(why, t.muted)), tree_area);
    }
}

pub fn lines(t: &Theme, j: &JobView) -> Vec<Line<'static>> {
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!(" {name:<9}"), t.muted),
            Span::styled(value, t.text),
        ])
    };
    let d = &j.details;
    let unknown = || "-".to_string();
    let exit = match (&j.phase, d.exit_code) {
        (JobPhase::Finished { outcome, .. }, Some(c)) => format!("{c} ({})", outcome.as_str()),
        (JobPhase::Finished { outcome, .. }, None) => format!("none ({})", outcome.as_str()),
        _ => "running".to_string(),
    };
    let end = match &j.phase {
        JobPhase::Finished { .. } => d.ended_at.map_or_else(unknown, clock),
        _ => unknown(),
    };
    vec![
        Line::from(Span::styled(format!(" ── job {} ", j.id), t.muted)),
        field("command", d.command.clone().unwrap_or_else(unknown)),
        field("start", d.started_at.map_or_else(unknown, clock)),
        field("end", end),
        field("exit", exit),
        field("drv", d.drv_path.clone().unwrap_or_else(unknown)),
        field(
            "log",
            j.log_file
                .as_ref()
                .map_or_else(unknown, |p| p.display().to_string()),
        ),
    ]
}

/// `2026-12-01 14:03:09 UTC` from Unix seconds.
fn clock(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_is_utc() {
        assert_eq!(super::clock(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::clock(1_796_134_989), "2026-12-01 14:23:09 UTC");
    }
}

#[cfg(test)]
#[path = "jobs_detail_tests.rs"]
mod app_tests;
