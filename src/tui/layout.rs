//! Where each part of the screen goes. Both the views (to draw) and `update` (page sizes, mouse
//! hit-testing) use this one function, so they always agree.

use ratatui::layout::Rect;

use super::app::{App, Mode, Pane};

/// Below this width only the focused pane is shown.
pub const NARROW_WIDTH: u16 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    /// The tree pane with its border, if shown.
    pub tree: Option<Rect>,
    /// The search line inside the tree pane, when searching or filtered by a query.
    pub search: Option<Rect>,
    /// The tree lines inside the tree pane.
    pub tree_list: Rect,
    /// The detail pane with its border, if shown.
    pub detail: Option<Rect>,
    /// Everything between the title bar and the jobs strip (the log and jobs views cover it).
    pub body: Rect,
    /// The jobs strip above the status bar: one line per active job (at most 3), when any runs.
    pub jobs: Option<Rect>,
    pub status: Rect,
}

/// Lines of the jobs strip for `active` jobs.
pub fn strip_height(active: usize, screen_height: u16) -> u16 {
    // Keep at least 8 lines for the panes.
    (active.min(3) as u16).min(screen_height.saturating_sub(10))
}

/// Header lines of the log view (title, error class / hash, message).
pub const LOG_HEADER: u16 = 2;

/// Where the log view's lines go (inside its border, below its header).
pub fn log_text(app: &App) -> Rect {
    let inner = inner(areas(app).body);
    Rect {
        y: inner.y + LOG_HEADER.min(inner.height),
        height: inner.height.saturating_sub(LOG_HEADER),
        ..inner
    }
}

pub fn areas(app: &App) -> Areas {
    let full = Rect::new(0, 0, app.width, app.height);
    let title = Rect {
        height: full.height.min(1),
        ..full
    };
    let status_h = status_height(app);
    let status = Rect {
        y: full.height.saturating_sub(status_h),
        height: status_h,
        ..full
    };
    let strip_h = strip_height(app.jobs.active_count(), full.height);
    let body_h = full.height.saturating_sub(1 + status_h + strip_h);
    let body = Rect::new(0, title.height, full.width, body_h);
    let jobs = (strip_h > 0).then(|| Rect::new(0, title.height + body_h, full.width, strip_h));

    let (tree, detail) = if full.width < NARROW_WIDTH {
        match app.focus {
            Pane::Tree => (Some(body), None),
            Pane::Detail => (None, Some(body)),
        }
    } else {
        let tree_w = (full.width * 35 / 100).clamp(28, 44);
        (
            Some(Rect {
                width: tree_w,
                ..body
            }),
            Some(Rect {
                x: tree_w,
                width: full.width - tree_w,
                ..body
            }),
        )
    };

    let show_search = app.mode == Mode::Search || !app.filter.query.is_empty();
    let (search, tree_list) = match tree {
        Some(t) => {
            let inner = inner(t);
            if show_search && inner.height > 0 {
                (
                    Some(Rect { height: 1, ..inner }),
                    Rect {
                        y: inner.y + 1,
                        height: inner.height - 1,
                        ..inner
                    },
                )
            } else {
                (None, inner)
            }
        }
        None => (None, Rect::default()),
    };
    Areas {
        title,
        tree,
        search,
        tree_list,
        detail,
        body,
        jobs,
        status,
    }
}

/// Lines of the status bar: one, or as many as the message needs to be read whole (at most
/// `messages::MAX_STATUS_LINES`; never on a screen too short to keep 8 lines for the panes).
pub fn status_height(app: &App) -> u16 {
    let Some(n) = &app.notice else {
        return app.height.min(1);
    };
    if app.height < 12 {
        return app.height.min(1);
    }
    let lines = super::messages::status_lines(&n.text, notice_width(app)).len();
    u16::try_from(lines).unwrap_or(1).max(1)
}

/// Columns a status message is wrapped to (one column of margin on the left).
pub fn notice_width(app: &App) -> usize {
    usize::from(app.width.saturating_sub(1).max(1))
}

/// The inside of a bordered block.
pub fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x.saturating_add(1),
        y: r.y.saturating_add(1),
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

/// A centred rectangle for overlays.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
