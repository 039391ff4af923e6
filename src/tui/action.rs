//! What the user (or the runtime) asks for, and what `update` asks the runtime to do.
//!
//! `Action` is deserialised from config strings (`[keys.main] "x" = "quit"`), so every variant a
//! user may bind is a unit variant in snake_case. Variants that carry data come from the runtime
//! (mouse, resize, typed text) and are `#[serde(skip)]`: they cannot be bound to a key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the workbench (later: asks first when jobs run).
    Quit,
    /// Leave now (later: cancelling running jobs).
    ForceQuit,
    MoveUp,
    MoveDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the selected group, or focus the detail pane on a package.
    Expand,
    /// Close the selected group, or go to the parent group.
    Collapse,
    /// Open or close the selected group.
    Toggle,
    NextPane,
    PrevPane,
    /// Start typing a fuzzy search.
    Search,
    /// Keep the search as a filter and return to the tree.
    SearchConfirm,
    /// Clear the search and return to the tree.
    SearchCancel,
    SearchBackspace,
    /// Clear the search query (from the tree).
    ClearSearch,
    FilterTier1,
    FilterTier2,
    FilterTier3,
    FilterTierAll,
    /// Cycle the category filter: all -> infrastructure -> application -> utility -> library.
    CycleCategory,
    /// Show or hide the key help.
    Help,
    /// Close the topmost overlay (help, later dialogs).
    CloseOverlay,
    /// Typed character while searching.
    #[serde(skip)]
    SearchInput(char),
    /// Terminal size changed (also sent once at start).
    #[serde(skip)]
    Resize {
        width: u16,
        height: u16,
    },
    /// Left mouse button pressed at a screen cell.
    #[serde(skip)]
    Click {
        column: u16,
        row: u16,
    },
    /// Mouse wheel over a screen cell.
    #[serde(skip)]
    Scroll {
        column: u16,
        row: u16,
        down: bool,
    },
    /// Periodic timer (spinners, elapsed times once jobs exist).
    #[serde(skip)]
    Tick,
}

impl Action {
    /// Every action a key can be bound to, in the order the help overlay lists them.
    pub const BINDABLE: [Action; 25] = [
        Action::MoveUp,
        Action::MoveDown,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Expand,
        Action::Collapse,
        Action::Toggle,
        Action::NextPane,
        Action::PrevPane,
        Action::Search,
        Action::SearchConfirm,
        Action::SearchCancel,
        Action::SearchBackspace,
        Action::ClearSearch,
        Action::FilterTier1,
        Action::FilterTier2,
        Action::FilterTier3,
        Action::FilterTierAll,
        Action::CycleCategory,
        Action::Help,
        Action::CloseOverlay,
        Action::Quit,
        Action::ForceQuit,
    ];

    /// The config name (`move_down`), as serde spells it.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{self:?}"))
    }

    /// Parses a config name; None for unknown names.
    pub fn from_name(name: &str) -> Option<Action> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::ForceQuit => "quit now",
            Action::MoveUp => "move up",
            Action::MoveDown => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to top",
            Action::Bottom => "go to bottom",
            Action::Expand => "expand / open detail",
            Action::Collapse => "collapse / go to parent",
            Action::Toggle => "toggle group",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Search => "fuzzy search",
            Action::SearchConfirm => "keep filter, back to tree",
            Action::SearchCancel => "clear search, back to tree",
            Action::SearchBackspace => "delete a character",
            Action::ClearSearch => "clear search filter",
            Action::FilterTier1 => "only tier 1",
            Action::FilterTier2 => "only tier 2",
            Action::FilterTier3 => "only tier 3",
            Action::FilterTierAll => "all tiers",
            Action::CycleCategory => "cycle category filter",
            Action::Help => "toggle help",
            Action::CloseOverlay => "close",
            Action::SearchInput(_) => "type into search",
            Action::Resize { .. } => "resize",
            Action::Click { .. } => "click",
            Action::Scroll { .. } => "scroll",
            Action::Tick => "tick",
        }
    }
}

/// What the runtime must do after an update. The UI never performs effects itself: later variants
/// (submit a build job, cancel a job, open `$EDITOR`, write a hash fix) go here, and the runtime
/// executes them against the job engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Restore the terminal and exit 0.
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Action::BINDABLE {
            assert_eq!(Action::from_name(&a.name()), Some(a), "{a:?}");
        }
        assert_eq!(Action::MoveDown.name(), "move_down");
        assert_eq!(Action::FilterTier1.name(), "filter_tier1");
        assert_eq!(
            Action::from_name("tick"),
            None,
            "runtime-only actions are not bindable"
        );
        assert_eq!(Action::from_name("search_input"), None);
    }
}
