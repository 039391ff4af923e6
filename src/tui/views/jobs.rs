//! The jobs view (`J`): every job of this session, running first, with progress, phase or
//! result, elapsed time and the estimate from history.

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::jobs::Outcome;
use crate::tui::app::App;
use crate::tui::jobs::JobPhase;
use crate::tui::layout::{areas, inner};

use super::jobs_strip::{progress_spans, time_text};
use super::pane_border;

pub fn draw(frame: &mut Frame, app: &App, selected: usize) {
    let area = areas(app).body;
    frame.render_widget(Clear, area);
    let jobs = app.jobs.ordered();
    let running = jobs.iter().filter(|j| j.is_running()).count();
    let queued = jobs
        .iter()
        .filter(|j| matches!(j.phase, JobPhase::Queued))
        .count();
    let failed = jobs.iter().filter(|j| j.failed()).count();
    let title = format!(
        " Jobs · {running} running · {queued} queued · {} finished ({failed} failed) ",
        jobs.len() - running - queued
    );
    frame.render_widget(
        Block::bordered()
            .title(title)
            .border_style(pane_border(true)),
        area,
    );
    let list = inner(area);
    if jobs.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "No jobs yet. b builds the selected package, B everything shown, a (here) the whole catalog.",
            )
            .style(Style::new().fg(Color::DarkGray)),
            list,
        );
        return;
    }
    let height = list.height as usize;
    let selected = selected.min(jobs.len() - 1);
    let offset = selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = jobs
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, j)| {
            let (glyph, colour) = match &j.phase {
                JobPhase::Running { .. } => ("⟳", Color::Yellow),
                JobPhase::Queued => ("…", Color::DarkGray),
                JobPhase::Finished { outcome, .. } => match outcome {
                    Outcome::Ok => ("✔", Color::Green),
                    Outcome::Cancelled => ("⊘", Color::Magenta),
                    _ => ("✘", Color::Red),
                },
            };
            let mut title = j.title();
            if title.chars().count() > 24 {
                title = title.chars().take(23).collect::<String>() + "…";
            }
            let mut spans = vec![
                Span::styled(format!(" {glyph} "), Style::new().fg(colour)),
                Span::styled(
                    format!("{:<5}", j.id.to_string()),
                    Style::new().fg(Color::DarkGray),
                ),
                Span::styled(
                    format!("{title:<24} "),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
            ];
            spans.extend(progress_spans(app, j, 16));
            spans.push(Span::styled(
                format!("  {:<28}", j.state_text()),
                Style::new().fg(colour),
            ));
            spans.push(Span::styled(
                time_text(app, j),
                Style::new().fg(Color::DarkGray),
            ));
            let mut line = Line::from(spans);
            if i == selected {
                let pad = (list.width as usize).saturating_sub(line.width());
                line.push_span(Span::raw(" ".repeat(pad)));
                line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}
