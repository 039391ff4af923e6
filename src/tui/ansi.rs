//! ANSI colours of log lines as ratatui styles: SGR sequences (`ESC [ ... m`) become styles, every
//! other escape (cursor moves, OSC hyperlinks) is dropped, so a build log keeps its colours and
//! nothing else reaches the terminal. Under a monochrome theme only the modifiers (bold,
//! underline, ...) are kept.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::nix::ansi::{Piece, pieces};

/// `text` as styled spans on top of `base`; the escapes' colours only when `colours`.
pub fn spans(text: &str, base: Style, colours: bool) -> Vec<Span<'static>> {
    if !text.contains('\x1b') {
        return vec![Span::styled(text.replace('\t', "    "), base)];
    }
    let mut out = Vec::new();
    let mut style = base;
    let mut run = String::new();
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => {
                for c in t.chars() {
                    if c == '\t' {
                        run.push_str("    ");
                    } else if !c.is_control() {
                        run.push(c);
                    }
                }
            }
            Piece::Sgr(params) => {
                if !run.is_empty() {
                    out.push(Span::styled(std::mem::take(&mut run), style));
                }
                style = apply_sgr(style, base, params);
                if !colours {
                    style.fg = base.fg;
                    style.bg = base.bg;
                }
            }
            Piece::Escape => {}
        }
    }
    if !run.is_empty() {
        out.push(Span::styled(run, style));
    }
    out
}

fn apply_sgr(mut style: Style, base: Style, params: &str) -> Style {
    let nums: Vec<u16> = if params.is_empty() {
        vec![0]
    } else {
        params
            .split([';', ':'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let mut i = 0;
    while i < nums.len() {
        let n = nums[i];
        match n {
            0 => style = base,
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            7 => style = style.add_modifier(Modifier::REVERSED),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            30..=37 => style = style.fg(basic(n - 30, false)),
            90..=97 => style = style.fg(basic(n - 90, true)),
            40..=47 => style = style.bg(basic(n - 40, false)),
            100..=107 => style = style.bg(basic(n - 100, true)),
            39 => style.fg = base.fg,
            49 => style.bg = base.bg,
            38 | 48 => {
                let colour = match nums.get(i + 1) {
                    Some(5) => {
                        i += 2;
                        nums.get(i).map(|&c| Color::Indexed(c as u8))
                    }
                    Some(2) => {
                        let c = (nums.get(i + 2), nums.get(i + 3), nums.get(i + 4));
                        i += 4;
                        match c {
                            (Some(&r), Some(&g), Some(&b)) => {
                                Some(Color::Rgb(r as u8, g as u8, b as u8))
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(c) = colour {
                    style = if n == 38 { style.fg(c) } else { style.bg(c) };
                }
            }
            _ => {}
        }
        i += 1;
    }
    style
}

fn basic(n: u16, bright: bool) -> Color {
    match (n, bright) {
        (0, false) => Color::Black,
        (1, false) => Color::Red,
        (2, false) => Color::Green,
        (3, false) => Color::Yellow,
        (4, false) => Color::Blue,
        (5, false) => Color::Magenta,
        (6, false) => Color::Cyan,
        (7, false) => Color::Gray,
        (0, true) => Color::DarkGray,
        (1, true) => Color::LightRed,
        (2, true) => Color::LightGreen,
        (3, true) => Color::LightYellow,
        (4, true) => Color::LightBlue,
        (5, true) => Color::LightMagenta,
        (6, true) => Color::LightCyan,
        _ => Color::White,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgr_becomes_styles_and_other_escapes_vanish() {
        let s = spans(
            "\x1b[31;1merror:\x1b[0m hash \x1b]8;;http://x\x07link\x1b]8;;\x07\x1b[2K done",
            Style::new(),
            true,
        );
        let text: String = s.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "error: hash link done");
        assert_eq!(s[0].content, "error:");
        assert_eq!(s[0].style.fg, Some(Color::Red));
        assert!(s[0].style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(s[1].style, Style::new());
    }

    #[test]
    fn extended_colours() {
        let s = spans("\x1b[38;5;208mx\x1b[48;2;1;2;3my", Style::new(), true);
        assert_eq!(s[0].style.fg, Some(Color::Indexed(208)));
        assert_eq!(s[1].style.bg, Some(Color::Rgb(1, 2, 3)));
    }

    #[test]
    fn without_colours_only_modifiers_remain() {
        let s = spans("\x1b[31;1merror:\x1b[0m \x1b[42mok", Style::new(), false);
        assert!(
            s.iter()
                .all(|s| s.style.fg.is_none() && s.style.bg.is_none())
        );
        assert!(s[0].style.add_modifier.contains(Modifier::BOLD));
    }
}
