//! The TUI's whole state. Views draw from it; only `update` changes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use crate::catalog::{Catalog, Category, Diagnostic, InvalidPackage, Package, Tier};
use crate::jobs::{JobId, Outcome};
use crate::search;

use super::action::Action;
use super::jobs::JobTable;
use super::keymap::{KeyMap, View};
use super::logview::LogView;
use super::messages::{Message, MessageLog};
use super::theme::Theme;

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Detail,
}

/// Whether keys go to the search query or are commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Search,
}

/// Something drawn over the main screen that takes the keys while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Log(Box<LogView>),
    Jobs {
        /// Index into `JobTable::ordered()`.
        selected: usize,
    },
    /// A yes/no question; `Confirm` (y, enter) performs `on_yes`.
    Confirm {
        message: String,
        on_yes: OnYes,
    },
    /// The updates view: upstream rows as they stream in.
    Updates(Box<super::updates::UpdatesView>),
    /// A bump's diff, for a yes (write it) or no.
    BumpPreview {
        package: String,
        preview: Box<super::updates::BumpPreview>,
    },
    /// A one-line text prompt (the path of a log file to open).
    Prompt {
        label: String,
        text: String,
    },
    /// The new-package wizard.
    Wizard(Box<super::wizard::Wizard>),

    /// Every diagnostic of the catalog, like `atwb check`.
    Problems {
        /// Index into `App::problems`.
        selected: usize,
    },
    /// The last messages of the status bar, newest first.
    Messages {
        scroll: u16,
    },

    /// A metadata or service options form.
    Form(Box<super::forms::Form>),
    /// Recomputed hashes, old against new; `Confirm` writes them.
    Hashes(Box<crate::jobs::rehash::PackageHashes>),
}

/// What a confirm dialog does when answered yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnYes {
    /// Cancel every job and quit.
    QuitCancelling,
    /// Build these packages (after a hash fix).
    Rebuild(Vec<String>),
    /// Open this file in `$EDITOR` again (it still has errors after an edit).
    EditAgain { file: PathBuf, line: Option<usize> },
    /// Build these packages as one batch, summed up when the last finishes (`a`, `B`, a group).
    BuildBatch(Vec<String>),
    /// Ask the binary caches about these packages (`P`, `p` on a group).
    CheckCaches(Vec<String>),
}

/// The hardening scores of the catalog's services. Computing them evaluates the catalog's Nix
/// code, so it happens only when the user asks (or they come from the cache of a previous run on
/// the same files).
#[derive(Debug, Clone, PartialEq)]
pub enum Hardening {
    /// Not asked for, and nothing cached for the catalog as it is.
    NotScored,
    Pending,
    /// nix or systemd-analyze is missing, or the evaluation failed (the reason).
    Unavailable(String),
    /// Per service name: the exposure score, or why that service could not be scored.
    Scores(BTreeMap<String, Result<f32, String>>),
}

/// A one-line message in the status bar (results of commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// Identity of a tree node, stable across filtering (the selection follows it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKey {
    Tier(Tier),
    Org(Tier, String),
    /// Index into `catalog.packages`.
    Package(usize),
    /// Index into `App::invalid`.
    Invalid(usize),
    /// The group of invalid packages whose tier is unknown.
    Unplaced,
}

/// One visible line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Tier {
        tier: Tier,
        count: usize,
        expanded: bool,
    },
    Org {
        tier: Tier,
        org: String,
        count: usize,
        expanded: bool,
    },
    Package {
        index: usize,
    },
    /// A package folder that did not load (`⚠`); index into `App::invalid`.
    Invalid {
        index: usize,
    },
    /// The invalid packages whose file does not say (readably) which tier they are.
    Unplaced {
        count: usize,
        expanded: bool,
    },
}

impl Row {
    /// Whether this line shows the node `key` (no allocation, unlike comparing `key()`).
    pub fn is(&self, key: &NodeKey) -> bool {
        match (self, key) {
            (Row::Tier { tier, .. }, NodeKey::Tier(t)) => tier == t,
            (Row::Org { tier, org, .. }, NodeKey::Org(t, o)) => tier == t && org == o,
            (Row::Package { index }, NodeKey::Package(i))
            | (Row::Invalid { index }, NodeKey::Invalid(i)) => index == i,
            (Row::Unplaced { .. }, NodeKey::Unplaced) => true,
            _ => false,
        }
    }

    pub fn key(&self) -> NodeKey {
        match self {
            Row::Tier { tier, .. } => NodeKey::Tier(*tier),
            Row::Org { tier, org, .. } => NodeKey::Org(*tier, org.clone()),
            Row::Package { index } => NodeKey::Package(*index),
            Row::Invalid { index } => NodeKey::Invalid(*index),
            Row::Unplaced { .. } => NodeKey::Unplaced,
        }
    }
}

/// The filters that decide which packages are shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub tier: Option<Tier>,
    pub category: Option<Category>,
    pub query: String,
}

/// A package's build status as the tree and detail show it: a build queued or running in this
/// session, else the last build recorded in the status store (stale when its files changed
/// since).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PackageStatus {
    Building,
    Ok,
    Failed,
    Cancelled,
    Stale,
    NeverBuilt,
}

impl PackageStatus {
    /// Title-bar order.
    pub const ALL: [PackageStatus; 6] = [
        PackageStatus::Building,
        PackageStatus::Ok,
        PackageStatus::Failed,
        PackageStatus::Cancelled,
        PackageStatus::NeverBuilt,
        PackageStatus::Stale,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PackageStatus::Building => "building",
            PackageStatus::Ok => "ok",
            PackageStatus::Failed => "failed",
            PackageStatus::Cancelled => "cancelled",
            PackageStatus::Stale => "stale",
            PackageStatus::NeverBuilt => "never built",
        }
    }

    /// The short word of the title bar's counts.
    pub fn count_label(self) -> &'static str {
        match self {
            PackageStatus::NeverBuilt => "never",
            other => other.label(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub catalog: Catalog,
    /// How the title bar names the catalog (a path relative to the working directory if possible).
    pub catalog_label: String,
    /// Number of invalid `package.toml` files left out of the catalog (`atwb check` lists them).
    pub diagnostics: usize,
    /// The package folders that did not load, in tree order; shown as `⚠` rows.
    pub invalid: Vec<InvalidPackage>,
    /// Every diagnostic of the catalog (the problems view), sorted like `atwb check`'s.
    pub problems: Vec<Diagnostic>,
    /// Derived: invalid packages passing the filter.
    pub shown_invalid: Vec<usize>,
    /// The file `$EDITOR` was opened on, until the reload after it tells whether it still has
    /// errors (then the user is asked to edit again).
    pub editing: Option<PathBuf>,
    /// The user asked for a whole reload (`ctrl-r`): its summary is shown even without news.
    pub reload_requested: bool,
    /// Every status message shown, with its time (the history view).
    pub messages: MessageLog,
    pub keymap: KeyMap,
    /// Colours, styles and glyphs the views draw with.
    pub theme: Theme,
    /// The config file the keymap can be changed in, as the help overlay names it.
    pub config_file: String,
    pub filter: Filter,
    pub mode: Mode,
    pub focus: Pane,
    pub overlays: Vec<Overlay>,
    /// Groups the user closed. Everything else is open.
    pub collapsed: BTreeSet<NodeKey>,
    /// Derived: packages passing the filter, in catalog order.
    pub shown: Vec<usize>,
    /// Derived: search scores of matching packages (empty without a query).
    pub scores: HashMap<usize, i64>,
    /// The last query and every package it matched (before tier/category filters), so a longer
    /// query only re-ranks those (`search::rank_among`).
    pub(crate) search_cache: Option<(String, Vec<usize>)>,
    /// Derived: the visible tree lines.
    pub rows: Vec<Row>,
    /// Index into `rows`.
    pub selected: usize,
    /// First visible tree line.
    pub tree_offset: usize,
    pub detail_scroll: u16,
    /// Terminal size, from the runtime's resize actions.
    pub width: u16,
    pub height: u16,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// Jobs of this session, from the engine's events.
    pub jobs: JobTable,
    /// Snapshot of the status store, per package name (refreshed by the runtime after each job).
    pub statuses: HashMap<String, crate::jobs::PackageStatus>,
    /// The bulk build in progress, for its summary notice.
    pub batch: Option<crate::tui::jobs::Batch>,
    /// The status store has been read (until then the title bar says so).
    pub statuses_loaded: bool,
    /// Per package, its binary-cache state while its newest evaluation is current.
    pub caches: HashMap<String, crate::jobs::store::CacheStatus>,
    /// Per package, its last cache check that could not evaluate it, while current (as `caches`).
    pub cache_failures: HashMap<String, crate::jobs::store::CacheFailure>,
    /// The cache check running in the background: how many targets, and its last stage.
    pub cache_check: Option<(usize, Option<crate::jobs::cache_check::CheckStage>)>,
    pub hardening: Hardening,
    /// The hash computation running in the background: the package and its last step.
    pub hashing: Option<(String, Option<crate::jobs::rehash::HashStep>)>,
    pub notice: Option<Notice>,
    /// The clock, set by the runtime before every update (update itself never reads it).
    pub now: Instant,
    /// Wall-clock seconds, set with `now` (for "5m ago").
    pub unix_now: u64,
    /// A package to select once the catalog has been reloaded (the wizard wrote it).
    pub select_after_reload: Option<String>,

    /// Upstream checks started (each updates view's rows carry their check's number).
    pub upstream_checks: u64,
}

impl App {
    /// Every package's name, for a status refresh.
    pub fn package_names(&self) -> Vec<String> {
        self.catalog
            .packages
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    pub fn new(catalog: Catalog, catalog_label: String, diagnostics: usize, keymap: KeyMap) -> App {
        let mut app = App {
            catalog,
            catalog_label,
            diagnostics,
            invalid: Vec::new(),
            problems: Vec::new(),
            shown_invalid: Vec::new(),
            editing: None,
            reload_requested: false,
            messages: MessageLog::default(),
            keymap,
            theme: Theme::default(),
            config_file: "~/.config/atwb/config.toml".to_owned(),
            filter: Filter::default(),
            mode: Mode::Normal,
            focus: Pane::Tree,
            overlays: Vec::new(),
            collapsed: BTreeSet::new(),
            shown: Vec::new(),
            scores: HashMap::new(),
            search_cache: None,
            rows: Vec::new(),
            selected: 0,
            tree_offset: 0,
            detail_scroll: 0,
            width: 80,
            height: 24,
            dirty: true,
            jobs: JobTable::default(),
            statuses: HashMap::new(),
            batch: None,
            statuses_loaded: false,
            caches: HashMap::new(),
            cache_failures: HashMap::new(),
            cache_check: None,
            hardening: Hardening::NotScored,
            notice: None,
            hashing: None,
            now: Instant::now(),
            unix_now: 0,
            select_after_reload: None,

            upstream_checks: 0,
        };
        app.refilter();
        // Start on the first package rather than on a group header.
        if let Some(i) = app
            .rows
            .iter()
            .position(|r| matches!(r, Row::Package { .. }))
        {
            app.selected = i;
        }
        app
    }

    /// The view whose key bindings apply now.
    pub fn view(&self) -> View {
        match self.overlays.last() {
            Some(Overlay::Help { .. }) => View::Help,
            Some(Overlay::Log(l)) if l.typing.is_some() => View::Search,
            Some(Overlay::Log(_)) => View::Log,
            Some(Overlay::Jobs { .. }) => View::Jobs,
            Some(Overlay::Confirm { .. } | Overlay::BumpPreview { .. } | Overlay::Hashes(_)) => {
                View::Confirm
            }
            Some(Overlay::Updates(u)) if u.typing => View::Search,
            Some(Overlay::Updates(_)) => View::Updates,
            Some(Overlay::Prompt { .. } | Overlay::Wizard(_)) => View::Search,
            Some(Overlay::Problems { .. }) => View::Problems,
            Some(Overlay::Messages { .. }) => View::Messages,
            Some(Overlay::Form(f)) if f.dialog.is_some() => View::FormDialog,
            Some(Overlay::Form(f)) if f.editing.is_some() => View::FormEdit,
            Some(Overlay::Form(_)) => View::Form,
            None if self.mode == Mode::Search => View::Search,
            None => View::Main,
        }
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    pub fn selected_package(&self) -> Option<&Package> {
        match self.selected_row()? {
            Row::Package { index } => self.catalog.packages.get(*index),
            _ => None,
        }
    }

    pub fn status(&self, index: usize) -> PackageStatus {
        let Some(p) = self.catalog.packages.get(index) else {
            return PackageStatus::NeverBuilt;
        };
        if self.jobs.building(&p.name) {
            return PackageStatus::Building;
        }
        let Some(s) = self.statuses.get(&p.name) else {
            return PackageStatus::NeverBuilt;
        };
        let Some(b) = &s.last_build else {
            return PackageStatus::NeverBuilt;
        };
        if s.stale {
            return PackageStatus::Stale;
        }
        match b.outcome {
            Outcome::Ok => PackageStatus::Ok,
            Outcome::Failed | Outcome::TimedOut => PackageStatus::Failed,
            // No result either way: the tree marks both alike, the detail names the outcome.
            Outcome::Cancelled | Outcome::Interrupted => PackageStatus::Cancelled,
        }
    }

    /// The open log view, if it is the top overlay.
    pub fn log_view_mut(&mut self) -> Option<&mut LogView> {
        match self.overlays.last_mut() {
            Some(Overlay::Log(l)) => Some(l),
            _ => None,
        }
    }

    /// Any open log view showing job `id` (it may be under a dialog).
    pub fn log_view_of_job(&mut self, id: JobId) -> Option<&mut LogView> {
        self.overlays.iter_mut().find_map(|o| match o {
            Overlay::Log(l) if matches!(l.source, super::action::LogSource::Job { id: j, .. } if j == id) => {
                Some(l.as_mut())
            }
            _ => None,
        })
    }

    /// Whether the view on top shows job `id`'s derivation tree (a new tree needs a redraw).
    pub fn tree_pane_shows(&self, id: JobId) -> bool {
        matches!(self.overlays.last(), Some(Overlay::Log(l)) if l.show_tree
            && matches!(l.source, super::action::LogSource::Job { id: j, .. } if j == id))
    }

    /// Shows `text` in the status bar until the next key press.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        self.messages.push(Message {
            text: text.clone(),
            error,
            unix: self.unix_now,
        });
        self.notice = Some(Notice { text, error });
    }

    /// The hardening score of `service` as the detail pane shows it.
    pub fn hardening_text(&self, service: &str) -> String {
        match &self.hardening {
            Hardening::NotScored => match self.keymap.hint(View::Main, Action::ScoreHardening) {
                Some(key) => format!("not scored ({key})"),
                None => "not scored".into(),
            },
            Hardening::Pending => "…".into(),
            Hardening::Unavailable(_) => "n/a".into(),
            Hardening::Scores(s) => match s.get(service) {
                Some(Ok(score)) => format!("{score:.1}"),
                Some(Err(_)) | None => "n/a".into(),
            },
        }
    }

    /// Counts of the packages in `indices` per status (for group rows and the title bar).
    pub fn counts_of(
        &self,
        indices: impl IntoIterator<Item = usize>,
    ) -> BTreeMap<PackageStatus, usize> {
        let mut c = BTreeMap::new();
        for i in indices {
            *c.entry(self.status(i)).or_insert(0) += 1;
        }
        c
    }

    /// Replace the catalog after a reload, keeping the selection on the same package folder
    /// (also when it turned valid or invalid) and the scroll.
    pub fn replace_catalog(&mut self, loaded: crate::catalog::Loaded) {
        let selected = self.selected_dir();
        self.catalog = loaded.catalog;
        self.set_problems(loaded.invalid, loaded.diagnostics);
        self.search_cache = None;
        self.refilter();
        self.select_dir(selected.as_deref());
    }

    /// Recomputes which packages are shown (after a filter change) and rebuilds the tree.
    pub fn refilter(&mut self) {
        let packages = &self.catalog.packages;
        let query = self.filter.query.trim();
        if query.is_empty() {
            self.scores = HashMap::new();
            self.search_cache = None;
        } else {
            let ranked = match &self.search_cache {
                Some((previous, hits)) if query.starts_with(previous.as_str()) => {
                    search::rank_among(packages, hits, query)
                }
                _ => search::rank(packages, query),
            };
            self.search_cache = Some((query.to_owned(), ranked.iter().map(|h| h.0).collect()));
            self.scores = ranked.into_iter().collect();
        }
        let searching = !query.is_empty();
        self.shown = (0..packages.len())
            .filter(|&i| {
                let p = &packages[i];
                self.filter.tier.is_none_or(|t| p.tier == t)
                    && self.filter.category.is_none_or(|c| p.category == c)
                    && (!searching || self.scores.contains_key(&i))
            })
            .collect();
        self.shown_invalid = self.invalid_passing_filter();
        self.rebuild_rows();
    }

    /// Selects the best search match (after the query changed).
    pub fn select_best_match(&mut self) {
        let best = self
            .scores
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&i, _)| i);
        if let Some(pos) =
            best.and_then(|i| self.rows.iter().position(|r| r.is(&NodeKey::Package(i))))
        {
            self.selected = pos;
        }
    }

    /// Number of packages per status, for the title bar, in `PackageStatus::ALL` order.
    pub fn status_counts(&self) -> Vec<(PackageStatus, usize)> {
        let c = self.counts_of(0..self.catalog.packages.len());
        PackageStatus::ALL
            .into_iter()
            .map(|s| (s, c.get(&s).copied().unwrap_or(0)))
            .collect()
    }
}

/// The next category in the `C` cycle: all -> each category -> all.
pub fn next_category(current: Option<Category>) -> Option<Category> {
    match current {
        None => Some(Category::ALL[0]),
        Some(c) => {
            let i = Category::ALL.iter().position(|&x| x == c).unwrap_or(0);
            Category::ALL.get(i + 1).copied()
        }
    }
}
