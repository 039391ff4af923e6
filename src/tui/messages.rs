//! Status messages that can be read whole: the status bar wraps a long one over up to
//! [`MAX_STATUS_LINES`] lines and ends it with `…` only beyond that, and every message is kept in
//! a bounded history (`M`) with its time and level, so a reason is never lost to the width of the
//! terminal or to the next key press.

use std::collections::VecDeque;

use unicode_width::UnicodeWidthChar;

/// Messages the history keeps; older ones are dropped first.
pub const HISTORY: usize = 200;

/// Lines the status bar may grow to for one message.
pub const MAX_STATUS_LINES: usize = 3;

/// What ends a message cut short in the status bar.
pub const MORE: &str = "… (M: whole message)";

/// One message as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
    /// Wall-clock seconds when it was shown.
    pub unix: u64,
}

/// The last [`HISTORY`] messages, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageLog {
    messages: VecDeque<Message>,
}

impl MessageLog {
    pub fn push(&mut self, message: Message) {
        // The same message again (a key pressed twice) is one entry, with the newer time.
        if let Some(last) = self.messages.back_mut()
            && last.text == message.text
            && last.error == message.error
        {
            last.unix = message.unix;
            return;
        }
        if self.messages.len() == HISTORY {
            self.messages.pop_front();
        }
        self.messages.push_back(message);
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Newest first, as the history view lists them.
    pub fn newest_first(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().rev()
    }
}

/// `HH:MM:SS` (UTC) of a wall-clock second.
pub fn clock(unix: u64) -> String {
    let s = unix % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `text` word-wrapped to `width` columns (a word longer than a line is cut), every line at most
/// `width` columns wide.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
        let gap = usize::from(!line.is_empty());
        if used + gap + w <= width {
            if gap == 1 {
                line.push(' ');
            }
            line.push_str(word);
            used += gap + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    lines.push(line);
    lines
}

/// The status bar's lines for a message: wrapped to `width`, at most [`MAX_STATUS_LINES`]; when
/// it needs more, the last one ends with [`MORE`] (the history holds the whole text).
pub fn status_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines = wrap(text, width);
    if lines.len() <= MAX_STATUS_LINES {
        return lines;
    }
    lines.truncate(MAX_STATUS_LINES);
    let more_width: usize = MORE.chars().map(|c| c.width().unwrap_or(0)).sum();
    let keep = width.saturating_sub(more_width);
    let last = lines.last_mut().expect("three lines");
    let mut used = 0;
    let cut: String = last
        .chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= keep
        })
        .collect();
    *last = format!("{}{MORE}", cut.trim_end());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_keeps_the_last_200_and_folds_repeats() {
        let mut log = MessageLog::default();
        for i in 0..250u64 {
            log.push(Message {
                text: format!("message {i}"),
                error: i % 2 == 0,
                unix: i,
            });
        }
        assert_eq!(log.len(), HISTORY);
        let texts: Vec<&str> = log.newest_first().map(|m| m.text.as_str()).collect();
        assert_eq!(texts[0], "message 249");
        assert_eq!(texts[199], "message 50");
        log.push(Message {
            text: "message 249".into(),
            error: false,
            unix: 999,
        });
        assert_eq!(log.len(), HISTORY);
        assert_eq!(log.newest_first().next().unwrap().unix, 999);
    }

    #[test]
    fn long_messages_wrap_and_end_with_an_ellipsis_only_past_three_lines() {
        let text =
            "reloading the catalog: reading /some/long/path/pkgs/org/name: permission denied";
        let lines = status_lines(text, 30);
        assert!(lines.len() <= 3 && lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text, "nothing is lost when it fits");
        let long = "word ".repeat(40);
        let lines = status_lines(long.trim(), 30);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with(MORE), "{lines:?}");
        assert!(lines[2].chars().count() <= 30, "{lines:?}");
        // A word longer than the line is cut, not dropped.
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(clock(86_400 + 3723), "01:02:03");
    }
}
