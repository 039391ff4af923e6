//! The editors of a form's fields, as plain data so `update` stays pure and tests can drive
//! them: a text line or block (edited through ratatui-textarea, rebuilt around the stored lines
//! and cursor for every key), a pick list with type-to-filter, and the list operations.

use ratatui_textarea::{CursorMove, Input, Key as TaKey, TextArea};
use serde::{Deserialize, Serialize};

/// A key typed into an editor. The runtime sends every key the form's edit keymap does not
/// bind as one of these; own type (not crossterm's) so `Action` stays `Copy + Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EditKey {
    pub code: EditCode,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EditCode {
    Char(char),
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    Enter,
}

impl EditKey {
    pub fn char(c: char) -> EditKey {
        EditKey::plain(EditCode::Char(c))
    }

    pub fn plain(code: EditCode) -> EditKey {
        EditKey {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// From a terminal key; None for keys no editor uses (function keys, ...).
    pub fn from_crossterm(code: crossterm::event::KeyCode, ctrl: bool, alt: bool) -> Option<Self> {
        use crossterm::event::KeyCode as K;
        let code = match code {
            K::Char(c) => EditCode::Char(c),
            K::Backspace => EditCode::Backspace,
            K::Delete => EditCode::Delete,
            K::Left => EditCode::Left,
            K::Right => EditCode::Right,
            K::Up => EditCode::Up,
            K::Down => EditCode::Down,
            K::Home => EditCode::Home,
            K::End => EditCode::End,
            K::Enter => EditCode::Enter,
            _ => return None,
        };
        Some(EditKey { code, ctrl, alt })
    }

    fn input(self) -> Input {
        let key = match self.code {
            EditCode::Char(c) => TaKey::Char(c),
            EditCode::Backspace => TaKey::Backspace,
            EditCode::Delete => TaKey::Delete,
            EditCode::Left => TaKey::Left,
            EditCode::Right => TaKey::Right,
            EditCode::Up => TaKey::Up,
            EditCode::Down => TaKey::Down,
            EditCode::Home => TaKey::Home,
            EditCode::End => TaKey::End,
            EditCode::Enter => TaKey::Enter,
        };
        Input {
            key,
            ctrl: self.ctrl,
            alt: self.alt,
            shift: false,
        }
    }
}

/// What an editor did with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value changed.
    Changed,
    /// Only the cursor or the selection moved.
    Moved,
    /// The key was refused: the value would not be of the field's shape (the reason).
    Refused(String),
}

/// Which characters a text editor accepts: numbers take digits only, so a letter never gets
/// into a port. (Whether the number is in range is the validator's rule, shown inline.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Any,
    Digits,
    /// Digits with an optional leading minus.
    SignedDigits,
}

/// A text being edited: its lines and the cursor (row, column in chars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextState {
    pub lines: Vec<String>,
    pub cursor: (usize, usize),
    pub multiline: bool,
    pub charset: Charset,
}

impl TextState {
    /// `text` with the cursor at its end.
    pub fn new(text: &str, multiline: bool, charset: Charset) -> TextState {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        TextState {
            lines,
            cursor: (row, col),
            multiline,
            charset,
        }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// A textarea holding this text with the cursor in place (for editing and drawing).
    pub fn textarea(&self) -> TextArea<'static> {
        let mut ta = TextArea::new(self.lines.clone());
        let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        ta.move_cursor(CursorMove::Jump(clamp(self.cursor.0), clamp(self.cursor.1)));
        ta
    }

    /// Applies one key with the textarea's own bindings (word moves, kill line, ...), then
    /// refuses the result if it is not of this editor's shape.
    pub fn input(&mut self, key: EditKey) -> Outcome {
        if matches!(key.code, EditCode::Enter) && !self.multiline {
            return Outcome::Refused("one line only".into());
        }
        let mut ta = self.textarea();
        let changed = ta.input(key.input());
        let lines = ta.lines().to_vec();
        let cursor = ta.cursor();
        if changed {
            let text = lines.join("\n");
            if let Some(reason) = self.refusal(&text, lines.len()) {
                return Outcome::Refused(reason);
            }
        }
        self.lines = lines;
        self.cursor = (cursor.0, cursor.1);
        if changed {
            Outcome::Changed
        } else {
            Outcome::Moved
        }
    }

    fn refusal(&self, text: &str, line_count: usize) -> Option<String> {
        if !self.multiline && line_count > 1 {
            return Some("one line only".into());
        }
        let ok = match self.charset {
            Charset::Any => true,
            Charset::Digits => text.bytes().all(|b| b.is_ascii_digit()),
            Charset::SignedDigits => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                digits.bytes().all(|b| b.is_ascii_digit())
            }
        };
        (!ok).then(|| "a whole number: digits only".into())
    }
}

/// A pick list: the choices, what has been typed to filter them, and the highlighted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub choices: Vec<String>,
    pub filter: String,
    /// Index into `visible()`.
    pub selected: usize,
    /// Values outside the choices are allowed (licenses: any SPDX id): a filter matching
    /// nothing is kept, and Enter takes it as typed.
    pub open: bool,
}

impl Picker {
    /// Opens on `current` when it is one of the choices.
    pub fn new(choices: Vec<String>, current: &str) -> Picker {
        let selected = choices.iter().position(|c| c == current).unwrap_or(0);
        Picker {
            choices,
            filter: String::new(),
            selected,
            open: false,
        }
    }

    /// An open pick list (see `open`).
    #[must_use]
    pub fn open(mut self, open: bool) -> Picker {
        self.open = open;
        self
    }

    /// What Enter takes: the highlighted choice, or the filter as typed in an open list.
    pub fn chosen(&self) -> Option<String> {
        match self.current() {
            Some(c) => Some(c.to_owned()),
            None if self.open && !self.filter.trim().is_empty() => {
                Some(self.filter.trim().to_owned())
            }
            None => None,
        }
    }

    /// The choices the filter keeps: those containing it (ignoring case), those starting with
    /// it first, so `mit` puts `MIT` above `MIT-0`... and `AML` last.
    pub fn visible(&self) -> Vec<&str> {
        let f = self.filter.to_lowercase();
        let mut hits: Vec<(bool, usize, &str)> = self
            .choices
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let lower = c.to_lowercase();
                lower
                    .contains(&f)
                    .then_some((!lower.starts_with(&f), i, c.as_str()))
            })
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|(_, _, c)| c).collect()
    }

    pub fn current(&self) -> Option<&str> {
        self.visible().get(self.selected).copied()
    }

    /// Typing filters; arrows move; backspace widens the filter again.
    pub fn input(&mut self, key: EditKey) -> Outcome {
        match key.code {
            EditCode::Char(c) if !key.ctrl && !key.alt => {
                self.filter.push(c);
                self.selected = 0;
                if self.visible().is_empty() && !self.open {
                    self.filter.pop();
                    return Outcome::Refused(format!("no choice contains `{}{c}`", self.filter));
                }
            }
            EditCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            EditCode::Down => self.step(true),
            EditCode::Up => self.step(false),
            EditCode::Home => self.selected = 0,
            EditCode::End => self.selected = self.visible().len().saturating_sub(1),
            _ => {}
        }
        Outcome::Moved
    }

    pub fn step(&mut self, down: bool) {
        let n = self.visible().len();
        if n == 0 {
            return;
        }
        self.selected = if down {
            (self.selected + 1).min(n - 1)
        } else {
            self.selected.saturating_sub(1)
        };
    }
}

/// Moves item `i` of `items` one place up or down; the item's new index, or None at an end.
pub fn move_item<T>(items: &mut [T], i: usize, down: bool) -> Option<usize> {
    let j = if down {
        i.checked_add(1)?
    } else {
        i.checked_sub(1)?
    };
    if j >= items.len() || i >= items.len() {
        return None;
    }
    items.swap(i, j);
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_str(t: &mut TextState, s: &str) -> Vec<Outcome> {
        s.chars().map(|c| t.input(EditKey::char(c))).collect()
    }

    #[test]
    fn single_line_text_edits_at_the_cursor_and_refuses_newlines() {
        let mut t = TextState::new("Personal server", false, Charset::Any);
        assert_eq!(t.cursor, (0, 15));
        for _ in 0.."server".len() {
            t.input(EditKey::plain(EditCode::Left));
        }
        type_str(&mut t, "data ");
        assert_eq!(t.text(), "Personal data server");
        assert_eq!(
            t.input(EditKey::plain(EditCode::Enter)),
            Outcome::Refused("one line only".into())
        );
        // ctrl-m is the textarea's newline too.
        let ctrl_m = EditKey {
            code: EditCode::Char('m'),
            ctrl: true,
            alt: false,
        };
        assert!(matches!(t.input(ctrl_m), Outcome::Refused(_)));
        assert_eq!(t.text(), "Personal data server");
        assert_eq!(
            t.input(EditKey::plain(EditCode::Backspace)),
            Outcome::Changed
        );
        assert_eq!(t.text(), "Personal dataserver");
        assert_eq!(t.input(EditKey::plain(EditCode::Home)), Outcome::Moved);
        assert_eq!(t.cursor, (0, 0));
    }

    #[test]
    fn multi_line_text_takes_enter() {
        let mut t = TextState::new("one", true, Charset::Any);
        assert_eq!(t.input(EditKey::plain(EditCode::Enter)), Outcome::Changed);
        type_str(&mut t, "two");
        assert_eq!(t.text(), "one\ntwo");
        assert_eq!(t.cursor, (1, 3));
        t.input(EditKey::plain(EditCode::Up));
        assert_eq!(t.cursor.0, 0);
    }

    #[test]
    fn numbers_take_digits_only() {
        let mut t = TextState::new("300", false, Charset::Digits);
        let out = type_str(&mut t, "0x");
        assert_eq!(out[0], Outcome::Changed);
        assert_eq!(
            out[1],
            Outcome::Refused("a whole number: digits only".into())
        );
        assert_eq!(t.text(), "3000");
        let mut s = TextState::new("", false, Charset::SignedDigits);
        type_str(&mut s, "-12");
        assert_eq!(s.text(), "-12");
        assert!(matches!(s.input(EditKey::char('-')), Outcome::Refused(_)));
    }

    #[test]
    fn picker_filters_by_typing_and_ranks_prefixes_first() {
        let choices = [
            "Apache-2.0",
            "MIT",
            "AGPL-3.0-only",
            "MIT-0",
            "LGPL-2.1-only",
        ];
        let mut p = Picker::new(choices.iter().map(|s| (*s).to_owned()).collect(), "MIT");
        assert_eq!(p.current(), Some("MIT"));
        for c in "gpl".chars() {
            p.input(EditKey::char(c));
        }
        assert_eq!(p.visible(), ["AGPL-3.0-only", "LGPL-2.1-only"]);
        p.input(EditKey::plain(EditCode::Down));
        assert_eq!(p.current(), Some("LGPL-2.1-only"));
        p.input(EditKey::plain(EditCode::Down));
        assert_eq!(p.current(), Some("LGPL-2.1-only"), "stops at the end");
        assert!(matches!(p.input(EditKey::char('z')), Outcome::Refused(_)));
        assert_eq!(p.filter, "gpl", "a filter matching nothing is refused");
        for _ in 0..3 {
            p.input(EditKey::plain(EditCode::Backspace));
        }
        p.input(EditKey::char('m'));
        assert_eq!(p.visible(), ["MIT", "MIT-0"]);
        // An open list keeps a filter matching nothing, and takes it as typed.
        let mut open = Picker::new(vec!["MIT".into()], "").open(true);
        for c in "EUPL-1.1".chars() {
            open.input(EditKey::char(c));
        }
        assert_eq!(open.chosen().as_deref(), Some("EUPL-1.1"));
        assert_eq!(p.chosen().as_deref(), Some("MIT"));
    }

    #[test]
    fn list_items_move_within_bounds() {
        let mut v = vec!["a", "b", "c"];
        assert_eq!(move_item(&mut v, 0, true), Some(1));
        assert_eq!(v, ["b", "a", "c"]);
        assert_eq!(move_item(&mut v, 0, false), None);
        assert_eq!(move_item(&mut v, 2, true), None);
        assert_eq!(move_item(&mut v, 2, false), Some(1));
        assert_eq!(v, ["b", "c", "a"]);
    }
}
