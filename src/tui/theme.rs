//! Every colour, style and glyph the TUI draws with. Views take them from `app.theme`; nothing
//! else in `tui` names a colour.
//!
//! The theme is the coloured one, or the monochrome one when `NO_COLOR` is set and not empty
//! (no-color.org: modifiers such as bold and reversed only, and log lines lose their ANSI
//! colours). `[theme]` in config.toml then overrides single roles, as television's
//! `[ui.theme_overrides]` does: an explicit setting wins over `NO_COLOR`, as no-color.org asks.
//! The glyphs are Unicode, or ASCII with `glyphs = "ascii"` or when the locale is not UTF-8.
//! Views only add emphasis (bold) to a role here and there, never a colour.

use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::config::{Config, Glyphs, Spanned, StyleSpec};

use super::app::PackageStatus;

const NONE: Style = Style::new();

const fn fg(c: Color) -> Style {
    Style::new().fg(c)
}

const fn bg(c: Color) -> Style {
    Style::new().bg(c)
}

const fn m(modifier: Modifier) -> Style {
    Style::new().add_modifier(modifier)
}

/// Declares the roles once: the `Theme` fields, their config names, the coloured and the
/// monochrome value of each, so a new role is overridable and documented as soon as it exists.
macro_rules! roles {
    ($( $(#[doc = $doc:literal])+ $name:ident: $colour:expr, $mono:expr; )*) => {
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            $( $(#[doc = $doc])+ pub $name: Style, )*
            pub glyphs: GlyphSet,
            /// Whether log lines keep the colours of their ANSI escapes (not under `NO_COLOR`).
            pub ansi_colours: bool,
        }

        impl Theme {
            /// The names `[theme]` accepts, in declaration order.
            pub const ROLES: &[&str] = &[$(stringify!($name)),*];

            pub fn coloured() -> Theme {
                Theme { $($name: $colour,)* glyphs: GlyphSet::UNICODE, ansi_colours: true }
            }

            /// For `NO_COLOR`: no colour anywhere, modifiers tell the roles apart.
            pub fn monochrome() -> Theme {
                Theme { $($name: $mono,)* glyphs: GlyphSet::UNICODE, ansi_colours: false }
            }

            fn role_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $( stringify!($name) => Some(&mut self.$name), )*
                    _ => None,
                }
            }
        }
    };
}

roles! {
    /// Ordinary text (descriptions, values).
    text: NONE, NONE;
    /// Secondary text: field labels, counts, hints, ages.
    muted: fg(Color::DarkGray), m(Modifier::DIM);
    /// Headings: a package's name, a group's summary, job titles.
    heading: m(Modifier::BOLD), m(Modifier::BOLD);
    /// Names inside the detail pane (the org, service options).
    accent: fg(Color::Cyan), NONE;
    /// Border of a pane without the focus.
    border: fg(Color::DarkGray), NONE;
    /// Border of the focused pane and of overlays.
    border_focused: fg(Color::Cyan), m(Modifier::BOLD);
    /// The selected row of the focused tree or jobs list.
    selection: m(Modifier::REVERSED), m(Modifier::REVERSED);
    /// The selected tree row while the detail pane has the focus.
    selection_unfocused: bg(Color::DarkGray), m(Modifier::UNDERLINED);
    /// Characters a search matched.
    search_match: fg(Color::Yellow).add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
        m(Modifier::BOLD.union(Modifier::UNDERLINED));
    /// The current match of the log view's search.
    search_current: fg(Color::Yellow).add_modifier(
            Modifier::BOLD.union(Modifier::UNDERLINED).union(Modifier::REVERSED)),
        m(Modifier::BOLD.union(Modifier::UNDERLINED).union(Modifier::REVERSED));
    /// The `/` of a search line.
    prompt: fg(Color::Yellow).add_modifier(Modifier::BOLD), m(Modifier::BOLD);
    /// The text cursor of a search line or prompt.
    cursor: fg(Color::Yellow), NONE;
    /// Tier lines of the tree.
    tier_header: m(Modifier::BOLD), m(Modifier::BOLD);
    /// Org lines of the tree.
    org_header: fg(Color::Cyan), NONE;
    /// A build running or queued (mark, state, spinner).
    status_running: fg(Color::Yellow), m(Modifier::BOLD);
    /// Last build succeeded.
    status_ok: fg(Color::Green), NONE;
    /// Last build failed or timed out.
    status_failed: fg(Color::Red), m(Modifier::BOLD);
    /// Last build was cancelled.
    status_cancelled: fg(Color::Magenta), NONE;
    /// Files changed since the last build.
    status_stale: fg(Color::Yellow), NONE;
    /// Never built.
    status_never: fg(Color::DarkGray), NONE;
    /// Something in order: a verified source, a hardening score within the bar, a `got:` hash.
    good: fg(Color::Green), NONE;
    /// Something wrong: an unverified source, a score over the bar, a failure's reason.
    bad: fg(Color::Red), m(Modifier::BOLD);
    /// Something to look at: an unknown deps hash, a stale note, "+N more".
    warning: fg(Color::Yellow), NONE;
    /// An option's environment variable.
    env_var: fg(Color::Magenta), NONE;
    /// The log view's error class (its first error line is `bad`).
    log_error: fg(Color::Red).add_modifier(Modifier::BOLD), m(Modifier::BOLD);
    /// The `got:` hash of a hash mismatch in the log view.
    got_hash: fg(Color::Green).add_modifier(Modifier::BOLD), m(Modifier::BOLD);
    /// The log view's messages and the hint under a hash mismatch.
    log_warning: fg(Color::Yellow), m(Modifier::BOLD);
    /// Line numbers of the log view.
    log_line_number: fg(Color::DarkGray), m(Modifier::DIM);
    /// The title bar (status marks on it are the status colours, brightened).
    title_bar: fg(Color::White).bg(Color::Blue), m(Modifier::REVERSED);
    /// The status bar.
    status_bar: fg(Color::White).bg(Color::DarkGray), m(Modifier::REVERSED);
    /// Keys in the status bar's hints.
    key_hint: fg(Color::Yellow).bg(Color::DarkGray).add_modifier(Modifier::BOLD),
        m(Modifier::REVERSED.union(Modifier::BOLD));
    /// A notice in the status bar (the result of a command).
    notice: fg(Color::White).bg(Color::DarkGray), m(Modifier::REVERSED);
    /// A notice that reports an error.
    notice_error: fg(Color::White).bg(Color::Red), m(Modifier::REVERSED.union(Modifier::BOLD));
    /// The count of invalid packages in the status bar.
    invalid: fg(Color::Red).add_modifier(Modifier::BOLD), m(Modifier::BOLD);
    /// `[keys.<view>]` headings of the help overlay.
    help_header: fg(Color::Cyan).add_modifier(Modifier::BOLD),
        m(Modifier::BOLD.union(Modifier::UNDERLINED));
    /// Keys in the help overlay.
    help_key: fg(Color::Yellow), m(Modifier::BOLD);
    /// Border of a yes/no question.
    dialog_border: fg(Color::Yellow), m(Modifier::BOLD);
    /// The keys of a yes/no question.
    dialog_key: fg(Color::Yellow).add_modifier(Modifier::BOLD), m(Modifier::BOLD);
    /// Background of the jobs strip.
    jobs_strip: bg(Color::Black), NONE;
    /// A running job's phase in the jobs strip.
    job_phase: fg(Color::Cyan), NONE;
    /// The done part of a progress bar.
    progress: fg(Color::Green), NONE;
    /// The done part of a progress bar once a derivation failed.
    progress_failed: fg(Color::Red), m(Modifier::BOLD);
    /// The rest of a progress bar.
    progress_empty: fg(Color::DarkGray), NONE;
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::coloured()
    }
}

/// The characters of marks, arrows, bars, spinners and borders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlyphSet {
    /// Only ASCII reaches the screen (other characters in the frame are transliterated).
    pub ascii: bool,
    /// Status marks in `PackageStatus` order: building, ok, failed, cancelled, stale, never.
    status: [&'static str; 6],
    /// A job waiting for a slot.
    pub queued: &'static str,
    pub expanded: &'static str,
    pub collapsed: &'static str,
    pub spinner: [&'static str; 4],
    /// Progress bar: done, estimated (nix has not said how many), not done.
    pub bar_done: &'static str,
    pub bar_estimate: &'static str,
    pub bar_empty: &'static str,
    /// Sparkline levels, lowest first.
    pub sparkline: [char; 8],
    pub verified: &'static str,
    pub not_verified: &'static str,
    /// Marks text cut short (one column wide in both sets, so columns line up).
    pub ellipsis: &'static str,
    pub cursor: &'static str,
    pub warning: &'static str,
    /// Derivation-tree marks in `NodeState` order: building, downloading, failed, waiting,
    /// planned, cancelled, done.
    pub drv: [&'static str; 7],
    /// An empty list.
    pub none: &'static str,
    pub border: border::Set<'static>,
}

impl GlyphSet {
    pub const UNICODE: GlyphSet = GlyphSet {
        ascii: false,
        status: ["⟳", "✔", "✘", "⊘", "~", "◌"],
        queued: "…",
        expanded: "▾",
        collapsed: "▸",
        spinner: ["⠋", "⠙", "⠸", "⠴"],
        bar_done: "█",
        bar_estimate: "▒",
        bar_empty: "░",
        sparkline: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
        verified: "✓",
        not_verified: "✗",
        ellipsis: "…",
        cursor: "▏",
        warning: "⚠",
        drv: ["⏵", "↓", "✘", "◔", "⏸", "⊘", "✔"],
        none: "—",
        border: border::PLAIN,
    };

    pub const ASCII: GlyphSet = GlyphSet {
        ascii: true,
        status: ["*", "+", "x", "/", "~", "o"],
        queued: ".",
        expanded: "v",
        collapsed: ">",
        // Not `|/-\`: `/` is the cancelled mark.
        spinner: ["^", ">", "v", "<"],
        bar_done: "#",
        bar_estimate: "=",
        bar_empty: ".",
        sparkline: ['_', '.', ':', '-', '=', '+', '*', '#'],
        verified: "+",
        not_verified: "x",
        ellipsis: "~",
        cursor: "_",
        warning: "!",
        drv: [">", "v", "x", ".", "-", "/", "+"],
        none: "-",
        border: border::Set {
            top_left: "+",
            top_right: "+",
            bottom_left: "+",
            bottom_right: "+",
            vertical_left: "|",
            vertical_right: "|",
            horizontal_top: "-",
            horizontal_bottom: "-",
        },
    };

    pub fn status(&self, s: PackageStatus) -> &'static str {
        self.status[status_index(s)]
    }

    /// `text` cut to at most `width` characters, the cut marked with the ellipsis.
    pub fn truncate(&self, text: &str, width: usize) -> String {
        if text.chars().count() <= width {
            return text.to_owned();
        }
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push_str(self.ellipsis);
        out
    }
}

fn status_index(s: PackageStatus) -> usize {
    match s {
        PackageStatus::Building => 0,
        PackageStatus::Ok => 1,
        PackageStatus::Failed => 2,
        PackageStatus::Cancelled => 3,
        PackageStatus::Stale => 4,
        PackageStatus::NeverBuilt => 5,
    }
}

/// What the environment says about colour and characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// The locale's character set is UTF-8.
    pub utf8: bool,
}

impl Terminal {
    pub fn from_env() -> Terminal {
        Terminal::from_vars(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Terminal {
        let no_color = get("NO_COLOR").is_some_and(|v| !v.is_empty());
        // As setlocale reads them: the first of these that is set and not empty decides.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .into_iter()
            .find_map(|k| get(k).filter(|v| !v.is_empty()));
        let utf8 = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        Terminal { no_color, utf8 }
    }
}

impl Theme {
    /// The theme for this terminal and config: coloured or monochrome, Unicode or ASCII glyphs,
    /// then the `[theme]` overrides.
    pub fn load(config: &Config, terminal: Terminal) -> Result<Theme> {
        let mut theme = if terminal.no_color {
            Theme::monochrome()
        } else {
            Theme::coloured()
        };
        theme.glyphs = match config.glyphs {
            Some(Glyphs::Ascii) => GlyphSet::ASCII,
            Some(Glyphs::Unicode) => GlyphSet::UNICODE,
            None if terminal.utf8 => GlyphSet::UNICODE,
            None => GlyphSet::ASCII,
        };
        theme.apply_overrides(config)?;
        Ok(theme)
    }

    /// Applies `[theme]`: a colour sets a role's foreground; a table sets `fg`, `bg` and
    /// replaces the modifiers.
    pub fn apply_overrides(&mut self, config: &Config) -> Result<()> {
        for (role, spec) in &config.theme {
            let name = role.get_ref().as_str();
            let Some(style) = self.role_mut(name) else {
                bail!(
                    "{}: [theme] {name}: unknown role `{name}`{}\n  roles: {}",
                    config.locate(role.span()),
                    did_you_mean(name, Theme::ROLES.iter().copied()),
                    Theme::ROLES.join(", ")
                );
            };
            let colour = |value: &Spanned<String>, key: &str| {
                parse_colour(value.get_ref()).map_err(|e| {
                    anyhow!(
                        "{}: [theme] {name}{key} = \"{}\": {e}",
                        config.locate(value.span()),
                        value.get_ref()
                    )
                })
            };
            match spec.get_ref() {
                StyleSpec::Colour(c) => {
                    let value = Spanned::new(spec.span(), c.clone());
                    style.fg = Some(colour(&value, "")?);
                }
                StyleSpec::Table(t) => {
                    if let Some(c) = &t.fg {
                        style.fg = Some(colour(c, ".fg")?);
                    }
                    if let Some(c) = &t.bg {
                        style.bg = Some(colour(c, ".bg")?);
                    }
                    if let Some(list) = &t.modifiers {
                        let mut all = Modifier::empty();
                        for word in list {
                            all |= parse_modifier(word.get_ref()).map_err(|e| {
                                anyhow!(
                                    "{}: [theme] {name}.modifiers: {e}",
                                    config.locate(word.span())
                                )
                            })?;
                        }
                        style.add_modifier = all;
                        style.sub_modifier = Modifier::empty();
                    }
                }
            }
        }
        Ok(())
    }

    /// The style of a build status.
    pub fn status(&self, s: PackageStatus) -> Style {
        match s {
            PackageStatus::Building => self.status_running,
            PackageStatus::Ok => self.status_ok,
            PackageStatus::Failed => self.status_failed,
            PackageStatus::Cancelled => self.status_cancelled,
            PackageStatus::Stale => self.status_stale,
            PackageStatus::NeverBuilt => self.status_never,
        }
    }

    /// A status mark on the title bar: the status colour brightened, so it reads on the bar.
    pub fn on_title_bar(&self, s: PackageStatus) -> Style {
        let st = self.status(s);
        let bar = match st.fg {
            Some(c) => self.title_bar.fg(brighten(c)),
            None => self.title_bar,
        };
        bar.add_modifier(st.add_modifier)
    }

    /// Border of a pane (or overlay) with or without the focus.
    pub fn pane_border(&self, focused: bool) -> Style {
        if focused {
            self.border_focused
        } else {
            self.border
        }
    }
}

fn brighten(c: Color) -> Color {
    match c {
        Color::Red => Color::LightRed,
        Color::Green => Color::LightGreen,
        Color::Yellow => Color::LightYellow,
        Color::Blue => Color::LightBlue,
        Color::Magenta => Color::LightMagenta,
        Color::Cyan => Color::LightCyan,
        Color::DarkGray => Color::Gray,
        Color::Gray => Color::White,
        other => other,
    }
}

const COLOUR_NAMES: [&str; 17] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "darkgray",
    "lightred",
    "lightgreen",
    "lightyellow",
    "lightblue",
    "lightmagenta",
    "lightcyan",
    "white",
    "reset",
];

/// A colour name (`red`, `lightblue`, `dark gray`), `#rrggbb`, or a 256-colour index.
fn parse_colour(text: &str) -> Result<Color, String> {
    Color::from_str(text).map_err(|_| {
        let normalised = text.to_ascii_lowercase().replace([' ', '-', '_'], "");
        format!(
            "not a colour{}; use a name ({}), `#rrggbb` or an index 0-255",
            did_you_mean(&normalised, COLOUR_NAMES),
            COLOUR_NAMES.join(", ")
        )
    })
}

const MODIFIERS: [(&str, Modifier); 9] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

fn parse_modifier(text: &str) -> Result<Modifier, String> {
    MODIFIERS
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let names: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown modifier `{text}`{}; modifiers are {}",
                did_you_mean(text, names.iter().copied()),
                names.join(", ")
            )
        })
}

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    crate::search::did_you_mean(name, candidates)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "theme_tests.rs"]
mod tests;
