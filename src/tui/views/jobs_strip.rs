//! The jobs strip above the status bar: one line per running or queued job (at most 3, then
//! "+N more"), with a progress bar, the builder's phase, elapsed time and the estimate.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::jobs::{JobPhase, JobView, short_duration};

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
            app.theme.warning,
        ));
    }
    frame.render_widget(Paragraph::new(lines).style(app.theme.jobs_strip), area);
}

/// `⠙ demo #3  [████░░░░] 1/2  buildPhase  4.1s / ~6s`
pub fn job_line(app: &App, j: &JobView, width: usize) -> Line<'static> {
    let t = &app.theme;
    let elapsed = j.elapsed(app.now);
    let glyph = match (&j.phase, elapsed) {
        (JobPhase::Running { .. }, Some(e)) => t.glyphs.spinner[(e.as_millis() / 250 % 4) as usize],
        (JobPhase::Queued, _) => t.glyphs.queued,
        _ => " ",
    };
    let name_w = 22.min(width / 4).max(8);
    let title = t.glyphs.truncate(&j.title(), name_w);
    let mut spans = vec![
        Span::styled(format!(" {glyph} "), t.status_running),
        Span::styled(format!("{title:<name_w$}"), t.heading),
        Span::styled(format!(" {:<4}", j.id.to_string()), t.muted),
    ];
    spans.extend(progress_spans(app, j, 12));
    spans.push(Span::styled(
        format!("  {:<14}", j.state_text()),
        t.job_phase,
    ));
    spans.push(Span::styled(time_text(app, j), t.muted));
    Line::from(spans)
}

/// `4.1s / ~6s`, `queued · ~6s`.
pub fn time_text(app: &App, j: &JobView) -> String {
    let est = j.estimate.map_or_else(
        || "no estimate".into(),
        |e| format!("~{}", short_duration(e)),
    );
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
    let t = &app.theme;
    let filled = ((ratio.clamp(0.0, 1.0)) * width as f64).round() as usize;
    let bar_char = if known {
        t.glyphs.bar_done
    } else {
        t.glyphs.bar_estimate
    };
    let done = if p.failed > 0 {
        t.progress_failed
    } else {
        t.progress
    };
    vec![
        Span::raw("["),
        Span::styled(bar_char.repeat(filled), done),
        Span::styled(
            t.glyphs.bar_empty.repeat(width - filled.min(width)),
            t.progress_empty,
        ),
        Span::raw("]"),
        Span::raw(text),
    ]
}
