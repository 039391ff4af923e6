//! Drawing. Every function here reads `&App` and writes to the frame; nothing changes state.

pub(crate) mod cache;
pub mod detail;
pub(crate) mod dialog;
pub(crate) mod form;
pub(crate) mod form_dialogs;
pub(crate) mod hashes;

pub mod drvtree;
pub(crate) mod help;
pub(crate) mod jobs;
pub(crate) mod jobs_detail;
pub(crate) mod jobs_strip;
pub(crate) mod log;
pub(crate) mod problems;
pub(crate) mod status;
pub(crate) mod tree;
pub(crate) mod wizard;

pub(crate) mod updates;
pub(crate) mod wrap;

#[cfg(test)]
mod tests;

/// A drawn buffer as text, for the views' tests: a line per row, trailing blanks cut.
#[cfg(test)]
fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            row.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Block;

use super::app::{App, Overlay};
use super::layout::areas;
use super::theme::GlyphSet;

pub fn draw(frame: &mut Frame, app: &App) {
    let a = areas(app);
    status::draw_title(frame, app, a.title);
    if let Some(tree_area) = a.tree {
        tree::draw(frame, app, tree_area, a.search, a.tree_list);
    }
    if let Some(detail_area) = a.detail {
        detail::draw(frame, app, detail_area);
    }
    if let Some(strip) = a.jobs {
        jobs_strip::draw(frame, app, strip);
    }
    status::draw_status(frame, app, a.status);
    for overlay in &app.overlays {
        match overlay {
            Overlay::Help { scroll } => help::draw(frame, app, *scroll),
            Overlay::Log(v) => log::draw(frame, app, v),
            Overlay::Jobs { selected } => jobs::draw(frame, app, *selected),
            Overlay::Confirm { message, .. } => dialog::confirm(frame, app, message),
            Overlay::Prompt { label, text } => dialog::prompt(frame, app, label, text),
            Overlay::Wizard(w) => wizard::draw(frame, app, w),

            Overlay::Problems { selected } => problems::draw_problems(frame, app, *selected),
            Overlay::Messages { scroll } => problems::draw_messages(frame, app, *scroll),

            Overlay::Updates(v) => updates::draw(frame, app, v),
            Overlay::BumpPreview { package, preview } => {
                updates::preview(frame, app, package, preview);
            }

            Overlay::Form(f) => form::draw(frame, app, f),
            Overlay::Hashes(h) => hashes::draw(frame, app, h),
        }
    }
    if app.theme.glyphs.ascii {
        asciify(frame.buffer_mut());
    }
}

/// A bordered block in the theme's border glyphs and style.
pub fn block(app: &App, focused: bool) -> Block<'static> {
    Block::bordered()
        .border_set(app.theme.glyphs.border)
        .border_style(app.theme.pane_border(focused))
}

/// With ASCII glyphs nothing else may reach the screen either: the separators of the views'
/// texts (`·`, `—`) and whatever the catalog's own texts hold are transliterated, the rest
/// becomes `?`. The views draw ASCII marks themselves; this catches everything else.
fn asciify(buf: &mut Buffer) {
    for cell in &mut buf.content {
        if cell.symbol().is_ascii() {
            continue;
        }
        let ascii = match cell.symbol() {
            "·" | "—" | "–" | "─" => "-",
            "…" => GlyphSet::ASCII.ellipsis,
            "│" | "▏" => "|",
            "┌" | "┐" | "└" | "┘" => "+",
            "↑" => "^",
            "↓" => "v",
            "←" => "<",
            "→" => ">",
            "“" | "”" => "\"",
            "‘" | "’" => "'",
            _ => "?",
        };
        cell.set_symbol(ascii);
    }
}

/// `text` as spans, with the chars at `indices` (char positions, sorted) in `matched` (patched
/// onto `base`).
pub fn highlighted(
    text: &str,
    indices: &[usize],
    base: Style,
    matched: Style,
) -> Vec<Span<'static>> {
    if indices.is_empty() {
        return vec![Span::styled(text.to_owned(), base)];
    }
    let hl = base.patch(matched);
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hl = false;
    let mut next = indices.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        let is_hl = next.peek() == Some(&&i);
        if is_hl {
            next.next();
        }
        if is_hl != run_hl && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_hl { hl } else { base },
            ));
        }
        run_hl = is_hl;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hl { hl } else { base }));
    }
    spans
}
