//! The live state of one nix process, built by applying its internal-json events in order:
//! derivations and their status, the current phase, progress, transfers, the last log lines per
//! derivation, warnings and errors.
//!
//! Memory is bounded whatever the log size: per derivation only a count and the last
//! `tail_lines` lines (each clipped to [`MAX_KEPT_LINE`] bytes) are kept (the full log goes to
//! disk elsewhere), finished transfers are folded into totals, and only the first
//! [`MAX_MESSAGES`] warnings and errors are kept (plus counts). Records are kept for at most
//! [`MAX_DERIVATIONS`] derivations and [`MAX_LIVE_ACTIVITIES`] live activities, every kept
//! string is clipped, and the work per event does not grow with the number of derivations.
//!
//! Nix 2.8 facts this relies on (toolchain.md §3, fixtures in `tests/fixtures/logs`): `start`
//! has no `parent`, so log lines are attributed through the Build (105) activity id; `stop` has
//! no status, so a build's result is read from the Builds (104) progress counters (nix updates
//! them just before the stop, Lix after it: [`BuildCounts`]), and corrected by the error
//! messages that name a derivation. A build nothing has settled when the run ends is settled
//! by [`BuildState::finish`].

mod activities;
mod messages;
mod outcome;
mod plain;
mod wording;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::ansi;
use super::build_counts::BuildCounts;
use super::internal_json::{
    ActivityResult, ActivityType, Event, Message, Progress, ResultKind, Start,
};
pub use activities::MAX_LIVE_ACTIVITIES;
use activities::{Activities, Activity};
use plain::PlainLog;
pub use wording::{DrvFailure, FailureKind, drv_failure, failed_drv_in};

/// Default number of log lines kept per derivation.
pub const DEFAULT_TAIL_LINES: usize = 50;
/// Warnings and errors kept (the first ones; later ones are only counted).
pub const MAX_MESSAGES: usize = 100;
/// Longest log line kept in a tail, in bytes (the full line is in the log on disk).
pub const MAX_KEPT_LINE: usize = 4096;
/// Longest warning or error text kept, in bytes (nix's own messages are far shorter).
pub const MAX_KEPT_MESSAGE: usize = 16 * 1024;
/// Derivations with a record. A from-scratch NixOS system is about 10k derivations; beyond
/// this, further derivations are only counted ([`BuildState::derivations_dropped`]).
pub const MAX_DERIVATIONS: usize = 65_536;
/// Longest derivation path or transfer name kept, in bytes. Store paths are far shorter
/// (names are at most 211 bytes); a longer "path" is not one and names no derivation.
pub const MAX_KEPT_PATH: usize = 1024;
/// Longest phase name kept, in bytes.
pub const MAX_KEPT_PHASE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrvStatus {
    /// Listed as "will be built" (dry-run style messages) but not started.
    Planned,
    Building,
    Built,
    Failed,
    /// Was building when the user interrupted nix, or when another derivation's failure ended
    /// the run.
    Cancelled,
    /// Its activity stopped without nix counting it as done or failed.
    Stopped,
}

/// One derivation nix mentioned.
#[derive(Debug, Clone, Serialize)]
pub struct Derivation {
    pub path: String,
    /// `hello-1.0` for `/nix/store/<hash>-hello-1.0.drv`.
    pub name: String,
    pub status: DrvStatus,
    /// The last phase the builder announced.
    pub phase: Option<String>,
    /// `failed with exit code N`.
    pub exit_code: Option<i32>,
    /// First line (ANSI stripped) of the error message that named this derivation.
    pub error: Option<String>,
    /// Build log lines received (all of them, not only the kept tail).
    pub log_lines: u64,
    /// The last log lines, ANSI kept (for display).
    #[serde(skip)]
    tail: VecDeque<String>,
}

impl Derivation {
    fn new(path: &str, status: DrvStatus) -> Self {
        Derivation {
            path: path.to_string(),
            name: drv_name(path).to_string(),
            status,
            phase: None,
            exit_code: None,
            error: None,
            log_lines: 0,
            tail: VecDeque::new(),
        }
    }

    /// The last log lines kept, oldest first, ANSI escapes kept.
    pub fn tail(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator {
        self.tail.iter().map(String::as_str)
    }
}

/// `hello-1.0` from `/nix/store/<32 chars>-hello-1.0.drv` (also accepts `...drv!out`).
pub fn drv_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.split('!').next().unwrap_or(base);
    let base = base.strip_suffix(".drv").unwrap_or(base);
    match base.split_once('-') {
        Some((hash, name)) if hash.len() == 32 => name,
        _ => base,
    }
}

/// A warning or error message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub level: u8,
    /// As nix sent it (ANSI colours kept, for display).
    #[serde(skip)]
    pub text: String,
    /// ANSI stripped.
    pub plain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Nix's own error: its JSON logger attaches `raw_msg` to the errors it raises. A builder's
    /// `@nix {"action":"msg"}` line is forwarded by Nix 2.8 with only its level and text (seen
    /// in `tests/fixtures/logs/forged-hash-mismatch.log`), and plain-format lines cannot be
    /// told apart, so both are `false`: text anybody could have written.
    #[serde(default)]
    pub from_nix: bool,
}

impl Diagnostic {
    fn from_msg(m: &Message<'_>) -> Self {
        // Lix 2.95 sends `"file":"«none»:0","line":0,"column":0` for an error with no position
        // (`tests/fixtures/logs/lix-2.95/eval-error.log`): no file, and line 0 is no line.
        let placed = m.line != Some(0) && !m.file.as_deref().is_some_and(|f| f.starts_with('«'));
        Diagnostic {
            level: m.level,
            text: clip(&m.msg, MAX_KEPT_MESSAGE).to_string(),
            plain: clip(&ansi::strip(&m.msg), MAX_KEPT_MESSAGE).to_string(),
            file: m
                .file
                .as_deref()
                .filter(|_| placed)
                .map(|f| position_file(f, m.line, m.column).to_string()),
            line: m.line.filter(|_| placed),
            column: m.column.filter(|_| placed),
            from_nix: m.raw_msg.is_some(),
        }
    }

    /// The first line of the stripped text.
    pub fn first_line(&self) -> &str {
        self.plain.lines().next().unwrap_or("")
    }
}

/// The file of a JSON position. Nix 2.8 sends the bare path; Nix 2.26 and 2.34 (recorded in
/// `tests/fixtures/logs/nix-2.*`) send `PATH:LINE:COLUMN` in `file` beside the same `line` and
/// `column`, which would otherwise be printed twice.
fn position_file(file: &str, line: Option<u32>, column: Option<u32>) -> &str {
    let (Some(l), Some(c)) = (line, column) else {
        return file;
    };
    file.strip_suffix(&format!(":{l}:{c}")).unwrap_or(file)
}

/// A copy, download or substitution in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub kind: ActivityKindName,
    /// Store path or URI.
    pub what: String,
    pub done_bytes: u64,
    pub expected_bytes: u64,
}

/// Serialisable name of the activity types that move data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKindName {
    CopyPath,
    FileTransfer,
    Substitute,
}

/// Finished transfers, folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TransferTotals {
    pub copies: u64,
    pub downloads: u64,
    pub substitutions: u64,
    pub bytes: u64,
}

/// What a [`BuildState`] holds, for checking that it stays bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    pub live_activities: usize,
    /// Activity ids remembered for eviction (live and not yet compacted).
    pub activity_order: usize,
    pub derivations: usize,
    /// Bytes of the strings kept (paths, names, phases, tails, messages).
    pub kept_bytes: usize,
}

/// A listing nix prints one message per line ("these 2 derivations will be built:" then paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    None,
    ToBuild,
    Other,
}

/// Everything known about one nix process so far.
#[derive(Debug)]
pub struct BuildState {
    tail_lines: usize,
    activities: Activities,
    drvs: Vec<Derivation>,
    drv_index: HashMap<String, usize>,
    /// Derivations by status, for the updates that concern all building (or stopped) ones:
    /// an interruption must not walk every derivation ever seen.
    building: BTreeSet<usize>,
    stopped: BTreeSet<usize>,
    /// Derivation records touched by status changes (a work count, see [`BuildState::work`]).
    work: u64,
    /// Derivations: from the Builds (104) activity, and which build each count is of.
    counts: BuildCounts<usize>,
    /// Store paths copied: from the CopyPaths (103) activity.
    copy_progress: Progress,
    /// SetExpected of stopped activities, summed per activity type code (live ones keep theirs).
    expected_done: BTreeMap<u64, u64>,
    transfer_totals: TransferTotals,
    errors: Vec<Diagnostic>,
    errors_total: u64,
    warnings: Vec<Diagnostic>,
    warnings_total: u64,
    /// Non-JSON lines: a count and the last few.
    plain_lines: u64,
    plain_tail: VecDeque<String>,
    plain: PlainLog,
    /// Result lines attributed to no known activity.
    orphan_lines: u64,
    /// Live activities forgotten to stay within [`MAX_LIVE_ACTIVITIES`].
    activities_dropped: u64,
    /// Derivations mentioned but given no record (over [`MAX_DERIVATIONS`], or not a path).
    derivations_dropped: u64,
    interrupted: bool,
    listing: Listing,
    events: u64,
}

impl Default for BuildState {
    fn default() -> Self {
        BuildState::new()
    }
}

impl BuildState {
    pub fn new() -> Self {
        BuildState::with_tail_lines(DEFAULT_TAIL_LINES)
    }

    /// Keep the last `tail_lines` log lines per derivation (at least 1).
    pub fn with_tail_lines(tail_lines: usize) -> Self {
        BuildState {
            tail_lines: tail_lines.max(1),
            activities: Activities::default(),
            drvs: Vec::new(),
            drv_index: HashMap::new(),
            building: BTreeSet::new(),
            stopped: BTreeSet::new(),
            work: 0,
            counts: BuildCounts::default(),
            copy_progress: Progress::default(),
            expected_done: BTreeMap::new(),
            transfer_totals: TransferTotals::default(),
            errors: Vec::new(),
            errors_total: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            plain_lines: 0,
            plain_tail: VecDeque::new(),
            plain: PlainLog::default(),
            orphan_lines: 0,
            activities_dropped: 0,
            derivations_dropped: 0,
            interrupted: false,
            listing: Listing::None,
            events: 0,
        }
    }

    /// Fold one event into the state.
    pub fn apply(&mut self, event: &Event<'_>) {
        self.events += 1;
        if !matches!(event, Event::Plain(_)) {
            self.plain.error_open = false;
        }
        match event {
            Event::Start(s) => self.on_start(s),
            Event::Stop { id } => self.on_stop(*id),
            Event::Result(r) => self.on_result(r),
            Event::Msg(m) => self.on_msg(m),
            Event::SetPhase { phase } => {
                // Outside an activity: the phase of the only derivation building, if just one.
                if let (1, Some(&i)) = (self.building.len(), self.building.first()) {
                    set_phase(&mut self.drvs[i], phase);
                }
            }
            Event::UnknownAction { .. } => {}
            Event::Plain(line) => self.on_plain(line),
        }
    }

    // ---- queries ----

    pub fn derivations(&self) -> &[Derivation] {
        &self.drvs
    }

    pub fn derivation(&self, path: &str) -> Option<&Derivation> {
        self.drv_index.get(path).map(|&i| &self.drvs[i])
    }

    pub fn with_status(&self, status: DrvStatus) -> impl Iterator<Item = &Derivation> {
        self.drvs.iter().filter(move |d| d.status == status)
    }

    /// The derivation the Build activity `id` is building (for log line attribution by callers).
    pub fn derivation_of_activity(&self, id: u64) -> Option<&Derivation> {
        self.activities
            .get(id)
            .and_then(|a| a.drv)
            .map(|i| &self.drvs[i])
    }

    /// `[done, expected, running, failed]` derivations, as nix counts them.
    pub fn progress(&self) -> Progress {
        self.counts.counts()
    }

    /// `[done, expected, running, failed]` store paths copied.
    pub fn copy_progress(&self) -> Progress {
        self.copy_progress
    }

    /// Derivations nix expects to build but has not started: expected minus the rest.
    pub fn planned_count(&self) -> u64 {
        let p = self.counts.counts();
        p.expected.saturating_sub(p.done + p.running + p.failed)
    }

    /// What nix announced with SetExpected for activities of `kind` (e.g. bytes to download
    /// for FileTransfer, summed over the activities that announced it).
    pub fn expected(&self, kind: ActivityType) -> u64 {
        let code = kind.code();
        let live: u64 = self
            .activities
            .values()
            .flat_map(|a| &a.expected)
            .filter(|(k, _)| *k == code)
            .map(|(_, n)| n)
            .fold(0, |a, &n| a.saturating_add(n));
        live.saturating_add(self.expected_done.get(&code).copied().unwrap_or(0))
    }

    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.activities.values().filter_map(|a| a.transfer.as_ref())
    }

    pub fn transfer_totals(&self) -> TransferTotals {
        self.transfer_totals
    }

    /// Error messages (level 0), the first [`MAX_MESSAGES`].
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    pub fn errors_total(&self) -> u64 {
        self.errors_total
    }

    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub fn warnings_total(&self) -> u64 {
        self.warnings_total
    }

    /// The first error nix reported.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.errors.first()
    }

    /// Whether nix said it was interrupted (SIGINT/SIGTERM).
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Non-JSON lines seen, and the last ones kept.
    pub fn plain_lines(&self) -> u64 {
        self.plain_lines
    }

    pub fn plain_tail(&self) -> impl Iterator<Item = &str> {
        self.plain_tail.iter().map(String::as_str)
    }

    /// Events applied so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Build log lines that named no known activity (a log cut at the start).
    pub fn orphan_lines(&self) -> u64 {
        self.orphan_lines
    }

    /// Live activities forgotten because more than [`MAX_LIVE_ACTIVITIES`] were live at once.
    pub fn activities_dropped(&self) -> u64 {
        self.activities_dropped
    }

    /// Derivations mentioned but not recorded (over [`MAX_DERIVATIONS`], or not a path).
    pub fn derivations_dropped(&self) -> u64 {
        self.derivations_dropped
    }

    /// Derivation records touched by status changes so far: a measure of work that tests
    /// compare with the number of events (it must grow linearly, not with their product).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// What the state holds now (walks every record: for tests and debugging).
    pub fn footprint(&self) -> Footprint {
        let ring = |r: &VecDeque<String>| r.iter().map(String::len).sum::<usize>();
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let drvs: usize = self
            .drvs
            .iter()
            .map(|d| {
                2 * d.path.len() + d.name.len() + opt(&d.phase) + opt(&d.error) + ring(&d.tail)
            })
            .sum();
        let messages: usize = self
            .errors
            .iter()
            .chain(&self.warnings)
            .map(|m| m.text.len() + m.plain.len())
            .sum();
        let transfers: usize = self.transfers().map(|t| t.what.len()).sum();
        Footprint {
            live_activities: self.activities.len(),
            activity_order: self.activities.order_len(),
            derivations: self.drvs.len(),
            kept_bytes: drvs
                + messages
                + transfers
                + ring(&self.plain_tail)
                + self.plain.kept_bytes(),
        }
    }

    // ---- updates ----

    /// The record of `path`, created with `status_if_new`; None when it cannot have one (the
    /// table is full, or `path` is too long to be a store path).
    fn drv_mut(&mut self, path: &str, status_if_new: DrvStatus) -> Option<usize> {
        if let Some(&i) = self.drv_index.get(path) {
            return Some(i);
        }
        if self.drvs.len() >= MAX_DERIVATIONS || path.len() > MAX_KEPT_PATH {
            self.derivations_dropped += 1;
            return None;
        }
        let i = self.drvs.len();
        self.drvs.push(Derivation::new(path, DrvStatus::Planned));
        self.drv_index.insert(path.to_string(), i);
        self.set_status(i, status_if_new);
        Some(i)
    }

    /// Every status change goes through here, so the building and stopped sets stay exact.
    fn set_status(&mut self, i: usize, status: DrvStatus) {
        self.work += 1;
        let old = std::mem::replace(&mut self.drvs[i].status, status);
        if old == status {
            return;
        }
        match old {
            DrvStatus::Building => self.building.remove(&i),
            DrvStatus::Stopped => self.stopped.remove(&i),
            _ => false,
        };
        match status {
            DrvStatus::Building => self.building.insert(i),
            DrvStatus::Stopped => self.stopped.insert(i),
            _ => false,
        };
    }

    fn on_start(&mut self, s: &Start<'_>) {
        if s.activity == ActivityType::Build {
            self.counts.started();
        }
        let drv = match s.activity {
            ActivityType::Build => s.drv_path().and_then(|p| {
                let i = self.drv_mut(p, DrvStatus::Building)?;
                self.set_status(i, DrvStatus::Building);
                Some(i)
            }),
            ActivityType::PostBuildHook => {
                s.drv_path().and_then(|p| self.drv_mut(p, DrvStatus::Built))
            }
            _ => None,
        };
        let transfer = match s.activity {
            ActivityType::CopyPath => Some(ActivityKindName::CopyPath),
            ActivityType::FileTransfer => Some(ActivityKindName::FileTransfer),
            ActivityType::Substitute => Some(ActivityKindName::Substitute),
            _ => None,
        };
        let transfer = transfer.map(|kind| Transfer {
            kind,
            what: clip(s.str_field(0).unwrap_or(&s.text), MAX_KEPT_PATH).to_string(),
            done_bytes: 0,
            expected_bytes: 0,
        });
        let activity = Activity {
            kind: s.activity,
            drv,
            transfer,
            expected: Vec::new(),
        };
        if let Some(old) = self.activities.insert(s.id, activity) {
            // Too many live at once: the oldest is forgotten as if it had stopped unseen.
            self.activities_dropped += 1;
            self.fold_expected(&old);
            if old.kind == ActivityType::Build {
                self.counts.forgotten();
            }
            if let Some(i) = old.drv
                && self.drvs[i].status == DrvStatus::Building
            {
                self.set_status(i, DrvStatus::Stopped);
            }
        }
    }

    fn fold_expected(&mut self, act: &Activity) {
        for &(kind, n) in &act.expected {
            let sum = self.expected_done.entry(kind).or_insert(0);
            *sum = sum.saturating_add(n);
        }
    }

    fn on_stop(&mut self, id: u64) {
        let Some(act) = self.activities.remove(id) else {
            return;
        };
        self.fold_expected(&act);
        if let Some(t) = &act.transfer {
            let totals = &mut self.transfer_totals;
            match t.kind {
                ActivityKindName::CopyPath => totals.copies += 1,
                ActivityKindName::FileTransfer => totals.downloads += 1,
                ActivityKindName::Substitute => totals.substitutions += 1,
            }
            totals.bytes = totals.bytes.saturating_add(t.done_bytes);
        }
        if act.kind != ActivityType::Build {
            return;
        }
        match act.drv {
            // A build an error message already settled took its count there.
            Some(i) if self.drvs[i].status == DrvStatus::Building => {
                let status = self
                    .counts
                    .stopped(i)
                    .map_or(DrvStatus::Stopped, outcome::status_of);
                self.set_status(i, status);
            }
            _ => self.counts.stopped_settled(),
        }
    }

    fn on_result(&mut self, r: &ActivityResult<'_>) {
        let drv = self.activities.get(r.id).and_then(|a| a.drv);
        match &r.kind {
            ResultKind::BuildLogLine(line) | ResultKind::PostBuildLogLine(line) => match drv {
                Some(i) => {
                    let d = &mut self.drvs[i];
                    d.log_lines += 1;
                    push_bounded(&mut d.tail, self.tail_lines, line);
                }
                None => self.orphan_lines += 1,
            },
            ResultKind::SetPhase(phase) => {
                if let Some(i) = drv {
                    set_phase(&mut self.drvs[i], phase);
                }
            }
            ResultKind::Progress(p) => match self.activities.get_mut(r.id) {
                Some(a) if a.kind == ActivityType::Builds => {
                    let settled = self.counts.progress(*p);
                    self.settle(settled);
                }
                Some(a) if a.kind == ActivityType::CopyPaths => self.copy_progress = *p,
                Some(a) => {
                    if let Some(t) = &mut a.transfer {
                        t.done_bytes = p.done;
                        t.expected_bytes = p.expected;
                    }
                }
                None => {}
            },
            ResultKind::SetExpected { activity, expected } => {
                if let Some(a) = self.activities.get_mut(r.id) {
                    a.set_expected(activity.code(), *expected);
                }
            }
            ResultKind::FileLinked { .. }
            | ResultKind::UntrustedPath(_)
            | ResultKind::CorruptedPath(_)
            | ResultKind::FetchStatus(_)
            | ResultKind::Other { .. } => {}
        }
    }
}

/// Replace `d`'s phase, reusing its buffer (phases change often in long builds).
fn set_phase(d: &mut Derivation, phase: &str) {
    let phase = clip(phase, MAX_KEPT_PHASE);
    match &mut d.phase {
        Some(p) => {
            p.clear();
            p.push_str(phase);
        }
        None => d.phase = Some(phase.to_string()),
    }
}

/// Push `line` (clipped to [`MAX_KEPT_LINE`] bytes) to a ring of at most `cap` lines, reusing
/// the evicted line's buffer.
fn push_bounded(ring: &mut VecDeque<String>, cap: usize, line: &str) {
    let line = clip(line, MAX_KEPT_LINE);
    if ring.len() >= cap
        && let Some(mut old) = ring.pop_front()
    {
        old.clear();
        old.push_str(line);
        ring.push_back(old);
        return;
    }
    ring.push_back(line.to_string());
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;
