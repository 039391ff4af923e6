//! State of the log view: a bounded window of display lines over a job's log (live from the
//! engine's events, older pages from its log file on disk), with follow, search, wrap and a
//! per-derivation filter. Only this window lives in memory; the runtime fills it.

use std::collections::VecDeque;

use crate::jobs::logpage::{LogLine, LogPage, WINDOW_LINES, is_error_line, matches_query};
use crate::jobs::spec::FailureSummary;

use super::action::LogSource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    pub source: LogSource,
    pub title: String,
    /// The catalog package the log is about (the hash fix needs it); None for a foreign file.
    pub package: Option<String>,
    pub lines: VecDeque<LogLine>,
    /// Display number of `lines[0]`: when > 0, older lines are on disk.
    pub first: u64,
    /// Display lines in the source so far.
    pub total: u64,
    /// The window reaches the newest line, so live lines are appended.
    pub at_tail: bool,
    /// The job still runs: new lines arrive as events.
    pub live: bool,
    pub follow: bool,
    pub wrap: bool,
    /// First shown line, as an index into `visible()`, when not following.
    pub top: usize,
    /// Committed search query (highlighted, `n`/`N`).
    pub query: Option<String>,
    /// Query being typed after `/`.
    pub typing: Option<String>,
    /// Index into `lines` of the current match.
    pub current: Option<usize>,
    pub drv_filter: Option<String>,
    pub drvs: Vec<String>,
    pub failure: Option<FailureSummary>,
    /// How the job ended, when the view knows (a job of this session or a recorded run).
    pub outcome: Option<crate::jobs::Outcome>,
    /// A page request is out (do not ask twice).
    pub loading: bool,
    /// The job's derivation tree is shown below the lines (`T`).
    pub show_tree: bool,
    /// Raw line number of the next live line to take (earlier ones came with the seed page).
    pub next_raw: u64,
    /// A one-line message under the header (saved to ..., no match, ...).
    pub message: Option<String>,
    /// Display line to make current once the page holding it arrives (a match or the first
    /// error found beyond the window by a whole-log seek).
    pub pending_jump: Option<u64>,
    /// The hash fix was written since this log was made (what it wrote): the header says so
    /// instead of offering the fix again.
    pub fixed: Option<String>,
}

impl LogView {
    pub fn new(source: LogSource, title: String, package: Option<String>, live: bool) -> LogView {
        LogView {
            source,
            title,
            package,
            lines: VecDeque::new(),
            first: 0,
            total: 0,
            at_tail: true,
            live,
            follow: true,
            wrap: false,
            top: 0,
            query: None,
            typing: None,
            current: None,
            drv_filter: None,
            drvs: Vec::new(),
            failure: None,
            outcome: None,
            loading: true,
            show_tree: false,
            next_raw: 0,
            message: None,
            pending_jump: None,
            fixed: None,
        }
    }

    /// Indices into `lines` that pass the derivation filter.
    pub fn visible(&self) -> Vec<usize> {
        match &self.drv_filter {
            None => (0..self.lines.len()).collect(),
            Some(d) => (0..self.lines.len())
                .filter(|&i| self.lines[i].drv.as_deref() == Some(d.as_str()))
                .collect(),
        }
    }

    /// The first shown line (index into `visible()`) for a body of `height` lines.
    pub fn top_for(&self, visible: usize, height: usize) -> usize {
        let max_top = visible.saturating_sub(height.max(1));
        if self.follow {
            max_top
        } else {
            self.top.min(max_top)
        }
    }

    /// A live line from the engine.
    pub fn push_live(&mut self, line: LogLine) {
        self.total += 1;
        if !self.at_tail {
            return;
        }
        if let Some(d) = &line.drv
            && !self.drvs.contains(d)
        {
            self.drvs.push(d.clone());
        }
        self.lines.push_back(line);
        if self.lines.len() > WINDOW_LINES {
            self.lines.pop_front();
            self.first += 1;
            self.top = self.top.saturating_sub(1);
            self.current = self.current.and_then(|c| c.checked_sub(1));
        }
    }

    /// A page from the runtime: the newest lines (replacing the window) or older lines (put in
    /// front; the newest are dropped beyond the window size).
    pub fn apply_page(&mut self, page: LogPage) {
        self.loading = false;
        self.total = self.total.max(page.total);
        if !page.drvs.is_empty() {
            self.drvs = page.drvs;
        }
        if page.failure.is_some() {
            self.failure = page.failure;
        }
        let is_older = !self.lines.is_empty() && page.first + page.lines.len() as u64 == self.first;
        if is_older {
            let added = page.lines.len();
            for l in page.lines.into_iter().rev() {
                self.lines.push_front(l);
            }
            self.first = page.first;
            self.top += added;
            self.current = self.current.map(|c| c + added);
            while self.lines.len() > WINDOW_LINES {
                self.lines.pop_back();
                self.at_tail = false;
            }
        } else {
            self.lines = page.lines.into();
            self.first = page.first;
            self.at_tail = page.at_tail;
            self.current = None;
            if self.follow {
                self.top = 0;
            }
        }
    }

    /// Index into `lines` of the next line after (or before) `from` whose text contains the
    /// query, ignoring case, among the visible lines. Wraps around.
    pub fn find(&self, from: Option<usize>, forward: bool) -> Option<usize> {
        let q = self.query.as_deref()?.to_lowercase();
        if q.is_empty() {
            return None;
        }
        let vis = self.visible();
        if vis.is_empty() {
            return None;
        }
        let start = match from.and_then(|f| vis.iter().position(|&i| i == f)) {
            Some(p) => p,
            None if forward => vis.len() - 1,
            None => 0,
        };
        let n = vis.len();
        (1..=n)
            .map(|k| {
                if forward {
                    (start + k) % n
                } else {
                    (start + n - k % n) % n
                }
            })
            .map(|p| vis[p])
            .find(|&i| matches_query(&self.lines[i], &q))
    }

    /// The first line that reads as an error (`error:` from nix, or the classified failure's
    /// first line).
    pub fn first_error(&self) -> Option<usize> {
        let by_marker = self
            .visible()
            .into_iter()
            .find(|&i| is_error_line(&self.lines[i]));
        by_marker.or_else(|| {
            let first = self.failure.as_ref()?.first_line.clone();
            let needle = first.trim();
            if needle.is_empty() {
                return None;
            }
            self.visible()
                .into_iter()
                .find(|&i| self.lines[i].plain().contains(needle))
        })
    }

    /// Whether every line of the source is in the window (searches need not ask the runtime).
    pub fn holds_whole_log(&self) -> bool {
        self.first == 0 && self.lines.len() as u64 >= self.total
    }

    /// Index into `lines` of display line `n`, if it is in the window.
    pub fn index_of(&self, n: u64) -> Option<usize> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        (i < self.lines.len()).then_some(i)
    }

    /// Like `find`, but without wrapping around the window: None means "look beyond it".
    pub fn find_in_window(&self, from: Option<usize>, forward: bool) -> Option<usize> {
        let q = self.query.as_deref()?.to_lowercase();
        if q.is_empty() {
            return None;
        }
        let vis = self.visible();
        let hit = |&&i: &&usize| matches_query(&self.lines[i], &q);
        match (from, forward) {
            (None, true) => vis.iter().find(hit).copied(),
            (None, false) => vis.iter().rev().find(hit).copied(),
            (Some(f), true) => vis.iter().filter(|&&i| i > f).find(hit).copied(),
            (Some(f), false) => vis.iter().rev().filter(|&&i| i < f).find(hit).copied(),
        }
    }

    /// Scroll so that `index` (into `lines`) is shown, a few lines below the top.
    pub fn reveal(&mut self, index: usize) {
        self.follow = false;
        if let Some(pos) = self.visible().iter().position(|&i| i == index) {
            self.top = pos.saturating_sub(3);
        }
    }

    /// The next derivation in the filter cycle: all -> each derivation -> all.
    pub fn next_drv(&self) -> Option<String> {
        match &self.drv_filter {
            None => self.drvs.first().cloned(),
            Some(d) => {
                let i = self.drvs.iter().position(|x| x == d)?;
                self.drvs.get(i + 1).cloned()
            }
        }
    }

    /// The `got:` hash when the failure is a hash mismatch.
    pub fn got_hash(&self) -> Option<&str> {
        self.failure
            .as_ref()?
            .hash_mismatch
            .as_ref()
            .map(|m| m.got.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> LogView {
        let mut v = LogView::new(LogSource::File("x.log".into()), "x".into(), None, true);
        v.loading = false;
        v
    }

    #[test]
    fn live_lines_keep_a_bounded_window() {
        let mut v = view();
        for i in 0..WINDOW_LINES + 10 {
            v.push_live(LogLine::new(format!("l{i}"), None));
        }
        assert_eq!(v.lines.len(), WINDOW_LINES);
        assert_eq!(v.first, 10, "the oldest lines are left to the file on disk");
        assert_eq!(v.total, (WINDOW_LINES + 10) as u64);
        assert_eq!(v.lines.front().unwrap().text, "l10");
    }

    #[test]
    fn an_older_page_goes_in_front_and_drops_the_newest_beyond_the_window() {
        let mut v = view();
        v.apply_page(LogPage {
            first: 4000,
            lines: (4000..8000)
                .map(|i| LogLine::new(format!("l{i}"), None))
                .collect(),
            total: 8000,
            at_tail: true,
            ..Default::default()
        });
        v.apply_page(LogPage {
            first: 2000,
            lines: (2000..4000)
                .map(|i| LogLine::new(format!("l{i}"), None))
                .collect(),
            total: 8000,
            ..Default::default()
        });
        assert_eq!((v.first, v.lines.len()), (2000, WINDOW_LINES));
        assert!(
            !v.at_tail,
            "the newest lines were dropped: live lines wait for G"
        );
        v.push_live(LogLine::new("new", None));
        assert_eq!(v.lines.back().unwrap().text, "l6999");
        assert_eq!(v.total, 8001);
    }
}
