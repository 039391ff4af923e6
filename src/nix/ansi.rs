//! ANSI escape handling. Nix 2.8 colours its messages even in internal-json and even when stderr
//! is not a terminal, so every pattern match runs on a stripped copy while the
//! original text is kept for display.

use std::borrow::Cow;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// `s` without ANSI escape sequences (CSI such as colours and cursor moves, OSC such as
/// hyperlinks, and two-byte escapes). Borrows when there is nothing to strip, which is the
/// common case for builder output.
pub fn strip(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let Some(first) = memchr(ESC, bytes) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] != ESC {
            // Copy up to the next escape in one go; escapes are ASCII so the cut is on a char
            // boundary.
            let next = memchr(ESC, &bytes[i..]).map_or(bytes.len(), |n| i + n);
            out.push_str(&s[i..next]);
            i = next;
            continue;
        }
        i = skip_escape(bytes, i);
    }
    Cow::Owned(out)
}

/// One piece of a line, in order: plain text, the parameters of an SGR (colour) sequence
/// `ESC [ params m`, or any other escape, which carries no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Sgr(&'a str),
    Escape,
}

/// Split `s` into [`Piece`]s with the same escape grammar `strip` uses, so display (which keeps
/// colours) and matching (which drops them) never disagree about where an escape ends.
pub fn pieces(s: &str) -> impl Iterator<Item = Piece<'_>> {
    let bytes = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] != ESC {
            let next = memchr(ESC, &bytes[i..]).map_or(bytes.len(), |n| i + n);
            let text = &s[i..next];
            i = next;
            return Some(Piece::Text(text));
        }
        let start = i;
        i = skip_escape(bytes, start);
        let is_sgr = bytes.get(start + 1) == Some(&b'[') && i > start + 2 && bytes[i - 1] == b'm';
        Some(if is_sgr {
            Piece::Sgr(&s[start + 2..i - 1])
        } else {
            Piece::Escape
        })
    })
}

/// Index just past the escape sequence starting at `bytes[start] == ESC`.
fn skip_escape(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    match bytes.get(i) {
        // CSI: ESC [ parameters (0x30-0x3F)* intermediates (0x20-0x2F)* final (0x40-0x7E).
        Some(b'[') => {
            i += 1;
            while i < bytes.len() && (0x30..=0x3f).contains(&bytes[i]) {
                i += 1;
            }
            while i < bytes.len() && (0x20..=0x2f).contains(&bytes[i]) {
                i += 1;
            }
            if i < bytes.len() && (0x40..=0x7e).contains(&bytes[i]) {
                i += 1;
            }
            i
        }
        // OSC: ESC ] ... terminated by BEL or ST (ESC \).
        Some(b']') => {
            i += 1;
            while i < bytes.len() {
                if bytes[i] == BEL {
                    return i + 1;
                }
                if bytes[i] == ESC && bytes.get(i + 1) == Some(&b'\\') {
                    return i + 2;
                }
                i += 1;
            }
            i
        }
        // nF escapes (intermediates 0x20-0x2F, then a final byte, e.g. ESC ( B) and two-byte
        // Fp/Fe/Fs escapes (ESC followed by 0x30-0x7E, e.g. ESC c).
        Some(&b) if (0x20..=0x7e).contains(&b) => {
            while i < bytes.len() && (0x20..=0x2f).contains(&bytes[i]) {
                i += 1;
            }
            if i < bytes.len() && (0x30..=0x7e).contains(&bytes[i]) {
                i += 1;
            }
            i
        }
        // A lone ESC: drop it, keep what follows.
        _ => i,
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    memchr::memchr(needle, haystack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            strip("no escapes here"),
            Cow::Borrowed("no escapes here")
        ));
    }

    #[test]
    fn strips_colours_from_nix_error() {
        let s = "\u{1b}[31;1merror:\u{1b}[0m builder for '\u{1b}[35;1m/nix/store/x.drv\u{1b}[0m' failed";
        assert_eq!(strip(s), "error: builder for '/nix/store/x.drv' failed");
    }

    #[test]
    fn strips_osc_hyperlinks_and_cursor_moves() {
        let s = "a\u{1b}]8;;https://x\u{7}link\u{1b}]8;;\u{1b}\\b\u{1b}[2K\u{1b}[1Gc";
        assert_eq!(strip(s), "alinkbc");
    }

    #[test]
    fn lone_and_truncated_escapes() {
        assert_eq!(strip("x\u{1b}"), "x");
        assert_eq!(strip("x\u{1b}[31"), "x");
        assert_eq!(strip("\u{1b}(Bok"), "ok");
        assert_eq!(strip("\u{1b}cok"), "ok");
    }

    #[test]
    fn pieces_split_colours_from_text() {
        let p: Vec<_> = pieces("a\x1b[31;1mred\x1b]8;;u\x07b\x1b[m").collect();
        assert_eq!(
            p,
            [
                Piece::Text("a"),
                Piece::Sgr("31;1"),
                Piece::Text("red"),
                Piece::Escape,
                Piece::Text("b"),
                Piece::Sgr("")
            ]
        );
    }

    #[test]
    fn keeps_multibyte_text() {
        assert_eq!(strip("\u{1b}[1mé→ü\u{1b}[0m ✓"), "é→ü ✓");
    }
}
