//! The dialog of recomputed hashes: per field the catalog's value and atwb's, how each was
//! computed, and the keys to write or keep them.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::jobs::rehash::{HashField, PackageHashes};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;
use crate::tui::layout::centered;

use super::block;

/// Width of the field-name column.
const NAME: usize = 17;

pub fn draw(frame: &mut Frame, app: &App, h: &PackageHashes) {
    let full = frame.area();
    let width = 78.min(full.width);
    let text = Paragraph::new(lines(app, h)).wrap(Wrap { trim: false });
    let height = (text.line_count(width.saturating_sub(2)) as u16 + 2).min(full.height);
    let area = centered(full, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        text.block(
            block(app, true)
                .title(format!(" Hashes of {} ", h.package))
                .border_style(app.theme.dialog_border),
        ),
        area,
    );
}

fn lines(app: &App, h: &PackageHashes) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    for f in [&h.source, &h.deps] {
        field_lines(app, f, &mut out);
    }
    if h.rewrites_source() {
        let pair = |old: String, new: String, out: &mut Vec<Line<'static>>, name: &str| {
            out.push(row(name, "old", old, t.muted));
            out.push(row("", "new", new, t.text));
        };
        pair(
            h.old_verified.to_string(),
            "true".into(),
            &mut out,
            "source.verified",
        );
        pair(
            h.old_provenance.clone(),
            h.new_provenance.clone(),
            &mut out,
            "provenance",
        );
    }
    out.push(Line::default());
    let key = |a| app.keymap.hint(View::Confirm, a).unwrap_or_default();
    out.push(Line::from(vec![
        Span::styled(key(Action::Confirm), t.dialog_key),
        Span::raw(" write into package.toml   "),
        Span::styled(key(Action::CloseOverlay), t.dialog_key),
        Span::raw(" keep the catalog's"),
    ]));
    out
}

fn field_lines(app: &App, f: &HashField, out: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    match &f.new {
        Ok(new) if *new == f.old => {
            out.push(row(f.field, "", format!("{new} (unchanged)"), t.muted));
        }
        Ok(new) => {
            out.push(row(f.field, "old", f.old.clone(), t.muted));
            out.push(row("", "new", new.clone(), t.text));
            out.push(row("", "", format!("from {}", f.from), t.muted));
        }
        Err(e) => {
            out.push(row(f.field, "", format!("{} (kept)", f.old), t.muted));
            let style = if f.supported { t.notice_error } else { t.muted };
            out.push(row("", "", e.clone(), style));
        }
    }
}

fn row(name: &str, tag: &str, value: String, style: ratatui::style::Style) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!("{name:<NAME$}{tag:<4}")),
        Span::styled(value, style),
    ])
}
