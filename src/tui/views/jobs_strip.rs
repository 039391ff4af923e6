//! The jobs strip above the status bar: one line per running or queued job (at most 3, then
//! "+N more"), with a progress bar, the builder's phase, elapsed time and the estimate.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::jobs::{JobPhase, JobView, short_duration};

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let active: Vec<&JobView> = app
        .jobs
        .ordered()
        .into_iter()
        .filter(|j| j.is_active())
        .collect();
    let rows = area.height as usize;
    let mut lines: Vec<Line> = active
        .iter()
        .take(rows)
        .map(|j| job_line(app, j, area.width as usize))
        .collect();
    if active.len() > rows
        && let Some(last) = lines.last_mut()
    {
        last.push_span(Span::styled(
            format!("  +{} more (J)", active.len() - rows + 1),
            Style::new().fg(Color::Yellow),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).style(Style::new().bg(Color::Black)),
        area,
    );
}

/// `⠙ demo #3  [████░░░░] 1/2  buildPhase  4.1s / ~6s`
pub fn job_line(app: &App, j: &JobView, width: usize) -> Line<'static> {
    let elapsed = j.elapsed(app.now);
    let glyph = match (&j.phase, elapsed) {
        (JobPhase::Running { .. }, Some(e)) => SPINNER[(e.as_millis() / 250 % 4) as usize],
        (JobPhase::Queued, _) => "…",
        _ => " ",
    };
    let name_w = 22.min(width / 4).max(8);
    let mut title = j.title();
    if title.chars().count() > name_w {
        title = title.chars().take(name_w - 1).collect::<String>() + "…";
    }
    let mut spans = vec![
        Span::styled(format!(" {glyph} "), Style::new().fg(Color::Yellow)),
        Span::styled(
            format!("{title:<name_w$}"),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(" {:<4}", j.id.to_string()),
            Style::new().fg(Color::DarkGray),
        ),
    ];
    spans.extend(progress_spans(app, j, 12));
    spans.push(Span::styled(
        format!("  {:<14}", j.state_text()),
        Style::new().fg(Color::Cyan),
    ));
    spans.push(Span::styled(
        time_text(app, j),
        Style::new().fg(Color::DarkGray),
    ));
    Line::from(spans)
}

/// `4.1s / ~6s`, `queued · ~6s`.
pub fn time_text(app: &App, j: &JobView) -> String {
    let est = j
        .estimate
        .map(|e| format!("~{}", short_duration(e)))
        .unwrap_or_else(|| "no estimate".into());
    match j.elapsed(app.now) {
        Some(e) if j.is_active() => format!("{} / {est}", short_duration(e)),
        Some(e) => short_duration(e),
        None => format!("queued · {est}"),
    }
}

/// `[████░░░░] 1/2`: derivations done of expected; before nix knows how many, the elapsed share
/// of the estimate (shown hollow).
pub fn progress_spans(app: &App, j: &JobView, width: usize) -> Vec<Span<'static>> {
    let p = j.progress;
    let finished_ok = matches!(
        j.phase,
        JobPhase::Finished {
            outcome: crate::jobs::Outcome::Ok,
            ..
        }
    );
    let (ratio, text, known) = if p.expected > 0 {
        (
            p.done as f64 / p.expected as f64,
            format!(" {}/{}", p.done, p.expected),
            true,
        )
    } else if !j.is_active() {
        (if finished_ok { 1.0 } else { 0.0 }, " -/-".to_owned(), true)
    } else {
        let r = match (j.elapsed(app.now), j.estimate) {
            (Some(e), Some(est)) if !est.is_zero() => {
                (e.as_secs_f64() / est.as_secs_f64()).min(0.99)
            }
            _ => 0.0,
        };
        (r, " -/-".to_owned(), false)
    };
    let filled = ((ratio.clamp(0.0, 1.0)) * width as f64).round() as usize;
    let bar_char = if known { "█" } else { "▒" };
    let colour = if p.failed > 0 {
        Color::Red
    } else {
        Color::Green
    };
    vec![
        Span::raw("["),
        Span::styled(bar_char.repeat(filled), Style::new().fg(colour)),
        Span::styled(
            "░".repeat(width - filled.min(width)),
            Style::new().fg(Color::DarkGray),
        ),
        Span::raw("]"),
        Span::raw(text),
    ]
}
