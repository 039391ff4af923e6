//! The jobs view (`J`): every job of this session, running first, with progress, phase or
//! result, elapsed time and the estimate from history.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::jobs::Outcome;
use crate::tui::app::{App, PackageStatus};
use crate::tui::jobs::JobPhase;
use crate::tui::layout::{areas, inner};

use super::block;
use super::jobs_strip::{progress_spans, time_text};

pub fn draw(frame: &mut Frame, app: &App, selected: usize) {
    let area = areas(app).body;
    frame.render_widget(Clear, area);
    let all = app.jobs.ordered();
    let jobs = app.jobs.listed();
    let running = jobs.iter().filter(|j| j.is_running()).count();
    let queued = jobs
        .iter()
        .filter(|j| matches!(j.phase, JobPhase::Queued))
        .count();
    let failed = all.iter().filter(|j| j.failed()).count();
    let hidden = if app.jobs.hide_finished {
        ", hidden"
    } else {
        ""
    };
    let title = format!(
        " Jobs · {running} running · {queued} queued · {} finished ({failed} failed{hidden}) ",
        all.len() - running - queued
    );
    let t = &app.theme;
    frame.render_widget(block(app, true).title(title), area);
    let list = inner(area);
    if jobs.is_empty() {
        let text = if all.is_empty() {
            "No jobs yet. b builds the selected package, B everything shown, a (here) the whole catalog."
        } else {
            "Every job has finished and finished jobs are hidden: H shows them, X clears them."
        };
        frame.render_widget(Paragraph::new(text).style(t.muted), list);
        return;
    }
    let selected = selected.min(jobs.len() - 1);
    // The selected job's detail pane, under the list when there is room for both.
    let list = match super::jobs_detail::split(list, &jobs) {
        Some((list, pane)) => {
            super::jobs_detail::draw(frame, t, pane, jobs[selected]);
            list
        }
        None => list,
    };
    let height = list.height as usize;
    let offset = selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = jobs
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, j)| {
            let (glyph, style) = match &j.phase {
                JobPhase::Queued => (t.glyphs.queued, t.muted),
                phase => {
                    let s = match phase {
                        JobPhase::Finished {
                            outcome: Outcome::Ok,
                            ..
                        } => PackageStatus::Ok,
                        JobPhase::Finished {
                            outcome: Outcome::Cancelled,
                            ..
                        } => PackageStatus::Cancelled,
                        JobPhase::Finished { .. } => PackageStatus::Failed,
                        _ => PackageStatus::Building,
                    };
                    (t.glyphs.status(s), t.status(s))
                }
            };
            let title = t.glyphs.truncate(&j.title(), 24);
            let mut spans = vec![
                Span::styled(format!(" {glyph} "), style),
                Span::styled(format!("{:<5}", j.id.to_string()), t.muted),
                Span::styled(format!("{title:<24} "), t.heading),
            ];
            spans.extend(progress_spans(app, j, 16));
            spans.push(Span::styled(format!("  {:<28}", j.state_text()), style));
            spans.push(Span::styled(time_text(app, j), t.muted));
            let mut line = Line::from(spans);
            if i == selected {
                let pad = (list.width as usize).saturating_sub(line.width());
                line.push_span(Span::raw(" ".repeat(pad)));
                line = line.patch_style(t.selection);
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}
