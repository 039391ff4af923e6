//! The log view: a header with the job, its error class and (for a hash mismatch) the `got:`
//! hash, then the log lines with their ANSI colours, search matches highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::jobs::logpage::LogLine;
use crate::tui::app::App;
use crate::tui::layout::{LOG_HEADER, areas, inner};
use crate::tui::logview::LogView;

use super::pane_border;

pub fn draw(frame: &mut Frame, app: &App, v: &LogView) {
    let area = areas(app).body;
    frame.render_widget(Clear, area);
    let mut flags = Vec::new();
    if v.live {
        flags.push("live");
        flags.push(if v.follow { "follow" } else { "paused" });
    }
    if v.wrap {
        flags.push("wrap");
    }
    let title = if flags.is_empty() {
        format!(" {} ", v.title)
    } else {
        format!(" {} · {} ", v.title, flags.join(" · "))
    };
    frame.render_widget(
        Block::bordered()
            .title(title)
            .border_style(pane_border(true)),
        area,
    );
    let inside = inner(area);
    let header = Rect {
        height: LOG_HEADER.min(inside.height),
        ..inside
    };
    let text = Rect {
        y: inside.y + header.height,
        height: inside.height - header.height,
        ..inside
    };
    frame.render_widget(Paragraph::new(header_lines(v)), header);
    draw_lines(frame, v, text);
}

fn header_lines(v: &LogView) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let mut first = Vec::new();
    match &v.failure {
        Some(f) => {
            first.push(Span::styled(
                format!("✘ {}", f.class.replace('_', " ")),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
            first.push(Span::styled(
                format!("  {}", f.first_line),
                Style::new().fg(Color::Red),
            ));
        }
        None if v.live => first.push(Span::styled("⟳ running", Style::new().fg(Color::Yellow))),
        None if v.loading => first.push(Span::styled("loading…", dim)),
        None => first.push(match v.outcome {
            Some(o) => Span::styled(
                format!(
                    "{} {}",
                    if o == crate::jobs::Outcome::Ok {
                        "✔"
                    } else {
                        "⊘"
                    },
                    o.as_str()
                ),
                Style::new().fg(if o == crate::jobs::Outcome::Ok {
                    Color::Green
                } else {
                    Color::Magenta
                }),
            ),
            None => Span::styled(
                "no failure found in this log",
                Style::new().fg(Color::Green),
            ),
        }),
    }
    let shown = v.visible().len();
    let mut counts = format!("  · {} lines", v.total);
    if v.first > 0 {
        counts.push_str(&format!(" ({} older on disk)", v.first));
    }
    if let Some(d) = &v.drv_filter {
        counts.push_str(&format!(
            " · drv {} ({shown})",
            crate::nix::state::drv_name(d)
        ));
    }
    first.push(Span::styled(counts, dim));

    let second = if let Some(typed) = &v.typing {
        vec![
            Span::styled(
                "/",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(typed.clone()),
            Span::styled("▏", Style::new().fg(Color::Yellow)),
        ]
    } else if let Some(got) = v.got_hash() {
        vec![
            Span::styled("got: ", dim),
            Span::styled(
                got.to_owned(),
                Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                "   f writes it into package.toml",
                Style::new().fg(Color::Yellow),
            ),
        ]
    } else if let Some(m) = &v.message {
        vec![Span::styled(m.clone(), Style::new().fg(Color::Yellow))]
    } else if let Some(q) = &v.query {
        vec![Span::styled(
            format!("search {q:?} · n next · N previous"),
            dim,
        )]
    } else {
        vec![]
    };
    let mut lines = vec![Line::from(first), Line::from(second)];
    if let (Some(m), true) = (&v.message, v.got_hash().is_some() || v.typing.is_some()) {
        // The message would be hidden by the hash line: it takes the first line instead.
        lines[0] = Line::from(Span::styled(m.clone(), Style::new().fg(Color::Yellow)));
    }
    lines
}

fn draw_lines(frame: &mut Frame, v: &LogView, area: Rect) {
    let height = area.height as usize;
    if height == 0 {
        return;
    }
    let visible = v.visible();
    if visible.is_empty() {
        let msg = if v.loading { "loading…" } else { "no lines" };
        frame.render_widget(
            Paragraph::new(msg).style(Style::new().fg(Color::DarkGray)),
            area,
        );
        return;
    }
    let gutter = 7usize;
    let width = (area.width as usize).saturating_sub(gutter).max(1);
    let top = if v.wrap && v.follow {
        // From the bottom: as many lines as fit once wrapped.
        let mut used = 0;
        let mut start = visible.len();
        while start > 0 {
            let h = v.lines[visible[start - 1]]
                .plain()
                .chars()
                .count()
                .div_ceil(width)
                .max(1);
            if used + h > height {
                break;
            }
            used += h;
            start -= 1;
        }
        start
    } else {
        v.top_for(visible.len(), height)
    };
    let lines: Vec<Line> = visible[top..]
        .iter()
        .take(height)
        .map(|&i| line(v, i, &v.lines[i]))
        .collect();
    let mut p = Paragraph::new(lines);
    if v.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    frame.render_widget(p, area);
}

fn line(v: &LogView, index: usize, l: &LogLine) -> Line<'static> {
    let number = Span::styled(
        format!("{:>6} ", v.first + index as u64 + 1),
        Style::new().fg(Color::DarkGray),
    );
    let current = v.current == Some(index);
    let mut spans = vec![number];
    match v.query.as_deref().filter(|q| !q.is_empty()) {
        Some(q) if l.plain().to_lowercase().contains(&q.to_lowercase()) => {
            spans.extend(highlight(&l.plain(), q, current));
        }
        _ => spans.extend(crate::tui::ansi::spans(&l.text, Style::new())),
    }
    Line::from(spans)
}

/// The plain text with every case-insensitive occurrence of `q` in the match style (the current
/// match also reversed).
fn highlight(text: &str, q: &str, current: bool) -> Vec<Span<'static>> {
    let mut hl = super::match_style();
    if current {
        hl = hl.add_modifier(Modifier::REVERSED);
    }
    let lower = text.to_lowercase();
    let ql = q.to_lowercase();
    // Byte offsets agree only when lowercasing keeps lengths (ASCII); otherwise mark the line.
    if lower.len() != text.len() {
        return vec![Span::styled(text.to_owned(), hl)];
    }
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(&ql) {
        let start = pos + found;
        let end = start + ql.len();
        if start > pos {
            out.push(Span::raw(text[pos..start].to_owned()));
        }
        out.push(Span::styled(text[start..end].to_owned(), hl));
        pos = end;
    }
    if pos < text.len() {
        out.push(Span::raw(text[pos..].to_owned()));
    }
    out
}
