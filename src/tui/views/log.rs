//! The log view: a header with the job, its error class and (for a hash mismatch) the `got:`
//! hash, or the class's hint; then the log lines with their ANSI colours, matches highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::jobs::Outcome;
use crate::jobs::logpage::LogLine;
use crate::tui::app::{App, PackageStatus};
use crate::tui::layout::{LOG_HEADER, areas, inner};
use crate::tui::logview::LogView;
use crate::tui::theme::Theme;

use super::block;
use super::wrap::{leading_spaces, wrap};

/// Columns of the line numbers (and the space after them).
const GUTTER: usize = 7;

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
    frame.render_widget(block(app, true).title(title), area);
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
    frame.render_widget(Paragraph::new(header_lines(&app.theme, v)), header);
    let (text, pane) = super::drvtree::split_for_pane(app, v, text);
    draw_lines(frame, &app.theme, v, text);
    if let Some((area, tree)) = pane {
        super::drvtree::draw(frame, &app.theme, area, tree);
    }
}

/// `⟳ running`, `✔ ok`, `⊘ cancelled` or `✘ <class>  <first line>`.
fn outcome_spans(t: &Theme, v: &LogView) -> Vec<Span<'static>> {
    let mark = |s: PackageStatus, text: &str, style: Style| {
        Span::styled(format!("{} {text}", t.glyphs.status(s)), style)
    };
    match &v.failure {
        Some(f) => vec![
            mark(
                PackageStatus::Failed,
                &f.class.replace('_', " "),
                t.log_error,
            ),
            Span::styled(format!("  {}", f.first_line), t.bad),
        ],
        None if v.live => vec![mark(PackageStatus::Building, "running", t.status_running)],
        None if v.loading => vec![Span::styled(
            format!("loading{}", t.glyphs.ellipsis),
            t.muted,
        )],
        None => vec![match v.outcome {
            Some(o) => {
                let s = if o == Outcome::Ok {
                    PackageStatus::Ok
                } else {
                    PackageStatus::Cancelled
                };
                mark(s, o.as_str(), t.status(s))
            }
            None => Span::styled("no failure found in this log", t.good),
        }],
    }
}

fn header_lines(t: &Theme, v: &LogView) -> Vec<Line<'static>> {
    let dim = t.muted;
    let mut first = outcome_spans(t, v);
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
            Span::styled("/", t.prompt),
            Span::styled(typed.clone(), t.text),
            Span::styled(t.glyphs.cursor, t.cursor),
        ]
    } else if let Some(fixed) = &v.fixed {
        vec![Span::styled(
            format!("{} {fixed}", t.glyphs.status(PackageStatus::Ok)),
            t.good,
        )]
    } else if let Some(got) = v.got_hash() {
        vec![
            Span::styled("got: ", dim),
            Span::styled(got.to_owned(), t.got_hash),
            Span::styled("   f writes it into package.toml", t.log_warning),
        ]
    } else if let Some(m) = &v.message {
        vec![Span::styled(m.clone(), t.log_warning)]
    } else if let Some(q) = &v.query {
        vec![Span::styled(
            format!("search {q:?} · n next · N previous"),
            dim,
        )]
    } else if let Some(hint) = v.failure.as_ref().and_then(|f| f.hint.as_ref()) {
        vec![
            Span::styled("hint: ", dim),
            Span::styled(hint.clone(), t.log_warning),
        ]
    } else {
        vec![]
    };
    let mut lines = vec![Line::from(first), Line::from(second)];
    let second_taken = (v.got_hash().is_some() && v.fixed.is_none()) || v.typing.is_some();
    if let (Some(m), true) = (&v.message, second_taken) {
        // The message would be hidden by the hash line: it takes the first line instead.
        lines[0] = Line::from(Span::styled(m.clone(), t.log_warning));
    }
    lines
}

fn draw_lines(frame: &mut Frame, t: &Theme, v: &LogView, area: Rect) {
    let height = area.height as usize;
    if height == 0 {
        return;
    }
    let visible = v.visible();
    if visible.is_empty() {
        let msg = if v.loading {
            format!("loading{}", t.glyphs.ellipsis)
        } else {
            "no lines".to_owned()
        };
        frame.render_widget(Paragraph::new(msg).style(t.muted), area);
        return;
    }
    let width = area.width as usize;
    let screen_lines = |i: usize| -> Vec<Line<'static>> {
        let l = line(t, v, i, &v.lines[i]);
        if v.wrap {
            // Continuation lines start under the text, after the number and the line's indent.
            let indent = GUTTER + leading_spaces(&l.spans[1..]);
            wrap(l, width, indent)
        } else {
            vec![l]
        }
    };
    let top = if v.wrap && v.follow {
        // From the bottom: as many lines as fit once wrapped.
        let mut used = 0;
        let mut start = visible.len();
        while start > 0 {
            let h = screen_lines(visible[start - 1]).len();
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
    let mut lines: Vec<Line> = Vec::with_capacity(height);
    for &i in &visible[top..] {
        if lines.len() >= height {
            break;
        }
        lines.extend(screen_lines(i));
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), area);
}

fn line(t: &Theme, v: &LogView, index: usize, l: &LogLine) -> Line<'static> {
    let number = Span::styled(
        format!("{:>w$} ", v.first + index as u64 + 1, w = GUTTER - 1),
        t.log_line_number,
    );
    let current = v.current == Some(index);
    let mut spans = vec![number];
    match v.query.as_deref().filter(|q| !q.is_empty()) {
        Some(q) if l.plain().to_lowercase().contains(&q.to_lowercase()) => {
            spans.extend(highlight(t, &l.plain(), q, current));
        }
        _ => spans.extend(crate::tui::ansi::spans(&l.text, t.text, t.ansi_colours)),
    }
    Line::from(spans)
}

/// The plain text with every case-insensitive occurrence of `q` in the match style (the current
/// match also reversed).
fn highlight(t: &Theme, text: &str, q: &str, current: bool) -> Vec<Span<'static>> {
    let hl = if current {
        t.search_current
    } else {
        t.search_match
    };
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
