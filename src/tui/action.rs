//! What the user (or the runtime) asks for, and what `update` asks the runtime to do.
//!
//! `Action` is deserialised from config strings (`[keys.main] "x" = "quit"`), so every variant a
//! user may bind is a unit variant in snake_case. Variants that carry data come from the runtime
//! (mouse, resize, typed text) and are `#[serde(skip)]`: they cannot be bound to a key.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::jobs::logpage::{LogPage, LogRange, LogSeek};
use crate::jobs::spec::FailureSummary;
use crate::jobs::{JobId, JobSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the workbench; asks first when jobs run (then cancels them).
    Quit,
    /// Leave now, cancelling running jobs.
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
    /// Close the topmost overlay (help, log, jobs, dialogs).
    CloseOverlay,
    /// Build the selected package (on a tier or org line: every package shown in it).
    Build,
    /// Build every package the current filter shows.
    BuildShown,
    /// Build the whole catalog.
    BuildAll,
    /// Run the selected package's tests (smoke and VM checks).
    Test,
    /// Open the log of the selected package's running or last job (in the jobs view: of the
    /// selected job).
    OpenLog,
    /// Enter on a package: its log when it has one, else the detail pane.
    OpenLogOrToggle,
    /// Write the `got:` hash of a hash mismatch into package.toml, then offer a rebuild.
    FixHash,
    /// Open the selected package's package.toml in $EDITOR.
    OpenEditor,
    /// The jobs view.
    Jobs,
    /// Cancel the selected job (main view: the selected package's running job).
    CancelJob,
    /// Run the selected job again.
    RerunJob,
    /// Run every failed job again.
    RerunFailed,
    /// Open a saved internal-json log file (asks for the path).
    OpenLogFile,
    /// Score the services' hardening: evaluates the catalog's Nix code (restricted), so only on
    /// request.
    ScoreHardening,
    /// Log view: follow new lines on / off.
    ToggleFollow,
    /// Log view: wrap long lines on / off.
    ToggleWrap,
    /// Log view: next search match.
    SearchNext,
    /// Log view: previous search match.
    SearchPrev,
    /// Log view: jump to the first error line.
    FirstError,
    /// Log view: show only one derivation's lines (cycles through them, then all).
    CycleDrv,
    /// Log view: save the log to a file.
    SaveLog,
    /// Answer yes in a confirm dialog.
    Confirm,
    /// Typed character while searching (or into a prompt).
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
    pub const BINDABLE: [Action; 47] = [
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
        Action::Build,
        Action::BuildShown,
        Action::BuildAll,
        Action::Test,
        Action::OpenLog,
        Action::OpenLogOrToggle,
        Action::FixHash,
        Action::OpenEditor,
        Action::Jobs,
        Action::CancelJob,
        Action::RerunJob,
        Action::RerunFailed,
        Action::OpenLogFile,
        Action::ScoreHardening,
        Action::ToggleFollow,
        Action::ToggleWrap,
        Action::SearchNext,
        Action::SearchPrev,
        Action::FirstError,
        Action::CycleDrv,
        Action::SaveLog,
        Action::Confirm,
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
            Action::Build => "build selected / its group",
            Action::BuildShown => "build everything shown",
            Action::BuildAll => "build the whole catalog",
            Action::Test => "run the package's tests",
            Action::OpenLog => "log of last / running job",
            Action::OpenLogOrToggle => "log, else toggle / detail",
            Action::FixHash => "fix hash mismatch (got:)",
            Action::OpenEditor => "edit package.toml ($EDITOR)",
            Action::Jobs => "jobs view",
            Action::CancelJob => "cancel job",
            Action::RerunJob => "re-run job",
            Action::RerunFailed => "re-run all failed",
            Action::OpenLogFile => "open a saved log file",
            Action::ScoreHardening => "score hardening (nix eval)",
            Action::ToggleFollow => "follow on / off",
            Action::ToggleWrap => "wrap on / off",
            Action::SearchNext => "next match",
            Action::SearchPrev => "previous match",
            Action::FirstError => "first error",
            Action::CycleDrv => "filter by derivation",
            Action::SaveLog => "save log to a file",
            Action::Confirm => "yes",
            Action::SearchInput(_) => "type into search",
            Action::Resize { .. } => "resize",
            Action::Click { .. } => "click",
            Action::Scroll { .. } => "scroll",
            Action::Tick => "tick",
        }
    }
}

/// What the runtime must do after an update. The UI never performs effects itself: it returns
/// these, and the runtime executes them against the job engine, the file system or the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Cancel running jobs (if any), wait for nix to exit, restore the terminal and exit 0.
    Quit,
    /// Build (or test) these catalog packages, one job per target.
    Build {
        packages: Vec<String>,
        tests: bool,
    },
    /// Submit these exact jobs again (re-run).
    Submit(Vec<JobSpec>),
    Cancel(JobId),
    CancelAll,
    /// Suspend the UI and edit this file in `$EDITOR`, then reload the catalog.
    OpenEditor(PathBuf),
    /// Write the `got:` hash of `failure` into `package`'s package.toml.
    FixHash {
        package: String,
        failure: FailureSummary,
    },
    /// Fill the log view showing `source` with the page `range`.
    LoadLog {
        source: LogSource,
        range: LogRange,
    },
    /// Write the whole log of `source` (plain text, ANSI stripped) to a file named after `name`
    /// in the state dir.
    SaveLog {
        source: LogSource,
        name: String,
    },
    /// Re-read these packages' records from the status store (after a job finished).
    RefreshStatus(Vec<String>),
    /// Evaluate the catalog (restricted) and score every service's hardening.
    ScoreHardening,
    /// Look through the whole log of `source` (not only the view's window), streaming.
    SeekLog {
        source: LogSource,
        seek: LogSeek,
    },
}

/// What the runtime reports back after performing a command or a background task; folded into
/// the state by `update::on_feedback`.
#[derive(Debug, Clone)]
pub enum Feedback {
    /// Status store records, per package (a full snapshot or a refresh of some).
    Statuses(std::collections::HashMap<String, crate::jobs::PackageStatus>),
    Hardening(super::app::Hardening),
    LogPage {
        source: LogSource,
        page: Result<LogPage, String>,
    },
    LogSaved {
        source: LogSource,
        result: Result<PathBuf, String>,
    },
    /// The display line a `Command::SeekLog` found (None: nowhere in the log).
    LogSought {
        source: LogSource,
        seek: LogSeek,
        line: Result<Option<u64>, String>,
    },
    HashFixed {
        package: String,
        result: Result<crate::catalog::edit::FixReport, String>,
    },
    CatalogReloaded {
        catalog: crate::catalog::Catalog,
        invalid: usize,
    },
    Notice(super::app::Notice),
}

/// Where a log view's lines come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// A job of this session (its ring while it runs, its log file after).
    Job {
        id: JobId,
        log_file: Option<PathBuf>,
    },
    /// A log file on disk: a finished job's, or a saved internal-json log.
    File(PathBuf),
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
