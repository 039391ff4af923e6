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
/// or `unknown` (the label makes it `cache unknown`) with why and the key that asks; after a
/// check that could not evaluate the package, what it failed on and when.
pub(crate) fn detail_value(app: &App, name: &str) -> Vec<Span<'static>> {
    let Some(failure) = app.cache_failures.get(name) else {
        return answer_value(app, name);
    };
    let t = &app.theme;
    let ago = super::detail::age(app.unix_now, failure.at);
    let when = if ago.is_empty() {
        ago
    } else {
        format!(" {ago}")
    };
    let failed = format!("the last ask failed{when}: {}", first_line(&failure.error));
    // A failure is newer than any answer kept (an evaluation drops it): the answer, if one is
    // still current, stays as what was last known.
    if app.caches.contains_key(name) {
        let mut v = answer_value(app, name);
        v.push(Span::styled(format!(" · {failed}"), t.bad));
        return v;
    }
    vec![
        Span::styled("unknown · ", t.muted),
        Span::styled(failed, t.bad),
    ]
}

/// The line of nix's message that says what went wrong (not a bare `error:` heading).
fn first_line(error: &str) -> &str {
    error
        .lines()
        .map(str::trim)
        .map(|l| l.strip_prefix("error:").map_or(l, str::trim_start))
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
}

/// [`detail_value`] from the last answer alone.
fn answer_value(app: &App, name: &str) -> Vec<Span<'static>> {
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
