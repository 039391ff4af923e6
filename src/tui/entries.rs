//! The tree's entries: valid packages and the package folders that did not load (`⚠` rows),
//! merged in (tier, org, name) order, with the invalid ones whose tier is unknown in a group of
//! their own at the end. Also the reload of one package folder in place, and the selection that
//! follows a package folder across reloads (also when it turns valid or invalid).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::catalog::load::{invalid_order, sort_diagnostics};
use crate::catalog::{Diagnostic, InvalidPackage, Reloaded, Tier, replaces_exactly};
use crate::search;

use super::app::{App, NodeKey, Row};

/// One entry of the tree.
#[derive(Debug, Clone, Copy)]
enum Item {
    Valid(usize),
    Invalid(usize),
}

impl Item {
    fn row(self) -> Row {
        match self {
            Item::Valid(index) => Row::Package { index },
            Item::Invalid(index) => Row::Invalid { index },
        }
    }
}

impl App {
    /// The folder of the selected package, valid or not.
    pub fn selected_dir(&self) -> Option<PathBuf> {
        match self.selected_row()? {
            Row::Package { index } => Some(self.catalog.packages.get(*index)?.dir.clone()),
            Row::Invalid { index } => Some(self.invalid.get(*index)?.dir.clone()),
            _ => None,
        }
    }

    /// Selects the row of the package in `dir`, when it is shown.
    pub fn select_dir(&mut self, dir: Option<&Path>) {
        let Some(dir) = dir else { return };
        let key = if let Some(i) = self.catalog.packages.iter().position(|p| p.dir == dir) {
            NodeKey::Package(i)
        } else if let Some(i) = self.invalid.iter().position(|p| p.dir == dir) {
            NodeKey::Invalid(i)
        } else {
            return;
        };
        if let Some(pos) = self.rows.iter().position(|r| r.is(&key)) {
            self.selected = pos;
        }
    }

    /// The selected invalid package, if a `⚠` row is selected.
    pub fn selected_invalid(&self) -> Option<&InvalidPackage> {
        match self.selected_row()? {
            Row::Invalid { index } => self.invalid.get(*index),
            _ => None,
        }
    }

    /// The invalid packages and every diagnostic, as a load reported them.
    pub fn set_problems(&mut self, invalid: Vec<InvalidPackage>, problems: Vec<Diagnostic>) {
        self.invalid = invalid;
        self.problems = problems;
        self.count_invalid_files();
    }

    fn count_invalid_files(&mut self) {
        let files: HashSet<&Path> = self.problems.iter().map(|d| d.file.as_path()).collect();
        self.diagnostics = files.len();
    }

    /// Puts the package folder `dir`, read again on its own, in place of what the tree showed
    /// for it. False (nothing changed) when a rule over the whole catalog is involved: the
    /// caller then loads the whole catalog.
    pub fn replace_package(&mut self, dir: &Path, new: Reloaded) -> bool {
        if !replaces_exactly(&self.catalog.packages, &self.invalid, dir, &new) {
            return false;
        }
        let selected = self.selected_dir();
        self.catalog.packages.retain(|p| p.dir != dir);
        self.invalid.retain(|i| i.dir != dir);
        self.problems.retain(|d| !d.file.starts_with(dir));
        match new {
            Reloaded::Valid(p) => {
                let key = |q: &crate::catalog::Package| (q.tier, q.org.clone(), q.name.clone());
                let at = self.catalog.packages.partition_point(|q| key(q) < key(&p));
                self.catalog.packages.insert(at, *p);
            }
            Reloaded::Invalid(i) => {
                self.problems.extend(i.diagnostics.iter().cloned());
                sort_diagnostics(&mut self.problems);
                let at = self
                    .invalid
                    .partition_point(|x| invalid_order(x, &i).is_lt());
                self.invalid.insert(at, i);
            }
            Reloaded::Gone | Reloaded::NeedsFullLoad => {}
        }
        self.count_invalid_files();
        // Indices moved: a cached search result is of the old list.
        self.search_cache = None;
        self.refilter();
        self.select_dir(selected.as_deref());
        true
    }

    /// Invalid packages the filter shows: by tier when the file says one, by the search over
    /// their folder and org; an unknown category does not hide them.
    pub(crate) fn invalid_passing_filter(&self) -> Vec<usize> {
        let query = self.filter.query.trim();
        let hits: Option<HashSet<usize>> = (!query.is_empty()).then(|| {
            search::rank(&self.invalid, query)
                .into_iter()
                .map(|(i, _)| i)
                .collect()
        });
        (0..self.invalid.len())
            .filter(|&i| {
                let p = &self.invalid[i];
                self.filter.tier.is_none_or(|t| p.tier == Some(t))
                    && self
                        .filter
                        .category
                        .is_none_or(|c| p.category.is_none_or(|pc| pc == c))
                    && hits.as_ref().is_none_or(|h| h.contains(&i))
            })
            .collect()
    }

    /// The shown entries with a known tier in tree order, and the shown invalid ones without.
    fn tree_items(&self) -> (Vec<Item>, Vec<usize>) {
        let packages = &self.catalog.packages;
        let (placed, unplaced): (Vec<usize>, Vec<usize>) = self
            .shown_invalid
            .iter()
            .partition(|&&i| self.invalid[i].tier.is_some());
        let invalid_key = |i: usize| {
            let p = &self.invalid[i];
            (
                p.tier.unwrap_or(Tier::Specialized),
                p.org.as_str(),
                p.name.as_str(),
            )
        };
        let mut items = Vec::with_capacity(self.shown.len() + placed.len());
        let mut invalid = placed.into_iter().peekable();
        for &i in &self.shown {
            let p = &packages[i];
            while let Some(&j) = invalid.peek()
                && invalid_key(j) < (p.tier, p.org.as_str(), p.name.as_str())
            {
                items.push(Item::Invalid(j));
                invalid.next();
            }
            items.push(Item::Valid(i));
        }
        items.extend(invalid.map(Item::Invalid));
        (items, unplaced)
    }

    /// Rebuilds the tree lines from the shown entries and `collapsed`, keeping the selection on
    /// the same node when it is still visible.
    pub fn rebuild_rows(&mut self) {
        let previous = self.selected_row().map(Row::key);
        let (items, unplaced) = self.tree_items();
        let (packages, invalid) = (&self.catalog.packages, &self.invalid);
        let tier_of = |it: &Item| match *it {
            Item::Valid(i) => packages[i].tier,
            Item::Invalid(i) => invalid[i].tier.unwrap_or(Tier::Specialized),
        };
        let org_of = |it: &Item| match *it {
            Item::Valid(i) => packages[i].org.as_str(),
            Item::Invalid(i) => invalid[i].org.as_str(),
        };
        let mut rows = Vec::new();
        for in_tier in items.chunk_by(|a, b| tier_of(a) == tier_of(b)) {
            let tier = tier_of(&in_tier[0]);
            let tier_open = !self.collapsed.contains(&NodeKey::Tier(tier));
            rows.push(Row::Tier {
                tier,
                count: in_tier.len(),
                expanded: tier_open,
            });
            if !tier_open {
                continue;
            }
            for in_org in in_tier.chunk_by(|a, b| org_of(a) == org_of(b)) {
                let org = org_of(&in_org[0]).to_owned();
                let org_open = !self.collapsed.contains(&NodeKey::Org(tier, org.clone()));
                rows.push(Row::Org {
                    tier,
                    org,
                    count: in_org.len(),
                    expanded: org_open,
                });
                if org_open {
                    rows.extend(in_org.iter().map(|it| it.row()));
                }
            }
        }
        if !unplaced.is_empty() {
            let open = !self.collapsed.contains(&NodeKey::Unplaced);
            rows.push(Row::Unplaced {
                count: unplaced.len(),
                expanded: open,
            });
            if open {
                rows.extend(unplaced.into_iter().map(|index| Row::Invalid { index }));
            }
        }
        self.rows = rows;
        self.selected = previous
            .and_then(|key| self.rows.iter().position(|r| r.is(&key)))
            .unwrap_or_else(|| self.selected.min(self.rows.len().saturating_sub(1)));
    }
}
