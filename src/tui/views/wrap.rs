//! Word wrapping with a hanging indent: continuation lines start under the text of their field
//! (the detail pane's values, the help overlay's descriptions, a log line after its number)
//! rather than at column 0, as ratatui's own wrapping puts them. The views draw the lines this
//! returns without wrapping, so the number of lines is also the scroll height.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Columns of text a continuation line keeps at least (on lines twice as wide).
const MIN_TEXT: usize = 16;

/// A line and the column its continuation lines start at.
#[derive(Debug, Clone, PartialEq)]
pub struct Hanging {
    pub line: Line<'static>,
    pub indent: usize,
}

impl Hanging {
    pub fn new(line: impl Into<Line<'static>>, indent: usize) -> Hanging {
        Hanging {
            line: line.into(),
            indent,
        }
    }
}

/// Every line of `items` wrapped to `width` columns.
pub fn wrap_all(items: Vec<Hanging>, width: usize) -> Vec<Line<'static>> {
    items
        .into_iter()
        .flat_map(|h| wrap(h.line, width, h.indent))
        .collect()
}

/// Display width of the spaces `spans` start with.
pub fn leading_spaces(spans: &[Span]) -> usize {
    let mut n = 0;
    for s in spans {
        let run = s.content.chars().take_while(|&c| c == ' ').count();
        n += run;
        if run < s.content.chars().count() {
            break;
        }
    }
    n
}

/// `line` broken into lines at most `width` columns wide, at spaces where possible (a word
/// longer than a line is cut). Continuation lines start with `indent` spaces, less when that
/// would leave them fewer than 16 columns (or half the width) of text; the spaces at a break
/// are dropped.
pub fn wrap(line: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    if width == 0 || line.width() <= width {
        return vec![line];
    }
    let mut out = Builder {
        lines: Vec::new(),
        current: Vec::new(),
        col: 0,
        width,
        indent: indent.min(width - MIN_TEXT.min(width / 2)),
        template: Line::default().style(line.style),
    };
    if let Some(a) = line.alignment {
        out.template = out.template.alignment(a);
    }
    let mut gap: Vec<(char, Style)> = Vec::new();
    let mut word: Vec<(char, Style)> = Vec::new();
    let chars = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)));
    for (c, style) in chars {
        if c == ' ' {
            if !word.is_empty() {
                out.word(&gap, &word);
                gap.clear();
                word.clear();
            }
            gap.push((c, style));
        } else {
            word.push((c, style));
        }
    }
    if !word.is_empty() {
        out.word(&gap, &word);
    } else if out.col + gap.len() <= width {
        out.push_all(&gap);
    }
    out.finish()
}

struct Builder {
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
    col: usize,
    width: usize,
    indent: usize,
    template: Line<'static>,
}

fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

fn run_width(chars: &[(char, Style)]) -> usize {
    chars.iter().map(|&(c, _)| char_width(c)).sum()
}

impl Builder {
    /// Column where text starts on the current line.
    fn start(&self) -> usize {
        if self.lines.is_empty() {
            0
        } else {
            self.indent
        }
    }

    /// The spaces before a word, then the word.
    fn word(&mut self, gap: &[(char, Style)], word: &[(char, Style)]) {
        let (gap_w, word_w) = (run_width(gap), run_width(word));
        if self.col + gap_w + word_w <= self.width {
            self.push_all(gap);
            self.push_all(word);
            return;
        }
        if word_w <= self.width - self.indent && self.col > self.start() {
            self.newline();
            self.push_all(word);
            return;
        }
        // Longer than a line: as much as fits here, the rest cut over the next lines.
        if self.col + gap_w < self.width {
            self.push_all(gap);
        } else if self.col > self.start() {
            self.newline();
        }
        for &(c, style) in word {
            if self.col + char_width(c) > self.width && self.col > self.start() {
                self.newline();
            }
            self.push(c, style);
        }
    }

    fn push_all(&mut self, chars: &[(char, Style)]) {
        for &(c, style) in chars {
            self.push(c, style);
        }
    }

    fn push(&mut self, c: char, style: Style) {
        self.col += char_width(c);
        match self.current.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => self.current.push(Span::styled(c.to_string(), style)),
        }
    }

    fn newline(&mut self) {
        let mut line = self.template.clone();
        line.spans = std::mem::take(&mut self.current);
        self.lines.push(line);
        self.current.push(Span::raw(" ".repeat(self.indent)));
        self.col = self.indent;
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        let mut line = self.template.clone();
        line.spans = std::mem::take(&mut self.current);
        self.lines.push(line);
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn continuation_lines_start_under_the_field_text() {
        let line = Line::from(vec![
            Span::raw("inputs    "),
            Span::styled(
                "openssl, zstd, lz4 · native pkg-config",
                Style::new().fg(Color::Red),
            ),
        ]);
        let out = wrap(line, 30, 10);
        assert_eq!(
            texts(&out),
            [
                "inputs    openssl, zstd, lz4 ·",
                "          native pkg-config"
            ]
        );
        // Styles survive the break.
        assert_eq!(out[1].spans[1].style.fg, Some(Color::Red));
        assert!(out.iter().all(|l| l.width() <= 30));
    }

    #[test]
    fn a_line_that_fits_is_returned_as_it_is() {
        let line = Line::from("  short  ");
        assert_eq!(wrap(line.clone(), 20, 4), vec![line]);
    }

    #[test]
    fn words_longer_than_a_line_are_cut() {
        let out = wrap(Line::from("hash sha256-abcdefghijklmnopqrstuvwxyz"), 16, 5);
        assert_eq!(
            texts(&out),
            ["hash sha256-abcd", "     efghijklmno", "     pqrstuvwxyz"]
        );
    }

    #[test]
    fn wide_characters_count_two_columns_and_are_not_split() {
        // A line of 8 holds `ab 日本` (7 columns); `語` (2 more) goes to the next.
        let out = wrap(Line::from("ab 日本語です"), 8, 2);
        assert_eq!(texts(&out), ["ab 日本", "  語です"]);
        let out = wrap(Line::from("x 日本語日本語"), 7, 0);
        assert!(out.iter().all(|l| l.width() <= 7), "{:?}", texts(&out));
        assert_eq!(texts(&out).concat(), "x 日本語日本語");
    }

    #[test]
    fn the_indent_keeps_room_for_text() {
        let out = wrap(Line::from("aaaa bbbb cccc dddd"), 10, 40);
        assert_eq!(texts(&out), ["aaaa bbbb", "     cccc", "     dddd"]);
    }

    #[test]
    fn leading_spaces_span_spans() {
        assert_eq!(leading_spaces(&[Span::raw("  "), Span::raw("  x ")]), 4);
        assert_eq!(leading_spaces(&[Span::raw("x")]), 0);
    }
}
