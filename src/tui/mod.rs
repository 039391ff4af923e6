//! The terminal UI: `App` state, `Action`s, a pure `update`, and views that only draw.
//!
//! Flow: `runtime` reads terminal events -> `keymap` turns keys into `Action`s for the current
//! view -> `update::update(&mut App, Action) -> Vec<Command>` changes state -> `runtime` executes
//! the commands and, when `app.dirty`, draws `views::draw(&App)`.
//!
//! Builds: `b` builds the selected package (on a tier or org line: every package shown
//! in it), `B` everything the filter shows, `t` runs its tests, `J` opens the jobs view, `c`
//! cancels, `f` writes a hash mismatch's `got:` hash and offers a rebuild, `E` opens package.toml
//! in `$EDITOR` (a `⚠` package, one whose file did not load, at its first error's line, and
//! again while it still has errors), `O` opens a saved internal-json log, `!` lists every problem,
//! `M` the message history, `ctrl-r` reloads; changes on disk reload their package (`watch`). The log of the selected package's running or
//! last job opens with `L`, or with Enter when the package has one (Enter on a group, or on a
//! package without a log, still opens / closes the group or focuses the detail). `l` stays
//! "expand" as in the tree's vim keys. The runtime owns the job engine; `update` only returns
//! `Command`s (`Build`, `Cancel`, `FixHash`, `LoadLog`, ...) and the runtime reports back with
//! `Feedback`. `q` asks first while jobs run; Ctrl-c cancels them and quits, and so do SIGTERM,
//! SIGHUP, SIGQUIT and SIGINT (exit 128 + the signal's number); every exit cancels the jobs and
//! waits (bounded) for nix to stop its builders and the results to be recorded before the
//! terminal is restored. Hardening scores evaluate the catalog's Nix code, so they are computed
//! only on `H` (or shown from a cache keyed by the catalog's content).
//!
//! Test hook: in debug builds only, `ATWB_TEST_PANIC=1` makes the TUI panic after its first frame
//! (`=running`: after the first frame drawn while a build's builder logs)
//! (used by `tests/e2e_tmux.rs` to check that a panic restores the terminal).

pub mod action;
pub(crate) mod ansi;
pub mod app;
pub(crate) mod debug;
pub mod editor;
pub mod effects;
pub(crate) mod entries;

mod cache_effects;
pub mod forms;
mod hash_effects;
pub(crate) mod jobs;
pub mod keymap;
pub mod layout;
pub mod logview;
pub mod messages;
pub mod runtime;
pub(crate) mod theme;
pub mod update;
pub mod updates;
pub mod views;
pub mod wizard;
mod wizard_effects;

pub mod watch;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod drvtree_tests;
#[cfg(test)]
mod hash_tests;
#[cfg(test)]
mod problems_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

pub use action::{Action, Command};
pub use app::App;
pub use keymap::KeyMap;
pub use update::update;

use crate::config::Config;
use crate::paths;

/// Loads the catalog and the keymap and builds the initial state, without touching the terminal.
pub fn load_app(catalog_root: &Path) -> Result<App> {
    let loaded = crate::catalog::load(catalog_root)
        .with_context(|| format!("loading the catalog at {}", catalog_root.display()))?;
    build_app(loaded, catalog_root)
}

/// Reads the config's keymap and theme and builds the state. Package folders that did not load
/// are kept as `⚠` rows, not dropped.
fn build_app(loaded: crate::catalog::Loaded, catalog_root: &Path) -> Result<App> {
    let config_dir = paths::config_dir();
    let config = Config::load_from(&config_dir)?;
    let config_file = config_dir.join("config.toml");
    let theme = theme::Theme::load(&config, theme::Terminal::from_env())?;
    let mut keymap = KeyMap::with_overrides(&config.keys, &config_file)?;
    keymap.ascii = theme.glyphs.ascii;
    let mut app = App::new(loaded.catalog, display_path(catalog_root), 0, keymap);
    app.set_problems(loaded.invalid, loaded.diagnostics);
    app.refilter();
    app.theme = theme;
    app.config_file = home_relative(&config_file);
    Ok(app)
}

/// `~/...` for paths under `$HOME`, so the help overlay stays short.
fn home_relative(path: &Path) -> String {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

/// The catalog path as the title bar shows it: relative to the working directory when inside it.
fn display_path(root: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| root.strip_prefix(cwd).ok().map(Path::to_path_buf));
    match rel {
        Some(r) if r.as_os_str().is_empty() => "./".to_owned(),
        Some(r) => format!("{}/", r.display()),
        None => format!("{}/", root.display()),
    }
}

/// Opens the UI; the exit code is 0, or 128 + the number of the signal (SIGTERM, SIGHUP,
/// SIGQUIT, SIGINT) that ended it once its jobs were cancelled and the terminal restored.
pub fn run(catalog_root: PathBuf) -> Result<ExitCode> {
    // Everything that can fail with a readable message happens before the terminal switches mode.
    let _log = init_logging();
    let app = load_app(&catalog_root)?;
    tracing::info!(catalog = %catalog_root.display(), packages = app.catalog.packages.len(), "tui start");
    Ok(match runtime::run(app, catalog_root)? {
        Some(signal) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX)),
        None => ExitCode::SUCCESS,
    })
}

/// Logs to `<state dir>/atwb.log`, never to the terminal the UI draws on. `ATWB_LOG` sets the
/// filter (default `info`). Returns the writer guard, which flushes on drop.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = paths::state_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "atwb.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATWB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
