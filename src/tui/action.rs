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

/// Defines `Action` and, from the same list, `Action::BINDABLE` (every unit variant a key can be
/// bound to, in the order the help overlay lists them) and `Action::describe`. Runtime-only
/// variants are `#[serde(skip)]`, so no config string names them. One list, so a new action is
/// bindable and described as soon as it exists.
macro_rules! actions {
    (
        bindable { $( $(#[$bm:meta])* $bind:ident => $bdesc:literal, )* }
        runtime { $(
            $(#[$rm:meta])* $run:ident
            $( ( $($tuple:ty),* ) )? $( { $($field:ident : $fty:ty),* } )? => $rdesc:literal,
        )* }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $( $(#[$bm])* $bind, )*
            $(
                $(#[$rm])* #[serde(skip)]
                $run $( ( $($tuple),* ) )? $( { $($field : $fty),* } )?,
            )*
        }

        impl Action {
            /// Every action a key can be bound to, in the order the help overlay lists them.
            pub const BINDABLE: &[Action] = &[$(Action::$bind),*];

            /// One line for the help overlay.
            pub fn describe(self) -> &'static str {
                match self {
                    $( Action::$bind => $bdesc, )*
                    $( Action::$run { .. } => $rdesc, )*
                }
            }
        }
    };
}

actions! {
    bindable {
        MoveUp => "move up",
        MoveDown => "move down",
        PageUp => "page up",
        PageDown => "page down",
        Top => "go to top",
        Bottom => "go to bottom",
        /// Open the selected group, or focus the detail pane on a package.
        Expand => "expand / open detail",
        /// Close the selected group, or go to the parent group.
        Collapse => "collapse / go to parent",
        /// Open or close the selected group.
        Toggle => "toggle group",
        NextPane => "next pane",
        PrevPane => "previous pane",
        /// Start typing a fuzzy search.
        Search => "fuzzy search",
        /// Keep the search as a filter and return to the tree.
        SearchConfirm => "keep filter, back to tree",
        /// Clear the search and return to the tree.
        SearchCancel => "clear search, back to tree",
        SearchBackspace => "delete a character",
        /// Clear the search query (from the tree).
        ClearSearch => "clear search filter",
        FilterTier1 => "only tier 1",
        FilterTier2 => "only tier 2",
        FilterTier3 => "only tier 3",
        FilterTierAll => "all tiers",
        /// Cycle the category filter: all -> infrastructure -> application -> utility -> library.
        CycleCategory => "cycle category filter",
        /// Show or hide the key help.
        Help => "toggle help",
        /// Close the topmost overlay (help, log, jobs, dialogs).
        CloseOverlay => "close",
        /// Leave the workbench; asks first when jobs run (then cancels them).
        Quit => "quit",
        /// Leave now, cancelling running jobs.
        ForceQuit => "quit now",
        /// Build the selected package (on a tier or org line: every package shown in it).
        Build => "build selected / its group",
        /// Build every package the current filter shows.
        BuildShown => "build everything shown",
        /// Build the whole catalog.
        BuildAll => "build the whole catalog",
        /// Run the selected package's tests (smoke and VM checks).
        Test => "run the package's tests",
        /// Open the log of the selected package's running or last job (in the jobs view: of the
        /// selected job).
        OpenLog => "log of last / running job",
        /// Enter on a package: its log when it has one, else the detail pane.
        OpenLogOrToggle => "log, else toggle / detail",
        /// Write the `got:` hash of a hash mismatch into package.toml, then offer a rebuild.
        FixHash => "fix hash mismatch (got:)",
        /// Open the selected package's package.toml in $EDITOR.
        OpenEditor => "edit package.toml ($EDITOR)",
        /// The jobs view.
        Jobs => "jobs view",
        /// Cancel the selected job (main view: the selected package's running job).
        CancelJob => "cancel job",
        /// Run the selected job again.
        RerunJob => "re-run job",
        /// Run every failed job again.
        RerunFailed => "re-run all failed",
        /// Jobs view: hide finished jobs, or show them again.
        ToggleHideFinished => "hide / show finished jobs",
        /// Jobs view: forget the finished jobs (running and queued ones stay).
        ClearFinished => "clear finished jobs",
        /// Open a saved internal-json log file (asks for the path).
        OpenLogFile => "open a saved log file",
        /// Score the services' hardening: evaluates the catalog's Nix code (restricted), so only
        /// on request.
        ScoreHardening => "score hardening (nix eval)",
        /// Log view: follow new lines on / off.
        ToggleFollow => "follow on / off",
        /// Log view: wrap long lines on / off.
        ToggleWrap => "wrap on / off",
        /// Log view: next search match.
        SearchNext => "next match",
        /// Log view: previous search match.
        SearchPrev => "previous match",
        /// Log view: jump to the first error line.
        FirstError => "first error",
        /// Log view: show only one derivation's lines (cycles through them, then all).
        CycleDrv => "filter by derivation",
        /// Log view: save the log to a file.
        SaveLog => "save log to a file",
        /// Answer yes in a confirm dialog.
        Confirm => "yes",
    }
    runtime {
        /// Typed character while searching (or into a prompt).
        SearchInput(char) => "type into search",
        /// Terminal size changed (also sent once at start).
        Resize { width: u16, height: u16 } => "resize",
        /// Left mouse button pressed at a screen cell.
        Click { column: u16, row: u16 } => "click",
        /// Mouse wheel over a screen cell.
        Scroll { column: u16, row: u16, down: bool } => "scroll",
        /// Periodic timer (spinners, elapsed times once jobs exist).
        Tick => "tick",
    }
}

impl Action {
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

    /// serde's own list of the names it accepts (from its "unknown variant" message), so this
    /// does not trust `BINDABLE` to describe the enum.
    fn serde_names() -> Vec<String> {
        let err = serde_json::from_str::<Action>("\"-\"")
            .unwrap_err()
            .to_string();
        let list = err.split("expected one of ").nth(1).expect(&err);
        list.split(',')
            .map(|n| n.trim().trim_matches('`').to_owned())
            .filter(|n| !n.is_empty())
            .map(|n| n.split('`').next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn every_name_serde_accepts_is_bindable_and_nothing_else() {
        let bindable: Vec<String> = Action::BINDABLE.iter().map(|a| a.name()).collect();
        let mut accepted = serde_names();
        assert!(accepted.len() > 40, "{accepted:?}");
        let mut sorted = bindable.clone();
        sorted.sort();
        accepted.sort();
        assert_eq!(sorted, accepted);
        // Each once: the help overlay lists each action on one row.
        sorted.dedup();
        assert_eq!(sorted.len(), bindable.len());
        for a in Action::BINDABLE {
            assert!(!a.describe().is_empty(), "{a:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for &a in Action::BINDABLE {
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
