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
        /// Recompute the selected package's source and dependency hashes natively (git objects,
        /// lockfile + cached crates) in the background, then offer to write them.
        HashPackage => "recompute hashes natively",
        /// Ask the binary caches whether they have the selected package (on a tier or org line:
        /// every package shown in it): evaluates its Nix code, builds nothing.
        CheckCache => "ask caches (selected)",
        /// Ask the binary caches about every package the current filter shows.
        CheckCacheShown => "ask caches (all shown)",
        /// Log view: follow new lines on / off.
        ToggleFollow => "follow on / off",
        /// Log view: wrap long lines on / off.
        ToggleWrap => "wrap on / off",
        /// Log view: the job's derivation tree pane on / off.
        ToggleTree => "derivation tree on / off",
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
        /// Scaffold a new package from a repository path or URL (a wizard).
        NewPackage => "new package (wizard)",

        /// Every diagnostic of the catalog, like `atwb check`.
        Problems => "problems view",
        /// Problems view: select the package of the selected diagnostic in the tree.
        JumpToPackage => "go to the package",
        /// The last status messages, whole, with their time.
        MessageHistory => "message history",
        /// Read every package file again.
        ReloadCatalog => "reload the catalog",

        /// The updates view: upstream heads, tags and commits behind (in it: check again).
        Updates => "updates view (upstream)",
        /// Updates view: bump the selected package (shows the diff, then writes).
        Bump => "bump to upstream (diff first)",
        /// Updates view: sort by status, name or commits behind.
        CycleSort => "cycle sort order",
        /// Updates view: show only outdated packages, or all.
        ToggleOutdatedOnly => "only outdated / all",

        /// The selected package's metadata form.
        MetadataForm => "metadata form",
        /// The selected package's service options form (asks which service if several).
        ServiceForm => "service options form",
        /// Form: edit the focused field (a pick list for a choice, toggle a boolean).
        FormEdit => "edit / pick / toggle field",
        /// Form: toggle a boolean field.
        FormToggle => "toggle a boolean",
        /// Form: write the file (refused while a field is invalid).
        FormSave => "save the form",
        FormUndo => "undo in the form",
        FormRedo => "redo in the form",
        /// Form: add an item to the focused list (after the focused item).
        FormAddItem => "add a list item",
        FormRemoveItem => "remove the list item",
        FormItemUp => "move the list item up",
        FormItemDown => "move the list item down",
        /// Service form: add an option to the service (asks its name).
        FormAddOption => "add a service option",
        /// Service form: remove the option the focus is in.
        FormRemoveOption => "remove the service option",
        /// Service form: add a service to the package (asks its name).
        FormAddService => "add a service",
        /// Service form: remove the service shown.
        FormRemoveService => "remove the service",
        /// Form editor: finish editing the field (the value stays; undo reverts it).
        FormEditDone => "finish editing / cancel pick",
        /// Form editor: a newline in multi-line text, else finish / choose.
        FormEditEnter => "newline / done / choose",
        /// Leaving a form with unsaved changes: drop them.
        FormDiscard => "discard changes and leave",
        /// Conflict view: keep the form's value of the selected field.
        FormKeepMine => "keep my value",
        /// Conflict view: take the value the file on disk holds.
        FormTakeDisk => "take the disk's value",
        /// Conflict view: drop the form's edits and open the file as it is on disk.
        FormReopen => "re-open from disk",
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
        /// A key typed into a form's field editor.
        FormKey(crate::tui::forms::EditKey) => "type into a form field",
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
    /// Suspend the UI and edit this file in `$EDITOR` (at `line` when the editor takes one),
    /// then reload the catalog.
    OpenEditor {
        file: PathBuf,
        line: Option<usize>,
    },
    /// Read the whole catalog again.
    ReloadCatalog,
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
    /// Open or clone `source` and detect a package proposal (the new-package wizard).
    DetectPackage {
        source: String,
    },
    /// Write the wizard's accepted proposal into the catalog, then reload it.
    WritePackage(Box<crate::scaffold::Proposal>),

    /// Ask upstream about these packages; rows come back as `Feedback::Upstream`.
    CheckUpstream {
        check: u64,
        queries: Vec<crate::jobs::upstream::UpstreamQuery>,
    },
    /// Compute (not write) the bump of `package` to `to` (None: its default target).
    PlanBump {
        package: String,
        to: Option<String>,
    },
    /// Write the bump planned for this package.
    WriteBump(String),

    /// Read `path` for a form on `package`.
    OpenForm {
        package: String,
        path: PathBuf,
        kind: crate::tui::forms::FormKind,
    },
    /// Write a form's draft (refused when the file changed on disk), then reload the catalog.
    SaveForm {
        package: String,
        draft: Box<crate::tui::forms::Draft>,
    },
    /// Recompute `package`'s hashes natively in the background (`jobs::rehash`).
    ComputeHashes {
        package: String,
    },
    /// Evaluate these packages and ask the binary caches about their outputs (the engine's
    /// cache check); progress and the report come back as `JobEvent::CacheCheck`.
    CheckCaches(Vec<String>),
    /// Write recomputed hashes through the edit path (refused if the package changed since).
    WriteHashes(Box<crate::jobs::rehash::PackageHashes>),
}

/// What the runtime reports back after performing a command or a background task; folded into
/// the state by `update::on_feedback`.
#[derive(Debug, Clone)]
pub enum Feedback {
    /// Status store records, per package (a full snapshot or a refresh of some).
    Statuses(std::collections::HashMap<String, crate::jobs::PackageStatus>),
    Hardening(super::app::Hardening),
    /// The packages' cache states as the status store holds them (None: none is current).
    Caches(Vec<(String, Option<crate::jobs::store::CacheStatus>)>),
    /// The packages' failed cache checks as the status store holds them (None: none current).
    CacheFailures(Vec<(String, Option<crate::jobs::store::CacheFailure>)>),
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
    /// How far the hash computation of `package` got.
    HashProgress {
        package: String,
        step: crate::jobs::rehash::HashStep,
    },
    HashesComputed {
        package: String,
        result: Result<Box<crate::jobs::rehash::PackageHashes>, String>,
    },
    /// The files the hashes were written to.
    HashesWritten {
        package: String,
        result: Result<Vec<PathBuf>, String>,
    },
    /// The whole catalog, read again.
    CatalogReloaded(Box<crate::catalog::Loaded>),
    /// One package folder read again after its files changed on disk.
    PackageReloaded {
        dir: PathBuf,
        result: crate::catalog::Reloaded,
    },
    /// A package file changed on disk (the watcher saw it): a form open on it must not
    /// overwrite that change.
    PackageFileChanged(PathBuf, Option<Vec<u8>>),
    /// Files under the catalog's `lib/` changed: every package's build may be stale.
    LibChanged,
    Notice(super::app::Notice),
    /// The step detection of `source` has reached.
    WizardProgress {
        source: String,
        step: String,
    },
    /// Detection of `source` ended (a wizard waiting for another source ignores it).
    WizardDetected {
        source: String,
        result: Result<Box<crate::scaffold::Proposal>, String>,
    },
    /// The packages written, by name.
    WizardWritten(Result<Vec<String>, String>),

    /// One package's upstream row of check `check`.
    Upstream {
        check: u64,
        row: crate::jobs::upstream::UpstreamRow,
    },
    BumpPlanned {
        package: String,
        result: Result<super::updates::BumpPreview, String>,
    },
    /// The packages a bump wrote, or why it wrote nothing.
    BumpWritten {
        package: String,
        result: Result<Vec<String>, String>,
    },

    /// The file of a form, read (`Command::OpenForm`).
    FormOpened {
        package: String,
        kind: crate::tui::forms::FormKind,
        result: Result<crate::tui::forms::Draft, String>,
    },
    /// A form's save: what was written, or why not (a conflict carries the disk's file).
    FormSaved {
        package: String,
        result: Result<crate::tui::forms::Draft, crate::tui::forms::SaveError>,
    },
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
