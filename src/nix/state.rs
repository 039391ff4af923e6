//! The live state of one nix process, built by applying its internal-json events in order:
//! derivations and their status, the current phase, progress, transfers, the last log lines per
//! derivation, warnings and errors.
//!
//! Memory is bounded whatever the log size: per derivation only a count and the last
//! `tail_lines` lines (each clipped to [`MAX_KEPT_LINE`] bytes) are kept (the full log goes to
//! disk elsewhere), finished transfers are folded into totals, and only the first
//! [`MAX_MESSAGES`] warnings and errors are kept (plus counts). What grows is one small record
//! per derivation nix mentions.
//!
//! Nix 2.8 facts this relies on (fixtures in `tests/fixtures/logs`): `start`
//! has no `parent`, so log lines are attributed through the Build (105) activity id; `stop` has
//! no status, so a build's result is read from the Builds (104) progress counters that nix
//! updates just before the stop, and corrected by the error messages that name a derivation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::ansi;
use super::internal_json::{
    ActivityResult, ActivityType, Event, Message, Progress, ResultKind, Start, level,
};

/// Default number of log lines kept per derivation.
pub const DEFAULT_TAIL_LINES: usize = 50;
/// Warnings and errors kept (the first ones; later ones are only counted).
pub const MAX_MESSAGES: usize = 100;
/// Longest log line kept in a tail, in bytes (the full line is in the log on disk).
pub const MAX_KEPT_LINE: usize = 4096;
/// Longest warning or error text kept, in bytes (nix's own messages are far shorter).
pub const MAX_KEPT_MESSAGE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrvStatus {
    /// Listed as "will be built" (dry-run style messages) but not started.
    Planned,
    Building,
    Built,
    Failed,
    /// Was building when the user interrupted nix.
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
}

impl Diagnostic {
    fn from_msg(m: &Message<'_>) -> Self {
        Diagnostic {
            level: m.level,
            text: clip(&m.msg, MAX_KEPT_MESSAGE).to_string(),
            plain: clip(&ansi::strip(&m.msg), MAX_KEPT_MESSAGE).to_string(),
            file: m.file.as_deref().map(str::to_string),
            line: m.line,
            column: m.column,
        }
    }

    /// The first line of the stripped text.
    pub fn first_line(&self) -> &str {
        self.plain.lines().next().unwrap_or("")
    }
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

#[derive(Debug, Clone)]
struct Activity {
    kind: ActivityType,
    drv: Option<usize>,
}

/// Nix activity ids are unique integers: hashing them with SipHash is wasted work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing spreads consecutive ids over the table.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

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
    activities: IdMap<Activity>,
    drvs: Vec<Derivation>,
    drv_index: HashMap<String, usize>,
    /// Derivations: from the Builds (104) activity.
    progress: Progress,
    /// Store paths copied: from the CopyPaths (103) activity.
    copy_progress: Progress,
    /// SetExpected by (activity id, activity type) so a later update replaces an earlier one.
    expected: BTreeMap<(u64, u64), u64>,
    transfers: IdMap<Transfer>,
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
    /// Build stops already matched against the progress counters.
    accounted_done: u64,
    accounted_failed: u64,
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
            activities: IdMap::default(),
            drvs: Vec::new(),
            drv_index: HashMap::new(),
            progress: Progress::default(),
            copy_progress: Progress::default(),
            expected: BTreeMap::new(),
            transfers: IdMap::default(),
            transfer_totals: TransferTotals::default(),
            errors: Vec::new(),
            errors_total: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            plain_lines: 0,
            plain_tail: VecDeque::new(),
            plain: PlainLog::default(),
            orphan_lines: 0,
            accounted_done: 0,
            accounted_failed: 0,
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
                let mut building = self
                    .drvs
                    .iter_mut()
                    .filter(|d| d.status == DrvStatus::Building);
                if let (Some(d), None) = (building.next(), building.next()) {
                    d.phase = Some(phase.to_string());
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
            .get(&id)
            .and_then(|a| a.drv)
            .map(|i| &self.drvs[i])
    }

    /// `[done, expected, running, failed]` derivations, as nix counts them.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// `[done, expected, running, failed]` store paths copied.
    pub fn copy_progress(&self) -> Progress {
        self.copy_progress
    }

    /// Derivations nix expects to build but has not started: expected minus the rest.
    pub fn planned_count(&self) -> u64 {
        let p = self.progress;
        p.expected.saturating_sub(p.done + p.running + p.failed)
    }

    /// What nix announced with SetExpected for activities of `kind` (e.g. bytes to download
    /// for FileTransfer, summed over the activities that announced it).
    pub fn expected(&self, kind: ActivityType) -> u64 {
        let code = kind.code();
        self.expected
            .iter()
            .filter(|((_, t), _)| *t == code)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.transfers.values()
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

    // ---- updates ----

    fn drv_mut(&mut self, path: &str, status_if_new: DrvStatus) -> usize {
        if let Some(&i) = self.drv_index.get(path) {
            return i;
        }
        let i = self.drvs.len();
        self.drvs.push(Derivation::new(path, status_if_new));
        self.drv_index.insert(path.to_string(), i);
        i
    }

    fn on_start(&mut self, s: &Start<'_>) {
        let drv = match s.activity {
            ActivityType::Build => s.drv_path().map(|p| {
                let i = self.drv_mut(p, DrvStatus::Building);
                self.drvs[i].status = DrvStatus::Building;
                i
            }),
            ActivityType::PostBuildHook => s.drv_path().map(|p| self.drv_mut(p, DrvStatus::Built)),
            _ => None,
        };
        let transfer = match s.activity {
            ActivityType::CopyPath => Some(ActivityKindName::CopyPath),
            ActivityType::FileTransfer => Some(ActivityKindName::FileTransfer),
            ActivityType::Substitute => Some(ActivityKindName::Substitute),
            _ => None,
        };
        if let Some(kind) = transfer {
            let what = s.str_field(0).unwrap_or(&s.text).to_string();
            self.transfers.insert(
                s.id,
                Transfer {
                    kind,
                    what,
                    done_bytes: 0,
                    expected_bytes: 0,
                },
            );
        }
        self.activities.insert(
            s.id,
            Activity {
                kind: s.activity,
                drv,
            },
        );
    }

    fn on_stop(&mut self, id: u64) {
        let Some(act) = self.activities.remove(&id) else {
            return;
        };
        if let Some(t) = self.transfers.remove(&id) {
            let totals = &mut self.transfer_totals;
            match t.kind {
                ActivityKindName::CopyPath => totals.copies += 1,
                ActivityKindName::FileTransfer => totals.downloads += 1,
                ActivityKindName::Substitute => totals.substitutions += 1,
            }
            totals.bytes += t.done_bytes;
        }
        if let (ActivityType::Build, Some(i)) = (act.kind, act.drv) {
            // Nix bumps the Builds counters just before stopping the build activity.
            let status = if self.progress.failed > self.accounted_failed {
                self.accounted_failed += 1;
                DrvStatus::Failed
            } else if self.progress.done > self.accounted_done {
                self.accounted_done += 1;
                DrvStatus::Built
            } else {
                DrvStatus::Stopped
            };
            let d = &mut self.drvs[i];
            if d.status == DrvStatus::Building {
                d.status = status;
            }
        }
    }

    fn on_result(&mut self, r: &ActivityResult<'_>) {
        let act = self.activities.get(&r.id);
        match &r.kind {
            ResultKind::BuildLogLine(line) | ResultKind::PostBuildLogLine(line) => {
                match act.and_then(|a| a.drv) {
                    Some(i) => {
                        let d = &mut self.drvs[i];
                        d.log_lines += 1;
                        push_bounded(&mut d.tail, self.tail_lines, line);
                    }
                    None => self.orphan_lines += 1,
                }
            }
            ResultKind::SetPhase(phase) => {
                if let Some(i) = act.and_then(|a| a.drv) {
                    let d = &mut self.drvs[i];
                    match &mut d.phase {
                        Some(p) => {
                            p.clear();
                            p.push_str(phase);
                        }
                        None => d.phase = Some(phase.to_string()),
                    }
                }
            }
            ResultKind::Progress(p) => match act.map(|a| a.kind) {
                Some(ActivityType::Builds) => self.progress = *p,
                Some(ActivityType::CopyPaths) => self.copy_progress = *p,
                _ => {
                    if let Some(t) = self.transfers.get_mut(&r.id) {
                        t.done_bytes = p.done;
                        t.expected_bytes = p.expected;
                    }
                }
            },
            ResultKind::SetExpected { activity, expected } => {
                self.expected.insert((r.id, activity.code()), *expected);
            }
            ResultKind::FileLinked { .. }
            | ResultKind::UntrustedPath(_)
            | ResultKind::CorruptedPath(_)
            | ResultKind::FetchStatus(_)
            | ResultKind::Other { .. } => {}
        }
    }

    fn on_msg(&mut self, m: &Message<'_>) {
        let plain = ansi::strip(&m.msg);
        if self.on_listing(&plain) {
            return;
        }
        if is_error(m, &plain) {
            self.errors_total += 1;
            self.attribute_error(&plain);
            if self.errors.len() < MAX_MESSAGES {
                self.errors.push(Diagnostic::from_msg(m));
            }
        } else if m.level == level::WARN {
            self.warnings_total += 1;
            if self.warnings.len() < MAX_MESSAGES {
                self.warnings.push(Diagnostic::from_msg(m));
            }
        }
    }

    /// Nix prints "these 2 derivations will be built:" and then one message per path (level 0
    /// in 2.8, although they are not errors). Returns whether `plain` was part of a listing.
    fn on_listing(&mut self, plain: &str) -> bool {
        if plain.starts_with("these ") || plain.starts_with("this ") {
            if plain.ends_with("will be built:") {
                self.listing = Listing::ToBuild;
                return true;
            }
            if plain.contains(" will be fetched") || plain.ends_with(':') {
                self.listing = Listing::Other;
                return true;
            }
        }
        if self.listing != Listing::None {
            if let Some(path) = plain.strip_prefix("  ") {
                if self.listing == Listing::ToBuild && path.ends_with(".drv") {
                    self.drv_mut(path.trim(), DrvStatus::Planned);
                }
                return true;
            }
            self.listing = Listing::None;
        }
        false
    }

    /// Mark the derivation an error message names as failed.
    fn attribute_error(&mut self, plain: &str) {
        let first = plain.lines().next().unwrap_or("");
        if first.contains("interrupted by the user") {
            self.interrupted = true;
            for d in &mut self.drvs {
                if matches!(d.status, DrvStatus::Building | DrvStatus::Stopped) {
                    d.status = DrvStatus::Cancelled;
                }
            }
            return;
        }
        let Some(DrvFailure { drv, kind }) = drv_failure(plain) else {
            return;
        };
        let exit_code = match kind {
            FailureKind::Builder { exit_code } => exit_code,
            _ => None,
        };
        let i = self.drv_mut(drv, DrvStatus::Failed);
        let d = &mut self.drvs[i];
        if d.status == DrvStatus::Built {
            // The stop was counted as done; the message says otherwise.
            self.accounted_done = self.accounted_done.saturating_sub(1);
        }
        d.status = DrvStatus::Failed;
        if d.exit_code.is_none() {
            d.exit_code = exit_code;
        }
        if d.error.is_none() {
            d.error = Some(first.to_string());
        }
        if d.log_lines == 0
            && let Some((tail, count)) = self.plain.take(&d.name)
        {
            d.tail = tail;
            d.log_lines = count;
        }
    }

    fn on_plain(&mut self, line: &str) {
        self.plain_lines += 1;
        push_bounded(&mut self.plain_tail, self.tail_lines, line);
        // A log captured without internal-json (`nix build -L 2> log`, or nix failing before its
        // logger starts) still has its `error:` messages and `name> ` builder lines; read them
        // so triage works on plain logs too.
        let plain = ansi::strip(line);
        if plain.starts_with("error:") {
            self.errors_total += 1;
            self.attribute_error(&plain);
            self.plain.error_open = self.errors.len() < MAX_MESSAGES;
            if self.plain.error_open {
                self.errors.push(Diagnostic {
                    level: level::ERROR,
                    text: clip(line, MAX_KEPT_MESSAGE).to_string(),
                    plain: clip(&plain, MAX_KEPT_MESSAGE).to_string(),
                    file: None,
                    line: None,
                    column: None,
                });
            }
            return;
        }
        // An error's indented continuation (`specified:`/`got:`, `Reason:`, log lines).
        if self.plain.error_open && plain.starts_with(' ') {
            if let Some(last) = self.errors.last_mut() {
                append_clipped(&mut last.text, line);
                append_clipped(&mut last.plain, &plain);
                let message = last.plain.clone();
                self.attribute_error(&message);
            }
            return;
        }
        self.plain.error_open = false;
        if let Some((name, output)) = builder_line(&plain) {
            self.plain.push(name, output, self.tail_lines);
        }
    }
}

/// What the plain log format needs remembered between lines.
#[derive(Debug, Default)]
struct PlainLog {
    /// Builder output (`name> line`) of the most recent derivation names: the plain format
    /// names no activity, so the lines are handed to a derivation once an error names it.
    by_name: VecDeque<(String, VecDeque<String>, u64)>,
    /// The last line was an `error:` whose message may continue on indented lines.
    error_open: bool,
}

/// Derivation names whose plain builder output is remembered.
const PLAIN_NAMES: usize = 16;

impl PlainLog {
    fn push(&mut self, name: &str, line: &str, tail_lines: usize) {
        let i = if let Some(i) = self.by_name.iter().position(|(n, _, _)| n == name) {
            i
        } else {
            if self.by_name.len() >= PLAIN_NAMES {
                self.by_name.pop_front();
            }
            self.by_name
                .push_back((name.to_string(), VecDeque::new(), 0));
            self.by_name.len() - 1
        };
        let (_, tail, count) = &mut self.by_name[i];
        push_bounded(tail, tail_lines, line);
        *count += 1;
    }

    /// The remembered output of `name`, removed.
    fn take(&mut self, name: &str) -> Option<(VecDeque<String>, u64)> {
        let i = self.by_name.iter().position(|(n, _, _)| n == name)?;
        self.by_name.remove(i).map(|(_, tail, count)| (tail, count))
    }
}

/// `hello-1.0> some output` (nix -L): the derivation name and the builder's line.
fn builder_line(line: &str) -> Option<(&str, &str)> {
    let (name, output) = line.split_once("> ")?;
    let plausible = !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains(':');
    plausible.then_some((name, output))
}

/// Append `\n` + `line` to `text`, up to [`MAX_KEPT_MESSAGE`] bytes in all.
fn append_clipped(text: &mut String, line: &str) {
    let room = MAX_KEPT_MESSAGE.saturating_sub(text.len() + 1);
    if room > 0 {
        text.push('\n');
        text.push_str(clip(line, room));
    }
}

/// Level-0 messages that are errors: nix's errors carry `raw_msg` and start with `error:`;
/// listings and the `(use '--show-trace' ...)` hint are level 0 too but are not errors.
fn is_error(m: &Message<'_>, plain: &str) -> bool {
    m.level == level::ERROR && (m.raw_msg.is_some() || plain.starts_with("error:"))
}

/// What an error message says went wrong with one derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The builder exited non-zero.
    Builder {
        exit_code: Option<i32>,
    },
    /// It was not built because dependencies failed.
    Dependencies,
    HashMismatch,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrvFailure<'a> {
    pub drv: &'a str,
    pub kind: FailureKind,
}

/// The derivation an error message (ANSI stripped, possibly several lines) says failed, and how.
///
/// Nix 2.8 wordings (captured in `tests/fixtures/logs`): `builder for 'D' failed with exit code
/// N`, `hash mismatch in fixed-output derivation 'D':`, `N dependencies of derivation 'D' failed
/// to build`, `building of 'D!out' from .drv file timed out after N seconds`. Also read, for
/// logs captured in CI with other nix versions (wordings as printed in public bug reports, not
/// captured here): nix >= 2.25 `Cannot build 'D'.` with a `Reason: builder failed with exit
/// code N.` / `Reason: N dependencies failed.` line, and nix 2.3 `cannot build derivation 'D':
/// N dependencies couldn't be built`.
pub fn drv_failure(message: &str) -> Option<DrvFailure<'_>> {
    let first = message.lines().next()?;
    let found = |drv, kind| Some(DrvFailure { drv, kind });
    if let Some(drv) = quoted_drv(first, "hash mismatch in fixed-output derivation '") {
        return found(drv, FailureKind::HashMismatch);
    }
    if let Some(drv) = quoted_drv(first, "builder for '") {
        return found(
            drv,
            FailureKind::Builder {
                exit_code: exit_code(first),
            },
        );
    }
    if let Some(drv) = quoted_drv(first, "dependencies of derivation '")
        .or_else(|| quoted_drv(first, "cannot build derivation '"))
    {
        return found(drv, FailureKind::Dependencies);
    }
    if let Some(drv) = quoted_drv(first, "building of '").filter(|_| first.contains("timed out")) {
        return found(drv, FailureKind::Timeout);
    }
    let drv = quoted_drv(first, "Cannot build '")?;
    let reason = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("Reason: "))
        .unwrap_or("");
    let kind = if reason.contains("exit code") {
        FailureKind::Builder {
            exit_code: exit_code(reason),
        }
    } else if reason.contains("dependency failed") || reason.contains("dependencies failed") {
        FailureKind::Dependencies
    } else if reason.contains("timed out") {
        FailureKind::Timeout
    } else if reason.contains("hash mismatch") {
        FailureKind::HashMismatch
    } else {
        FailureKind::Builder { exit_code: None }
    };
    found(drv, kind)
}

/// The derivation path quoted after `marker` (`'/nix/store/...drv'`, `!out` suffix dropped).
fn quoted_drv<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let path = &rest[..rest.find('\'')?];
    let path = path.split('!').next().unwrap_or(path);
    path.ends_with(".drv").then_some(path)
}

/// `N` in `... exit code N;` / `exit code N.`.
fn exit_code(text: &str) -> Option<i32> {
    let (_, rest) = text.split_once("exit code ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The derivation a nix error message says failed (see [`drv_failure`]).
pub fn failed_drv_in(message: &str) -> Option<&str> {
    drv_failure(message).map(|f| f.drv)
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
mod tests {
    use super::*;
    use crate::nix::internal_json::parse_line;

    const DRV: &str = "/nix/store/8xq9jrgl1pafdwanb0cansra213affyn-hello-1.0.drv";

    fn feed(state: &mut BuildState, lines: &[String]) {
        for l in lines {
            state.apply(&parse_line(l));
        }
    }

    fn start_build(id: u64, drv: &str) -> String {
        format!(
            r#"@nix {{"action":"start","fields":["{drv}","",1,1],"id":{id},"level":3,"text":"building","type":105}}"#
        )
    }

    fn res(id: u64, t: u64, fields: &str) -> String {
        format!(r#"@nix {{"action":"result","fields":{fields},"id":{id},"type":{t}}}"#)
    }

    fn stop(id: u64) -> String {
        format!(r#"@nix {{"action":"stop","id":{id}}}"#)
    }

    fn builds(id: u64) -> String {
        format!(r#"@nix {{"action":"start","id":{id},"level":0,"text":"","type":104}}"#)
    }

    #[test]
    fn kept_lines_and_messages_are_clipped() {
        let mut s = BuildState::new();
        let long = "é".repeat(MAX_KEPT_LINE); // 2 bytes each: the cut falls inside a char
        let msg = "x".repeat(MAX_KEPT_MESSAGE + 10);
        feed(
            &mut s,
            &[
                start_build(2, DRV),
                res(2, 101, &format!(r#"["{long}"]"#)),
                format!(r#"@nix {{"action":"msg","level":1,"msg":"{msg}"}}"#),
            ],
        );
        let kept = s.derivation(DRV).unwrap().tail().next().unwrap();
        assert_eq!(kept.len(), MAX_KEPT_LINE);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(s.warnings()[0].text.len(), MAX_KEPT_MESSAGE);
        assert_eq!(s.warnings()[0].plain.len(), MAX_KEPT_MESSAGE);
    }

    #[test]
    fn drv_names() {
        assert_eq!(drv_name(DRV), "hello-1.0");
        assert_eq!(
            drv_name("/nix/store/03w887nm36n15ihk49avwzq4ww8dws8z-slow.drv!out"),
            "slow"
        );
        assert_eq!(drv_name("weird"), "weird");
    }

    #[test]
    fn build_lifecycle_phase_and_bounded_tail() {
        let mut s = BuildState::with_tail_lines(3);
        let mut lines = vec![
            builds(1),
            res(1, 105, "[0,1,0,0]"),
            start_build(2, DRV),
            res(1, 105, "[0,1,1,0]"),
        ];
        lines.push(res(2, 104, r#"["buildPhase"]"#));
        for i in 0..10 {
            lines.push(res(2, 101, &format!(r#"["line {i}"]"#)));
        }
        feed(&mut s, &lines);
        let d = s.derivation(DRV).unwrap();
        assert_eq!(d.status, DrvStatus::Building);
        assert_eq!(d.phase.as_deref(), Some("buildPhase"));
        assert_eq!(d.log_lines, 10);
        assert_eq!(d.tail().collect::<Vec<_>>(), ["line 7", "line 8", "line 9"]);
        assert_eq!(s.derivation_of_activity(2).unwrap().name, "hello-1.0");
        assert_eq!(
            s.progress(),
            Progress {
                done: 0,
                expected: 1,
                running: 1,
                failed: 0
            }
        );
        assert_eq!(s.planned_count(), 0);
        feed(
            &mut s,
            &[
                res(2, 104, r#"["installPhase"]"#),
                res(1, 105, "[1,1,0,0]"),
                stop(2),
            ],
        );
        let d = s.derivation(DRV).unwrap();
        assert_eq!(
            (d.status, d.phase.as_deref()),
            (DrvStatus::Built, Some("installPhase"))
        );
        assert!(
            s.derivation_of_activity(2).is_none(),
            "finished activities are forgotten"
        );
    }

    #[test]
    fn failed_count_before_stop_marks_failed() {
        let mut s = BuildState::new();
        feed(
            &mut s,
            &[
                builds(1),
                start_build(2, DRV),
                res(1, 105, "[0,0,0,1]"),
                stop(2),
            ],
        );
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
    }

    #[test]
    fn stop_without_counter_change_is_stopped_then_message_decides() {
        let mut s = BuildState::new();
        feed(&mut s, &[builds(1), start_build(2, DRV), stop(2)]);
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Stopped);
        let err = format!(
            r#"@nix {{"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m builder for '\u001b[35;1m{DRV}\u001b[0m' failed with exit code 3\u001b[0m","raw_msg":"x"}}"#
        );
        feed(&mut s, &[err]);
        let d = s.derivation(DRV).unwrap();
        assert_eq!((d.status, d.exit_code), (DrvStatus::Failed, Some(3)));
        assert_eq!(
            d.error.as_deref(),
            Some(&*format!(
                "error: builder for '{DRV}' failed with exit code 3"
            ))
        );
        assert_eq!(
            s.first_error().unwrap().first_line(),
            d.error.as_deref().unwrap()
        );
    }

    #[test]
    fn error_naming_a_built_drv_corrects_it() {
        let mut s = BuildState::new();
        feed(
            &mut s,
            &[
                builds(1),
                start_build(2, DRV),
                res(1, 105, "[1,1,0,0]"),
                stop(2),
            ],
        );
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Built);
        let err = format!(
            r#"@nix {{"action":"msg","level":0,"msg":"error: hash mismatch in fixed-output derivation '{DRV}':","raw_msg":"x"}}"#
        );
        feed(&mut s, &[err]);
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
    }

    #[test]
    fn dependency_failure_names_a_drv_never_started() {
        let mut s = BuildState::new();
        let err = format!(
            r#"@nix {{"action":"msg","level":0,"msg":"error: 1 dependencies of derivation '{DRV}' failed to build","raw_msg":"x"}}"#
        );
        feed(&mut s, &[err]);
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Failed);
    }

    #[test]
    fn interrupted_cancels_what_was_building() {
        let mut s = BuildState::new();
        let other = "/nix/store/11111111111111111111111111111111-other.drv";
        feed(
            &mut s,
            &[
                builds(1),
                start_build(2, DRV),
                start_build(3, other),
                stop(3),
                r#"@nix {"action":"msg","level":0,"msg":"error: interrupted by the user","raw_msg":"interrupted by the user"}"#.into(),
            ],
        );
        assert!(s.interrupted());
        assert!(
            s.derivations()
                .iter()
                .all(|d| d.status == DrvStatus::Cancelled)
        );
    }

    #[test]
    fn transfers_progress_and_totals() {
        let mut s = BuildState::new();
        feed(
            &mut s,
            &[
                r#"@nix {"action":"start","id":1,"level":0,"text":"","type":102}"#.into(),
                res(1, 106, "[101,5000]"),
                res(1, 106, "[101,6000]"),
                res(1, 106, "[100,7000]"),
                r#"@nix {"action":"start","fields":["https://cache/x.nar.xz"],"id":2,"level":4,"text":"downloading","type":101}"#.into(),
                r#"@nix {"action":"start","fields":["/nix/store/aaaa-x","https://cache","local"],"id":3,"level":4,"text":"copying","type":100}"#.into(),
                r#"@nix {"action":"start","fields":["/nix/store/aaaa-x","https://cache"],"id":4,"level":4,"text":"substituting","type":108}"#.into(),
                res(2, 105, "[100,400,0,0]"),
                res(3, 105, "[10,20,0,0]"),
            ],
        );
        assert_eq!(
            s.expected(ActivityType::FileTransfer),
            6000,
            "a later SetExpected replaces"
        );
        assert_eq!(s.expected(ActivityType::CopyPath), 7000);
        let active = |kind| {
            let t = s.transfers().find(|t| t.kind == kind).unwrap();
            (t.what.clone(), t.done_bytes, t.expected_bytes)
        };
        assert_eq!(s.transfers().count(), 3);
        assert_eq!(
            active(ActivityKindName::CopyPath),
            ("/nix/store/aaaa-x".into(), 10, 20)
        );
        assert_eq!(
            active(ActivityKindName::FileTransfer),
            ("https://cache/x.nar.xz".into(), 100, 400)
        );
        assert_eq!(
            active(ActivityKindName::Substitute),
            ("/nix/store/aaaa-x".into(), 0, 0)
        );
        feed(
            &mut s,
            &[res(2, 105, "[400,400,0,0]"), stop(2), stop(3), stop(4)],
        );
        assert_eq!(s.transfers().count(), 0);
        assert_eq!(
            s.transfer_totals(),
            TransferTotals {
                copies: 1,
                downloads: 1,
                substitutions: 1,
                bytes: 410
            }
        );
    }

    #[test]
    fn copy_paths_progress_is_separate() {
        let mut s = BuildState::new();
        feed(
            &mut s,
            &[
                r#"@nix {"action":"start","id":1,"level":0,"text":"","type":103}"#.into(),
                res(1, 105, "[2,5,1,0]"),
            ],
        );
        assert_eq!(
            s.copy_progress(),
            Progress {
                done: 2,
                expected: 5,
                running: 1,
                failed: 0
            }
        );
        assert_eq!(s.progress(), Progress::default());
    }

    #[test]
    fn messages_are_bounded_and_listings_are_not_errors() {
        let mut s = BuildState::new();
        let mut lines = vec![
            r#"@nix {"action":"msg","level":0,"msg":"these 2 derivations will be built:"}"#.to_string(),
            format!(r#"@nix {{"action":"msg","level":0,"msg":"  {DRV}"}}"#),
            r#"@nix {"action":"msg","level":0,"msg":"(use '--show-trace' to show detailed location information)"}"#.into(),
            r#"@nix {"action":"msg","level":3,"msg":"info"}"#.into(),
        ];
        for i in 0..MAX_MESSAGES + 5 {
            lines.push(format!(
                r#"@nix {{"action":"msg","level":1,"msg":"\u001b[35;1mwarning:\u001b[0m w{i}"}}"#
            ));
            lines.push(format!(
                r#"@nix {{"action":"msg","level":0,"msg":"error: e{i}","raw_msg":"e{i}"}}"#
            ));
        }
        feed(&mut s, &lines);
        assert_eq!(s.derivation(DRV).unwrap().status, DrvStatus::Planned);
        assert_eq!(
            (s.warnings().len(), s.warnings_total()),
            (MAX_MESSAGES, MAX_MESSAGES as u64 + 5)
        );
        assert_eq!(
            (s.errors().len(), s.errors_total()),
            (MAX_MESSAGES, MAX_MESSAGES as u64 + 5)
        );
        assert_eq!(s.warnings()[0].first_line(), "warning: w0");
        assert_eq!(s.warnings()[0].text, "\u{1b}[35;1mwarning:\u{1b}[0m w0");
        assert_eq!(s.first_error().unwrap().first_line(), "error: e0");
    }

    #[test]
    fn plain_lines_are_kept_bounded_and_error_lines_count() {
        let mut s = BuildState::with_tail_lines(2);
        for l in [
            "building '/nix/store/x.drv'...",
            "fails> out",
            "error: builder for '/nix/store/x-a.drv' failed with exit code 2",
        ] {
            s.apply(&parse_line(l));
        }
        assert_eq!(s.plain_lines(), 3);
        assert_eq!(s.plain_tail().count(), 2);
        assert_eq!(s.errors_total(), 1);
        assert_eq!(
            s.derivation("/nix/store/x-a.drv").unwrap().exit_code,
            Some(2)
        );
    }

    #[test]
    fn plain_builder_output_is_bounded_and_handed_to_the_failed_drv() {
        let mut s = BuildState::with_tail_lines(2);
        for i in 0..PLAIN_NAMES + 4 {
            s.apply(&parse_line(&format!("pkg{i}> out {i}")));
        }
        for l in ["hello-1.0> a", "hello-1.0> b", "hello-1.0> c"] {
            s.apply(&parse_line(l));
        }
        assert_eq!(
            s.plain.by_name.len(),
            PLAIN_NAMES,
            "only the most recent names"
        );
        assert!(s.plain.by_name.iter().all(|(n, _, _)| n != "pkg0"));
        s.apply(&parse_line(&format!(
            "error: builder for '{DRV}' failed with exit code 1"
        )));
        let d = s.derivation(DRV).unwrap();
        assert_eq!(
            (d.log_lines, d.tail().collect::<Vec<_>>()),
            (3, vec!["b", "c"])
        );
        // Not builder lines: no name, a space in the name, an `error:`-like prefix.
        assert_eq!(builder_line("> x"), None);
        assert_eq!(builder_line("two words> x"), None);
        assert_eq!(builder_line("warning:> x"), None);
        assert_eq!(builder_line("a-b.c> x > y"), Some(("a-b.c", "x > y")));
    }

    #[test]
    fn plain_error_continuation_stops_at_an_unindented_line() {
        let mut s = BuildState::new();
        for l in [
            "error: something went wrong:",
            "       detail one",
            "unrelated line",
            "       not a continuation",
        ] {
            s.apply(&parse_line(l));
        }
        assert_eq!(s.errors().len(), 1);
        assert_eq!(
            s.errors()[0].plain,
            "error: something went wrong:\n       detail one"
        );
        // A JSON event also ends it.
        s.apply(&parse_line("error: second"));
        s.apply(&parse_line(r#"@nix {"action":"stop","id":1}"#));
        s.apply(&parse_line("       after json"));
        assert_eq!(s.errors()[1].plain, "error: second");
    }

    #[test]
    fn lines_for_unknown_activities_are_counted_not_kept() {
        let mut s = BuildState::new();
        feed(&mut s, &[res(99, 101, r#"["stray"]"#), stop(99)]);
        assert_eq!(s.orphan_lines(), 1);
        assert!(s.derivations().is_empty());
        assert_eq!(s.events(), 2);
    }

    #[test]
    fn top_level_set_phase_goes_to_the_only_building_drv() {
        let mut s = BuildState::new();
        feed(
            &mut s,
            &[
                start_build(2, DRV),
                r#"@nix {"action":"setPhase","phase":"checkPhase"}"#.into(),
            ],
        );
        assert_eq!(
            s.derivation(DRV).unwrap().phase.as_deref(),
            Some("checkPhase")
        );
    }

    #[test]
    fn failed_drv_wordings() {
        let d = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv";
        for line in [
            format!("error: builder for '{d}' failed with exit code 3"),
            format!("error: hash mismatch in fixed-output derivation '{d}':"),
            format!("error: 1 dependencies of derivation '{d}' failed to build"),
            format!("error: building of '{d}!out' from .drv file timed out after 2 seconds"),
        ] {
            assert_eq!(failed_drv_in(&line), Some(d), "{line}");
        }
        assert_eq!(failed_drv_in("error: builder for 'not-a-drv' failed"), None);
    }

    #[test]
    fn failure_kinds_in_every_known_wording() {
        use FailureKind::*;
        let d = "/nix/store/c0psc6rqda5527a22fw9dmf1s4yzrplx-fails.drv";
        let cases = [
            // Nix 2.8 (captured).
            (
                format!("error: builder for '{d}' failed with exit code 3"),
                Builder { exit_code: Some(3) },
            ),
            (
                format!("error: hash mismatch in fixed-output derivation '{d}':\n  specified: x"),
                HashMismatch,
            ),
            (
                format!("error: 2 dependencies of derivation '{d}' failed to build"),
                Dependencies,
            ),
            (
                format!("error: building of '{d}!out' from .drv file timed out after 2 seconds"),
                Timeout,
            ),
            // Nix 2.4-2.24 plain format: a `;` and the last log lines follow.
            (
                format!(
                    "error: builder for '{d}' failed with exit code 2;\n       last 10 log lines:\n       > x"
                ),
                Builder { exit_code: Some(2) },
            ),
            // Nix >= 2.25: the reason on its own line.
            (
                format!(
                    "error: Cannot build '{d}'.\n       Reason: builder failed with exit code 1.\n       Output paths:\n         /nix/store/x"
                ),
                Builder { exit_code: Some(1) },
            ),
            (
                format!("error: Cannot build '{d}'.\n       Reason: 1 dependency failed."),
                Dependencies,
            ),
            (
                format!("error: Cannot build '{d}'.\n       Reason: 5 dependencies failed."),
                Dependencies,
            ),
            // Nix 2.3.
            (
                format!("cannot build derivation '{d}': 1 dependencies couldn't be built"),
                Dependencies,
            ),
        ];
        for (message, kind) in cases {
            assert_eq!(
                drv_failure(&message),
                Some(DrvFailure { drv: d, kind }),
                "{message}"
            );
        }
        assert_eq!(drv_failure("error: interrupted by the user"), None);
        assert_eq!(drv_failure(""), None);
    }
}
