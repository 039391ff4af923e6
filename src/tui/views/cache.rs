//! The binary-cache state of a package as the tree and the detail pane show it: from its
//! newest evaluation while that is current (`app.caches`), also for a package never built.

use ratatui::text::Span;

use crate::jobs::cache::CacheState;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::View;

/// The tree's mark after the name: ` ☁` when a cache has the package's outputs.
pub(super) fn tree_mark(app: &App, name: &str) -> Option<Span<'static>> {
    app.caches.get(name)?.cached_in()?;
    let cloud = if app.theme.glyphs.ascii {
        " (cached)"
    } else {
        " ☁"
    };
    Some(Span::styled(cloud, app.theme.muted))
}

/// The detail pane's `cache` value: `☁ cached (URL)`, `not in any cache (asked URL…, 5m ago)`,
/// or `unknown` (the label makes it `cache unknown`) with why and the key that asks.
pub(super) fn detail_value(app: &App, name: &str) -> Vec<Span<'static>> {
    let t = &app.theme;
    let when = |at: u64| super::detail::age(app.unix_now, at);
    let asks = app
        .keymap
        .hint(View::Main, Action::CheckCache)
        .map(|k| format!(" · {k} asks the caches"))
        .unwrap_or_default();
    let Some(status) = app.caches.get(name) else {
        return vec![Span::styled(format!("unknown{asks}"), t.muted)];
    };
    let asked_at = status
        .asked
        .as_ref()
        .map(|a| when(a.at))
        .unwrap_or_default();
    match &status.state {
        Some(CacheState::Cached { url }) => {
            let cloud = if t.glyphs.ascii {
                "cached"
            } else {
                "☁ cached"
            };
            let mut v = vec![Span::styled(format!("{cloud} ({url})"), t.good)];
            if !asked_at.is_empty() {
                v.push(Span::styled(format!(" · {asked_at}"), t.muted));
            }
            v
        }
        Some(CacheState::NotCached) => {
            let mut asked: Vec<String> = status
                .asked
                .as_ref()
                .map(|a| a.substituters.clone())
                .unwrap_or_default();
            if !asked_at.is_empty() {
                asked.push(asked_at);
            }
            let how = if asked.is_empty() {
                String::new()
            } else {
                format!(" (asked {})", asked.join(", "))
            };
            vec![Span::styled(format!("not in any cache{how}"), t.warning)]
        }
        Some(CacheState::Unknown { why }) => {
            let at = if asked_at.is_empty() {
                String::new()
            } else {
                format!(", {asked_at}")
            };
            vec![Span::styled(format!("unknown ({why}{at}){asks}"), t.muted)]
        }
        None => vec![Span::styled(
            format!("unknown (not asked about this evaluation){asks}"),
            t.muted,
        )],
    }
}
