//! Key bindings per view. Defaults are compiled in; `[keys.<view>]` tables of
//! `~/.config/atwb/config.toml` override single keys (`"x" = "quit"`, or `"x" = "none"` to unbind).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use anyhow::{Result, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// The views that have their own bindings; the config table names are these, lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum View {
    /// The tree and detail panes.
    Main,
    /// Typing a search query: printable keys go to the query.
    Search,
    /// The help overlay.
    Help,
    /// The log view (a job's log or a saved log file).
    Log,
    /// The jobs view.
    Jobs,
    /// A yes/no question.
    Confirm,
    /// The problems view (every diagnostic of the catalog).
    Problems,
    /// The message history.
    Messages,
    /// The updates view (upstream heads and tags).
    Updates,

    /// A metadata or service options form (moving between fields).
    Form,
    /// A form's field editor: keys not bound here are typed into the field.
    FormEdit,
    /// A form's questions: leave with unsaved changes, the conflict view.
    FormDialog,
}

impl View {
    pub const ALL: [View; 12] = [
        View::Main,
        View::Search,
        View::Help,
        View::Log,
        View::Jobs,
        View::Confirm,
        View::Problems,
        View::Messages,
        View::Updates,
        View::Form,
        View::FormEdit,
        View::FormDialog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Main => "main",
            View::Search => "search",
            View::Help => "help",
            View::Log => "log",
            View::Jobs => "jobs",
            View::Confirm => "confirm",
            View::Problems => "problems",
            View::Messages => "messages",

            View::Updates => "updates",

            View::Form => "form",
            View::FormEdit => "form_edit",
            View::FormDialog => "form_dialog",
        }
    }
}

/// A key with modifiers, normalised so that `G` and `shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn char(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
            alt: false,
        }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            // Terminals report Ctrl-letters as lowercase; shift is already in the character.
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Key { code, ctrl, alt }
    }

    /// Parses `j`, `G`, `?`, `ctrl-c`, `alt-x`, `shift-g`, `down`, `pagedown`, `f5`, `space` ...
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else if rest.len() > 1 && lower.starts_with("shift-") {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let c = if shift { c.to_ascii_uppercase() } else { c };
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" if shift => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "`{text}` is not a key: use a single character (`j`, `G`, `?`), a name (up, down, \
                         left, right, pageup, pagedown, home, end, enter, esc, tab, backtab, backspace, \
                         delete, space, f1..f24), optionally prefixed with ctrl-, alt- or shift-"
                    ));
                }
            },
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl Key {
    /// As `Display`, with the arrow keys spelt out when only ASCII may be drawn.
    pub fn label(&self, ascii: bool) -> String {
        let name = match self.code {
            KeyCode::Up => "up",
            KeyCode::Down => "down",
            KeyCode::Left => "left",
            KeyCode::Right => "right",
            _ => return self.to_string(),
        };
        if !ascii {
            return self.to_string();
        }
        let mut out = String::new();
        if self.ctrl {
            out.push_str("ctrl-");
        }
        if self.alt {
            out.push_str("alt-");
        }
        out.push_str(name);
        out
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Bindings of every view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    views: BTreeMap<View, HashMap<Key, Action>>,
    /// Name keys in ASCII only (`up` rather than `↑`) in hints and help.
    pub ascii: bool,
}

const DEFAULTS: &[(View, &str, Action)] = &[
    (View::Main, "q", Action::Quit),
    (View::Main, "ctrl-c", Action::ForceQuit),
    (View::Main, "j", Action::MoveDown),
    (View::Main, "down", Action::MoveDown),
    (View::Main, "k", Action::MoveUp),
    (View::Main, "up", Action::MoveUp),
    (View::Main, "pagedown", Action::PageDown),
    (View::Main, "ctrl-d", Action::PageDown),
    (View::Main, "pageup", Action::PageUp),
    (View::Main, "ctrl-u", Action::PageUp),
    (View::Main, "g", Action::Top),
    (View::Main, "home", Action::Top),
    (View::Main, "G", Action::Bottom),
    (View::Main, "end", Action::Bottom),
    (View::Main, "l", Action::Expand),
    (View::Main, "right", Action::Expand),
    (View::Main, "h", Action::Collapse),
    (View::Main, "left", Action::Collapse),
    (View::Main, "enter", Action::OpenLogOrToggle),
    (View::Main, "space", Action::Toggle),
    (View::Main, "tab", Action::NextPane),
    (View::Main, "backtab", Action::PrevPane),
    (View::Main, "/", Action::Search),
    (View::Main, "esc", Action::ClearSearch),
    (View::Main, "1", Action::FilterTier1),
    (View::Main, "2", Action::FilterTier2),
    (View::Main, "3", Action::FilterTier3),
    (View::Main, "0", Action::FilterTierAll),
    (View::Main, "C", Action::CycleCategory),
    (View::Main, "?", Action::Help),
    (View::Main, "b", Action::Build),
    (View::Main, "B", Action::BuildShown),
    (View::Main, "t", Action::Test),
    (View::Main, "L", Action::OpenLog),
    (View::Main, "f", Action::FixHash),
    (View::Main, "E", Action::OpenEditor),
    (View::Main, "J", Action::Jobs),
    (View::Main, "c", Action::CancelJob),
    (View::Main, "O", Action::OpenLogFile),
    (View::Main, "H", Action::ScoreHardening),
    (View::Main, "n", Action::NewPackage),
    (View::Main, "!", Action::Problems),
    (View::Main, "M", Action::MessageHistory),
    (View::Main, "ctrl-r", Action::ReloadCatalog),
    (View::Main, "u", Action::Updates),
    (View::Main, "#", Action::HashPackage),
    (View::Main, "p", Action::CheckCache),
    (View::Main, "P", Action::CheckCacheShown),
    (View::Search, "enter", Action::SearchConfirm),
    (View::Search, "esc", Action::SearchCancel),
    (View::Search, "backspace", Action::SearchBackspace),
    (View::Search, "down", Action::MoveDown),
    (View::Search, "ctrl-n", Action::MoveDown),
    (View::Search, "up", Action::MoveUp),
    (View::Search, "ctrl-p", Action::MoveUp),
    (View::Search, "ctrl-c", Action::ForceQuit),
    (View::Help, "esc", Action::CloseOverlay),
    (View::Help, "?", Action::CloseOverlay),
    (View::Help, "q", Action::CloseOverlay),
    (View::Help, "j", Action::MoveDown),
    (View::Help, "down", Action::MoveDown),
    (View::Help, "k", Action::MoveUp),
    (View::Help, "up", Action::MoveUp),
    (View::Help, "ctrl-c", Action::ForceQuit),
    (View::Log, "esc", Action::CloseOverlay),
    (View::Log, "q", Action::CloseOverlay),
    (View::Log, "j", Action::MoveDown),
    (View::Log, "down", Action::MoveDown),
    (View::Log, "k", Action::MoveUp),
    (View::Log, "up", Action::MoveUp),
    (View::Log, "pagedown", Action::PageDown),
    (View::Log, "ctrl-d", Action::PageDown),
    (View::Log, "space", Action::PageDown),
    (View::Log, "pageup", Action::PageUp),
    (View::Log, "ctrl-u", Action::PageUp),
    (View::Log, "g", Action::Top),
    (View::Log, "home", Action::Top),
    (View::Log, "G", Action::Bottom),
    (View::Log, "end", Action::Bottom),
    (View::Log, "F", Action::ToggleFollow),
    (View::Log, "w", Action::ToggleWrap),
    (View::Log, "T", Action::ToggleTree),
    (View::Log, "/", Action::Search),
    (View::Log, "n", Action::SearchNext),
    (View::Log, "N", Action::SearchPrev),
    (View::Log, "e", Action::FirstError),
    (View::Log, "d", Action::CycleDrv),
    (View::Log, "S", Action::SaveLog),
    (View::Log, "f", Action::FixHash),
    (View::Log, "c", Action::CancelJob),
    (View::Log, "?", Action::Help),
    (View::Log, "ctrl-c", Action::ForceQuit),
    (View::Jobs, "esc", Action::CloseOverlay),
    (View::Jobs, "q", Action::CloseOverlay),
    (View::Jobs, "J", Action::CloseOverlay),
    (View::Jobs, "j", Action::MoveDown),
    (View::Jobs, "down", Action::MoveDown),
    (View::Jobs, "k", Action::MoveUp),
    (View::Jobs, "up", Action::MoveUp),
    (View::Jobs, "g", Action::Top),
    (View::Jobs, "G", Action::Bottom),
    (View::Jobs, "enter", Action::OpenLog),
    (View::Jobs, "l", Action::OpenLog),
    (View::Jobs, "c", Action::CancelJob),
    (View::Jobs, "r", Action::RerunJob),
    (View::Jobs, "R", Action::RerunFailed),
    (View::Jobs, "H", Action::ToggleHideFinished),
    (View::Jobs, "X", Action::ClearFinished),
    (View::Jobs, "a", Action::BuildAll),
    (View::Jobs, "B", Action::BuildShown),
    (View::Jobs, "?", Action::Help),
    (View::Jobs, "ctrl-c", Action::ForceQuit),
    (View::Updates, "esc", Action::CloseOverlay),
    (View::Updates, "q", Action::CloseOverlay),
    (View::Updates, "j", Action::MoveDown),
    (View::Updates, "down", Action::MoveDown),
    (View::Updates, "k", Action::MoveUp),
    (View::Updates, "up", Action::MoveUp),
    (View::Updates, "pagedown", Action::PageDown),
    (View::Updates, "pageup", Action::PageUp),
    (View::Updates, "g", Action::Top),
    (View::Updates, "G", Action::Bottom),
    (View::Updates, "enter", Action::Bump),
    (View::Updates, "/", Action::Search),
    (View::Updates, "s", Action::CycleSort),
    (View::Updates, "o", Action::ToggleOutdatedOnly),
    (View::Updates, "r", Action::Updates),
    (View::Updates, "?", Action::Help),
    (View::Updates, "ctrl-c", Action::ForceQuit),
    (View::Confirm, "y", Action::Confirm),
    (View::Confirm, "enter", Action::Confirm),
    (View::Confirm, "n", Action::CloseOverlay),
    (View::Confirm, "esc", Action::CloseOverlay),
    (View::Confirm, "q", Action::CloseOverlay),
    (View::Confirm, "ctrl-c", Action::ForceQuit),
    (View::Problems, "esc", Action::CloseOverlay),
    (View::Problems, "q", Action::CloseOverlay),
    (View::Problems, "!", Action::CloseOverlay),
    (View::Problems, "j", Action::MoveDown),
    (View::Problems, "down", Action::MoveDown),
    (View::Problems, "k", Action::MoveUp),
    (View::Problems, "up", Action::MoveUp),
    (View::Problems, "g", Action::Top),
    (View::Problems, "G", Action::Bottom),
    (View::Problems, "enter", Action::JumpToPackage),
    (View::Problems, "E", Action::OpenEditor),
    (View::Problems, "ctrl-r", Action::ReloadCatalog),
    (View::Problems, "?", Action::Help),
    (View::Problems, "ctrl-c", Action::ForceQuit),
    (View::Messages, "esc", Action::CloseOverlay),
    (View::Messages, "q", Action::CloseOverlay),
    (View::Messages, "M", Action::CloseOverlay),
    (View::Messages, "j", Action::MoveDown),
    (View::Messages, "down", Action::MoveDown),
    (View::Messages, "k", Action::MoveUp),
    (View::Messages, "up", Action::MoveUp),
    (View::Messages, "g", Action::Top),
    (View::Messages, "G", Action::Bottom),
    (View::Messages, "?", Action::Help),
    (View::Messages, "ctrl-c", Action::ForceQuit),
    (View::Main, "m", Action::MetadataForm),
    (View::Main, "s", Action::ServiceForm),
    (View::Form, "j", Action::MoveDown),
    (View::Form, "down", Action::MoveDown),
    (View::Form, "tab", Action::MoveDown),
    (View::Form, "k", Action::MoveUp),
    (View::Form, "up", Action::MoveUp),
    (View::Form, "backtab", Action::MoveUp),
    (View::Form, "pagedown", Action::PageDown),
    (View::Form, "pageup", Action::PageUp),
    (View::Form, "g", Action::Top),
    (View::Form, "G", Action::Bottom),
    (View::Form, "enter", Action::FormEdit),
    (View::Form, "e", Action::FormEdit),
    (View::Form, "i", Action::FormEdit),
    (View::Form, "space", Action::FormToggle),
    (View::Form, "ctrl-s", Action::FormSave),
    (View::Form, "ctrl-z", Action::FormUndo),
    (View::Form, "ctrl-y", Action::FormRedo),
    (View::Form, "a", Action::FormAddItem),
    (View::Form, "d", Action::FormRemoveItem),
    (View::Form, "K", Action::FormItemUp),
    (View::Form, "ctrl-k", Action::FormItemUp),
    (View::Form, "J", Action::FormItemDown),
    (View::Form, "ctrl-j", Action::FormItemDown),
    (View::Form, "+", Action::FormAddOption),
    (View::Form, "-", Action::FormRemoveOption),
    (View::Form, "A", Action::FormAddService),
    (View::Form, "D", Action::FormRemoveService),
    (View::Form, "esc", Action::CloseOverlay),
    (View::Form, "q", Action::CloseOverlay),
    (View::Form, "?", Action::Help),
    (View::Form, "ctrl-c", Action::ForceQuit),
    (View::FormEdit, "esc", Action::FormEditDone),
    (View::FormEdit, "enter", Action::FormEditEnter),
    (View::FormEdit, "ctrl-s", Action::FormSave),
    (View::FormEdit, "ctrl-z", Action::FormUndo),
    (View::FormEdit, "ctrl-y", Action::FormRedo),
    (View::FormEdit, "ctrl-c", Action::ForceQuit),
    (View::FormDialog, "s", Action::FormSave),
    (View::FormDialog, "ctrl-s", Action::FormSave),
    (View::FormDialog, "d", Action::FormDiscard),
    (View::FormDialog, "j", Action::MoveDown),
    (View::FormDialog, "down", Action::MoveDown),
    (View::FormDialog, "k", Action::MoveUp),
    (View::FormDialog, "up", Action::MoveUp),
    (View::FormDialog, "m", Action::FormKeepMine),
    (View::FormDialog, "t", Action::FormTakeDisk),
    (View::FormDialog, "enter", Action::Confirm),
    (View::FormDialog, "r", Action::FormReopen),
    (View::FormDialog, "esc", Action::CloseOverlay),
    (View::FormDialog, "ctrl-c", Action::ForceQuit),
];

impl Default for KeyMap {
    fn default() -> Self {
        let mut views: BTreeMap<View, HashMap<Key, Action>> = BTreeMap::new();
        for &(view, key, action) in DEFAULTS {
            let key = Key::parse(key).expect("default keys parse");
            views.entry(view).or_default().insert(key, action);
        }
        KeyMap {
            views,
            ascii: false,
        }
    }
}

impl KeyMap {
    /// The defaults with the `[keys.<view>]` overrides of `keys` applied. `file` names the config
    /// file in error messages.
    pub fn with_overrides(
        keys: &BTreeMap<String, BTreeMap<String, String>>,
        file: &Path,
    ) -> Result<KeyMap> {
        let mut map = KeyMap::default();
        for (view_name, table) in keys {
            let Some(view) = View::ALL.into_iter().find(|v| v.name() == view_name) else {
                let known: Vec<_> = View::ALL.iter().map(|v| v.name()).collect();
                bail!(
                    "{}: [keys.{view_name}]: unknown view `{view_name}`; key tables are {}",
                    location(file, view_name, None),
                    known
                        .iter()
                        .map(|k| format!("[keys.{k}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            for (key_text, action_name) in table {
                let key = Key::parse(key_text).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: [keys.{view_name}] \"{key_text}\": {e}",
                        location(file, view_name, Some(key_text))
                    )
                })?;
                let bindings = map.views.entry(view).or_default();
                if action_name == "none" {
                    bindings.remove(&key);
                    continue;
                }
                let Some(action) = Action::from_name(action_name) else {
                    bail!(
                        "{}: [keys.{view_name}] \"{key_text}\" = \"{action_name}\": unknown action `{action_name}`{}\n  \
                         known actions: {}, or \"none\" to unbind the key",
                        location(file, view_name, Some(key_text)),
                        did_you_mean(action_name),
                        Action::BINDABLE
                            .iter()
                            .map(|a| a.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                bindings.insert(key, action);
            }
        }
        Ok(map)
    }

    pub fn action(&self, view: View, key: &Key) -> Option<Action> {
        self.views.get(&view)?.get(key).copied()
    }

    /// Keys bound to `action` in `view`, in a stable order.
    pub fn keys_for(&self, view: View, action: Action) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .views
            .get(&view)
            .map(|b| {
                b.iter()
                    .filter(|(_, a)| **a == action)
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default();
        // Plain characters first (what vim users type), then named keys, then chords.
        keys.sort_by_key(|k| {
            (
                k.ctrl || k.alt,
                !matches!(k.code, KeyCode::Char(_)),
                k.to_string(),
            )
        });
        keys
    }

    /// The first key bound to `action` in `view`, for hints (`/ search`).
    pub fn hint(&self, view: View, action: Action) -> Option<String> {
        let keys = self.keys_for(view, action);
        // Prefer a plain character over named keys: it is what the user types.
        keys.iter()
            .find(|k| matches!(k.code, KeyCode::Char(_)) && !k.ctrl && !k.alt)
            .or(keys.first())
            .map(|k| k.label(self.ascii))
    }

    /// `(view, [(keys, action)])` for every view, actions in `Action::BINDABLE` order: what the
    /// help overlay shows.
    pub fn help_rows(&self) -> Vec<(View, Vec<(String, Action)>)> {
        View::ALL
            .into_iter()
            .map(|view| {
                let rows = Action::BINDABLE
                    .iter()
                    .copied()
                    .filter_map(|a| {
                        let keys = self.keys_for(view, a);
                        (!keys.is_empty()).then(|| {
                            let text: Vec<String> =
                                keys.iter().map(|k| k.label(self.ascii)).collect();
                            (text.join(" "), a)
                        })
                    })
                    .collect();
                (view, rows)
            })
            .collect()
    }
}

fn did_you_mean(name: &str) -> String {
    let names: Vec<String> = Action::BINDABLE.iter().map(|a| a.name()).collect();
    crate::search::did_you_mean(name, names.iter().map(String::as_str))
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

/// `file:line` of `[keys.<view>]` (or of one key in it) for error messages; just the file when
/// the line cannot be found (the file was already parsed once, so this is only a fallback).
fn location(file: &Path, view: &str, key: Option<&str>) -> String {
    let line = || -> Option<usize> {
        let text = std::fs::read_to_string(file).ok()?;
        let doc = toml_edit::Document::parse(text.as_str()).ok()?;
        let table = doc.get("keys")?.get(view)?;
        let span = match key {
            Some(k) => table.as_table_like()?.get_key_value(k)?.0.span()?,
            None => table.span()?,
        };
        Some(text.get(..span.start)?.matches('\n').count() + 1)
    };
    match line() {
        Some(n) => format!("{}:{n}", file.display()),
        None => file.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_keys() {
        assert_eq!(Key::parse("G").unwrap(), Key::char('G'));
        assert_eq!(Key::parse("shift-g").unwrap(), Key::char('G'));
        let ctrl_c = Key::parse("ctrl-c").unwrap();
        assert!(ctrl_c.ctrl);
        assert_eq!(ctrl_c.to_string(), "ctrl-c");
        assert_eq!(Key::parse("PageDown").unwrap().code, KeyCode::PageDown);
        assert_eq!(Key::parse("f5").unwrap().code, KeyCode::F(5));
        assert!(Key::parse("nope").is_err());
    }

    #[test]
    fn event_normalisation_matches_parsed_keys() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(Key::from_event(&ev), Key::char('G'));
        let ev = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(Key::from_event(&ev), Key::parse("ctrl-c").unwrap());
    }

    #[test]
    fn every_bindable_action_can_be_bound_by_its_name() {
        for &a in Action::BINDABLE {
            let keys = BTreeMap::from([(
                "main".to_owned(),
                BTreeMap::from([("f9".to_owned(), a.name())]),
            )]);
            let map = KeyMap::with_overrides(&keys, Path::new("config.toml")).unwrap();
            assert_eq!(map.action(View::Main, &Key::parse("f9").unwrap()), Some(a));
        }
    }
}
