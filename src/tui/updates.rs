//! The updates view's state: upstream rows as they stream in (`jobs::upstream`), how they are
//! sorted and filtered, the selection, and which bump is being prepared. Pure data; the keys
//! are in `update/updates.rs`, the drawing in `views/updates.rs`.

use std::collections::BTreeSet;

use crate::jobs::upstream::{Status, UpstreamRow};
use crate::search;

/// How the rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Outdated first (most commits behind first), then unreachable, then up to date.
    #[default]
    Status,
    Name,
    Behind,
}

impl Sort {
    #[must_use]
    pub fn next(self) -> Sort {
        match self {
            Sort::Status => Sort::Name,
            Sort::Name => Sort::Behind,
            Sort::Behind => Sort::Status,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Status => "status",
            Sort::Name => "name",
            Sort::Behind => "behind",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdatesView {
    /// Which check the rows belong to; rows of an earlier check are dropped.
    pub check: u64,
    /// Packages asked about, and the rows answered so far (in arrival order).
    pub asked: usize,
    pub rows: Vec<UpstreamRow>,
    pub sort: Sort,
    /// Fuzzy filter on the package name.
    pub filter: String,
    /// Keys go to the filter.
    pub typing: bool,
    pub only_outdated: bool,
    /// Index into `visible()`.
    pub selected: usize,
    /// The bump whose plan is being computed (Enter was pressed on it).
    pub planning: Option<String>,
    /// Packages bumped in this view (their rows say so).
    pub bumped: BTreeSet<String>,
}

impl UpdatesView {
    pub fn new(check: u64, asked: usize) -> UpdatesView {
        UpdatesView {
            check,
            asked,
            ..UpdatesView::default()
        }
    }

    pub fn done(&self) -> bool {
        self.rows.len() >= self.asked
    }

    /// Adds (or replaces) a package's row, keeping the selection on the same package.
    pub fn add(&mut self, row: UpstreamRow) {
        let selected = self.selected_row().map(|r| r.name.clone());
        match self.rows.iter_mut().find(|r| r.name == row.name) {
            Some(old) => *old = row,
            None => self.rows.push(row),
        }
        if let Some(name) = selected
            && let Some(i) = self.visible().iter().position(|r| r.name == name)
        {
            self.selected = i;
        }
    }

    /// The rows shown, filtered and sorted.
    pub fn visible(&self) -> Vec<&UpstreamRow> {
        let matcher = search::matcher();
        let mut rows: Vec<&UpstreamRow> = self
            .rows
            .iter()
            .filter(|r| !self.only_outdated || r.status == Status::Outdated)
            .filter(|r| {
                self.filter.is_empty() || search::score(&matcher, &r.name, &self.filter).is_some()
            })
            .collect();
        let rank = |r: &UpstreamRow| match r.status {
            Status::Outdated => 0,
            Status::Unreachable => 1,
            Status::UpToDate => 2,
        };
        let behind = |r: &UpstreamRow| std::cmp::Reverse(r.behind.unwrap_or(0));
        match self.sort {
            Sort::Status => rows
                .sort_by(|a, b| (rank(a), behind(a), &a.name).cmp(&(rank(b), behind(b), &b.name))),
            Sort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            Sort::Behind => {
                rows.sort_by(|a, b| (behind(a), &a.name).cmp(&(behind(b), &b.name)));
            }
        }
        rows
    }

    pub fn selected_row(&self) -> Option<&UpstreamRow> {
        self.visible().get(self.selected).copied()
    }

    pub fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }
}

/// What the bump preview shows: the plan's diff and what it means, computed by `effects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpPreview {
    /// `0.1.0 abc -> 0.2.0 def (tag v0.2.0)`, or where the package already is.
    pub summary: String,
    /// Unified diff of every file the bump writes; empty when nothing changes.
    pub diff: String,
    /// Why `build.deps_hash` becomes "unknown", when it does.
    pub deps_note: Option<String>,
    pub packages: Vec<String>,
}

/// The revision a bump from this row moves to: the newest tag when the package follows
/// releases, else the default branch's head (what the row showed, not a later one).
pub fn bump_target(row: &UpstreamRow) -> Option<String> {
    if row.follows_tags() {
        row.newest_tag.clone()
    } else {
        row.head.clone()
    }
}

#[cfg(test)]
mod tests;
