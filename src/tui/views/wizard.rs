//! The new-package wizard: the source prompt, detection's progress, the proposals to accept or
//! change, and what went wrong.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::block;
use crate::tui::app::App;
use crate::tui::layout::centered;
use crate::tui::wizard::{Step, Wizard};

pub fn draw(frame: &mut Frame, app: &App, w: &Wizard) {
    let t = &app.theme;
    let full = frame.area();
    let mut lines: Vec<Line> = Vec::new();
    let keys = |s: &'static str| Line::from(Span::styled(s, t.muted));
    let title = match &w.step {
        Step::Source { text } => {
            lines.push(Line::from("Repository path or git URL:"));
            lines.push(Line::from(vec![
                Span::raw(text.clone()),
                Span::styled(t.glyphs.cursor, t.cursor),
            ]));
            lines.push(Line::default());
            lines.push(keys("enter detect · esc cancel"));
            " New package "
        }
        Step::Detecting {
            source,
            step,
            started,
        } => {
            let secs = app.now.saturating_duration_since(*started).as_secs();
            let spin = t.glyphs.spinner[(secs % 4) as usize];
            lines.push(Line::from(format!("Detecting {source}")));
            lines.push(Line::from(vec![
                Span::styled(format!("{spin} "), t.status_running),
                Span::raw(format!("{step} ({secs}s)")),
            ]));
            lines.push(Line::default());
            lines.push(keys("esc abandon"));
            " New package: detecting "
        }
        Step::Writing { .. } => {
            lines.push(Line::from("Writing and checking package.toml..."));
            " New package: writing "
        }
        Step::Failed { message, .. } => {
            for l in message.lines() {
                lines.push(Line::from(Span::styled(l.to_string(), t.bad)));
            }
            lines.push(Line::default());
            lines.push(keys("enter try again · esc close"));
            " New package: nothing written "
        }
        Step::Review { .. } => {
            review(app, w, full.height, &mut lines);
            " New package: review "
        }
    };
    let width = 100.min(full.width);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = (text.line_count(width.saturating_sub(2)) as u16 + 2).min(full.height);
    let area = centered(full, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        text.block(block(app, true).title(title).border_style(t.dialog_border)),
        area,
    );
}

fn review(app: &App, w: &Wizard, screen_height: u16, lines: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    let keys = |s: &'static str| Line::from(Span::styled(s, t.muted));
    let Step::Review {
        proposal,
        selected,
        editing,
        error,
    } = &w.step
    else {
        return;
    };
    let s = &proposal.source;
    lines.push(Line::from(format!(
        "{} {} ({})",
        s.version,
        &s.rev[..12],
        s.rev_reason
    )));
    lines.push(Line::from(Span::styled(
        format!("hash {}", s.hash),
        t.muted,
    )));
    let fields = proposal.fields();
    let height = screen_height.saturating_sub(10) as usize;
    let first = selected.saturating_sub(height.saturating_sub(1));
    for (i, f) in fields.iter().enumerate().skip(first).take(height) {
        let value = match (i == *selected, editing) {
            (true, Some(text)) => format!("{text}{}", t.glyphs.cursor),
            _ => f.value.clone(),
        };
        let style = if i == *selected { t.selection } else { t.text };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<26} {value}", f.label), style),
            Span::styled(format!("  {}", f.why), t.muted),
        ]));
    }
    for part in proposal.included() {
        lines.push(Line::from(Span::styled(
            format!(
                "{}: deps_hash {} ({})",
                part.name, part.deps_hash, part.deps_reason
            ),
            t.muted,
        )));
    }
    if let Some(e) = error {
        lines.push(Line::from(Span::styled(e.clone(), t.bad)));
    }
    lines.push(Line::default());
    lines.push(keys(if editing.is_some() {
        "enter accept the change · esc keep the proposal"
    } else {
        "j/k move · enter change · w write · esc cancel"
    }));
}
