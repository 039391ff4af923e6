//! The main view: the package tree and the detail pane; moving, opening and closing groups,
//! search, the tier and category filters, and the mouse.

use ratatui::layout::Position;

use crate::catalog::Tier;

use crate::tui::action::Action;
use crate::tui::app::{App, Mode, NodeKey, Pane, Row, next_category};
use crate::tui::layout::{self, areas};
use crate::tui::views::detail;

/// Keys of the tree and the detail pane (and of the search line while typing).
pub(super) fn navigation(app: &mut App, action: Action) {
    match action {
        Action::MoveUp => move_by(app, -1),
        Action::MoveDown => move_by(app, 1),
        Action::PageUp => move_by(app, -page(app)),
        Action::PageDown => move_by(app, page(app)),
        Action::Top => move_by(app, isize::MIN / 2),
        Action::Bottom => move_by(app, isize::MAX / 2),
        Action::Expand => expand(app),
        Action::Collapse => collapse(app),
        Action::Toggle => toggle(app),
        Action::NextPane | Action::PrevPane => {
            app.focus = match app.focus {
                Pane::Tree => Pane::Detail,
                Pane::Detail => Pane::Tree,
            };
        }
        Action::Search => {
            app.mode = Mode::Search;
            app.focus = Pane::Tree;
        }
        Action::SearchInput(c) => {
            app.filter.query.push(c);
            query_changed(app);
        }
        Action::SearchBackspace => {
            app.filter.query.pop();
            query_changed(app);
        }
        Action::SearchConfirm => app.mode = Mode::Normal,
        Action::SearchCancel | Action::ClearSearch => {
            app.mode = Mode::Normal;
            if !app.filter.query.is_empty() {
                app.filter.query.clear();
                app.refilter();
                keep_selection_visible(app);
            }
        }
        Action::FilterTier1 => set_tier(app, Some(Tier::Foundation)),
        Action::FilterTier2 => set_tier(app, Some(Tier::Ecosystem)),
        Action::FilterTier3 => set_tier(app, Some(Tier::Specialized)),
        Action::FilterTierAll => set_tier(app, None),
        Action::CycleCategory => {
            app.filter.category = next_category(app.filter.category);
            app.refilter();
            keep_selection_visible(app);
        }
        // Enter on a group (or a package without a log): open or close it.
        Action::OpenLogOrToggle => toggle(app),
        // Keys of other views (log, jobs, dialogs) that mean nothing here.
        _ => app.dirty = false,
    }
}

fn query_changed(app: &mut App) {
    // A new query shows every match: reopen closed groups.
    app.collapsed.clear();
    app.refilter();
    app.select_best_match();
    app.detail_scroll = 0;
    keep_selection_visible(app);
}

fn set_tier(app: &mut App, tier: Option<Tier>) {
    app.filter.tier = tier;
    app.refilter();
    keep_selection_visible(app);
}

/// Lines in a page of the focused pane.
fn page(app: &App) -> isize {
    let a = areas(app);
    let h = match app.focus {
        Pane::Tree => a.tree_list.height,
        Pane::Detail => a.detail.map_or(1, |d| layout::inner(d).height),
    };
    h.saturating_sub(1).max(1) as isize
}

fn move_by(app: &mut App, delta: isize) {
    match app.focus {
        Pane::Tree => {
            let last = app.rows.len().saturating_sub(1) as isize;
            let next = (app.selected as isize)
                .saturating_add(delta)
                .clamp(0, last.max(0));
            if next as usize != app.selected {
                app.selected = next as usize;
                app.detail_scroll = 0;
            }
            keep_selection_visible(app);
        }
        Pane::Detail => {
            let max = max_detail_scroll(app);
            let next = (app.detail_scroll as isize)
                .saturating_add(delta)
                .clamp(0, max.max(0));
            app.detail_scroll = next as u16;
        }
    }
}

fn expand(app: &mut App) {
    let Some(row) = app.selected_row().cloned() else {
        return;
    };
    match row {
        Row::Package { .. } | Row::Invalid { .. } => app.focus = Pane::Detail,
        Row::Tier {
            expanded: false, ..
        }
        | Row::Org {
            expanded: false, ..
        }
        | Row::Unplaced {
            expanded: false, ..
        } => toggle(app),
        // An open group: step into its first child, like a file tree.
        _ => move_by(app, 1),
    }
}

fn collapse(app: &mut App) {
    if app.focus == Pane::Detail {
        app.focus = Pane::Tree;
        return;
    }
    let Some(row) = app.selected_row().cloned() else {
        return;
    };
    match row {
        Row::Tier { expanded: true, .. }
        | Row::Org { expanded: true, .. }
        | Row::Unplaced { expanded: true, .. } => toggle(app),
        _ => select_parent(app),
    }
}

fn toggle(app: &mut App) {
    let Some(row) = app.selected_row().cloned() else {
        return;
    };
    match row {
        Row::Package { .. } | Row::Invalid { .. } => app.focus = Pane::Detail,
        Row::Tier { expanded, .. } | Row::Org { expanded, .. } | Row::Unplaced { expanded, .. } => {
            let key = row.key();
            if expanded {
                app.collapsed.insert(key);
            } else {
                app.collapsed.remove(&key);
            }
            app.rebuild_rows();
            keep_selection_visible(app);
        }
    }
}

fn select_parent(app: &mut App) {
    let parent = match app.selected_row() {
        Some(Row::Package { index }) => {
            let p = &app.catalog.packages[*index];
            NodeKey::Org(p.tier, p.org.clone())
        }
        Some(Row::Invalid { index }) => {
            let p = &app.invalid[*index];
            match p.tier {
                Some(tier) => NodeKey::Org(tier, p.org.clone()),
                None => NodeKey::Unplaced,
            }
        }
        Some(Row::Org { tier, .. }) => NodeKey::Tier(*tier),
        _ => return,
    };
    if let Some(pos) = app.rows.iter().position(|r| r.is(&parent)) {
        app.selected = pos;
        keep_selection_visible(app);
    }
}

/// Scrolls the tree so the selected line is on screen.
pub(super) fn keep_selection_visible(app: &mut App) {
    let height = areas(app).tree_list.height.max(1) as usize;
    if app.selected < app.tree_offset {
        app.tree_offset = app.selected;
    } else if app.selected >= app.tree_offset + height {
        app.tree_offset = app.selected + 1 - height;
    }
    let max_offset = app.rows.len().saturating_sub(height);
    app.tree_offset = app.tree_offset.min(max_offset);
}

pub(super) fn click(app: &mut App, column: u16, row: u16) {
    let at = Position::new(column, row);
    let a = areas(app);
    if !app.overlays.is_empty() {
        app.dirty = false;
        return;
    }
    if a.tree_list.contains(at) {
        let line = app.tree_offset + (row - a.tree_list.y) as usize;
        if line < app.rows.len() {
            if app.selected == line {
                // A second click on a group opens or closes it.
                toggle(app);
            } else {
                app.selected = line;
                app.detail_scroll = 0;
            }
            app.focus = Pane::Tree;
            if app.mode == Mode::Search {
                app.mode = Mode::Normal;
            }
        }
    } else if a.detail.is_some_and(|d| d.contains(at)) {
        app.focus = Pane::Detail;
    } else if a.tree.is_some_and(|t| t.contains(at)) {
        app.focus = Pane::Tree;
    } else {
        app.dirty = false;
    }
}

pub(super) fn scroll(app: &mut App, column: u16, row: u16, down: bool) {
    let at = Position::new(column, row);
    let a = areas(app);
    let step = if down { 3 } else { -3 };
    if !app.overlays.is_empty() {
        for _ in 0..3 {
            let _ = super::overlay_action(
                app,
                if down {
                    Action::MoveDown
                } else {
                    Action::MoveUp
                },
            );
        }
        return;
    }
    if a.tree.is_some_and(|t| t.contains(at)) {
        let max_offset = app
            .rows
            .len()
            .saturating_sub(a.tree_list.height.max(1) as usize) as isize;
        app.tree_offset = (app.tree_offset as isize + step).clamp(0, max_offset) as usize;
    } else if a.detail.is_some_and(|d| d.contains(at)) {
        let max = max_detail_scroll(app);
        app.detail_scroll = (app.detail_scroll as isize + step).clamp(0, max.max(0)) as u16;
    } else {
        app.dirty = false;
    }
}

/// The detail scrolls until its last line is at the bottom of the pane, like a pager.
fn max_detail_scroll(app: &App) -> isize {
    let visible = areas(app).detail.map_or(1, |d| layout::inner(d).height) as usize;
    detail::line_count(app).saturating_sub(visible) as isize
}
