//! `~/.config/atwb/config.toml`: job settings, key bindings, glyphs and theme. Every field has a
//! default, so an empty or missing file is valid; an invalid one is reported with its path and
//! line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
pub use toml::Spanned;

pub mod builders;
mod checks;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which characters the TUI draws marks, arrows, bars and borders with; absent: ASCII when
    /// the locale is not UTF-8.
    pub glyphs: Option<Glyphs>,
    pub jobs: JobsConfig,
    /// `[keys.<view>]` tables: key (e.g. `"ctrl-s"`, `"j"`) -> action name (snake_case `Action`).
    /// Parsed by the TUI's keymap, which reports unknown actions.
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
    /// `[theme]`: role -> colour or `{ fg, bg, modifiers }`. Kept as written, with spans: the
    /// TUI's theme knows the roles and colours and reports a bad one at its line (`locate`).
    pub theme: BTreeMap<Spanned<String>, Spanned<StyleSpec>>,
    /// The file this was read from, for `file:line` in messages of checks made after parsing.
    #[serde(skip)]
    pub source: Source,
}

/// `glyphs = "unicode" | "ascii"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Glyphs {
    Unicode,
    Ascii,
}

/// One `[theme]` value: a colour (the role's foreground), or a table with any of `fg`, `bg`
/// and `modifiers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StyleSpec {
    Colour(String),
    Table(StyleTable),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StyleTable {
    pub fg: Option<Spanned<String>>,
    pub bg: Option<Spanned<String>>,
    /// Replaces the role's modifiers (`bold`, `dim`, `italic`, `underlined`, `reversed`, ...).
    pub modifiers: Option<Vec<Spanned<String>>>,
}

// By hand rather than `untagged`, whose error ("did not match any variant") says nothing useful.
impl<'de> Deserialize<'de> for StyleSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StyleSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a colour (\"red\", \"#rrggbb\", \"208\") or a table { fg, bg, modifiers }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StyleSpec, E> {
                Ok(StyleSpec::Colour(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<StyleSpec, A::Error> {
                StyleTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(StyleSpec::Table)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Where a config came from: its path and where its lines start.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub path: Option<PathBuf>,
    line_starts: Vec<usize>,
}

/// Configs with the same settings are equal wherever they were read from.
impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

impl Source {
    fn new(path: Option<PathBuf>, text: &str) -> Source {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source { path, line_starts }
    }

    /// 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// How many nix processes run at once (at least 1).
    #[serde(deserialize_with = "at_least_one")]
    pub max_parallel: usize,
    /// Passed to nix as `--builders` (Nix's own distributed builds), if set.
    pub builders: Option<String>,
    /// Passed to nix as `--max-jobs`, if set.
    pub max_jobs: Option<u32>,
    /// A job running longer than this is cancelled and recorded as timed out. 0 means no
    /// limit, as in nix's own `timeout` setting (not "time out at once").
    #[serde(deserialize_with = "zero_is_none")]
    pub timeout_secs: Option<u64>,
    /// The flake to build from; default: the repository holding the catalog.
    pub flake: Option<String>,
    /// The binary caches asked whether a target is already built (`☁ cached`,
    /// `atwb build --skip-cached`); default: nix's own `substituters`.
    pub substituters: Option<Vec<String>>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            max_parallel: 2,
            builders: None,
            max_jobs: None,
            timeout_secs: None,
            flake: None,
            substituters: None,
        }
    }
}

/// Rejects 0 while parsing, so the error points at the line (0 would run nothing, forever).
fn at_least_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = usize::deserialize(d)?;
    if n == 0 {
        return Err(serde::de::Error::custom(
            "max_parallel must be at least 1 (how many nix processes run at once)",
        ));
    }
    Ok(n)
}

fn zero_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.filter(|&n| n != 0))
}

impl Config {
    /// Read `config.toml` from `dir`; a missing file gives the defaults.
    pub fn load_from(dir: &Path) -> Result<Config> {
        let path = dir.join("config.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut config = Self::parse_unchecked(&text)
            .with_context(|| format!("invalid config {}", path.display()))?;
        config.source.path = Some(path.clone());
        checks::check(&config, &text)
            .with_context(|| format!("invalid config {}", path.display()))?;
        Ok(config)
    }

    /// Parse and check `text` (errors name `config.toml:LINE`).
    pub fn parse(text: &str) -> Result<Config> {
        let config = Self::parse_unchecked(text)?;
        checks::check(&config, text)?;
        Ok(config)
    }

    fn parse_unchecked(text: &str) -> Result<Config> {
        let mut config: Config = toml::from_str(text)?;
        config.source = Source::new(None, text);
        Ok(config)
    }

    /// `file:line` of the text at `span` (a span of one of the `Spanned` values).
    pub fn locate(&self, span: Range<usize>) -> String {
        let file = self
            .source
            .path
            .as_deref()
            .map_or_else(|| "config.toml".to_owned(), |p| p.display().to_string());
        format!("{file}:{}", self.source.line(span.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        assert_eq!(Config::default().jobs.max_parallel, 2);
    }

    #[test]
    fn zero_parallel_jobs_is_an_error_naming_the_line() {
        let err = format!(
            "{:#}",
            Config::parse("[jobs]\nmax_parallel = 0\n").unwrap_err()
        );
        assert!(
            err.contains("line 2") && err.contains("at least 1"),
            "{err}"
        );
    }

    #[test]
    fn zero_timeout_means_no_timeout() {
        let c = Config::parse("[jobs]\ntimeout_secs = 0\n").unwrap();
        assert_eq!(c.jobs.timeout_secs, None);
        let c = Config::parse("[jobs]\ntimeout_secs = 90\n").unwrap();
        assert_eq!(c.jobs.timeout_secs, Some(90));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = format!(
            "{:#}",
            Config::parse("[jobs]\nmax_paralel = 3\n").unwrap_err()
        );
        assert!(
            err.contains("max_paralel") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn theme_entries_keep_their_lines() {
        let text = "glyphs = \"ascii\"\n[theme]\nselection = \"red\"\n\nborder = { fg = \"#102030\", modifiers = [\"bold\"] }\n";
        let c = Config::parse(text).unwrap();
        assert_eq!(c.glyphs, Some(Glyphs::Ascii));
        let entries: Vec<_> = c.theme.iter().collect();
        assert_eq!(entries[0].0.get_ref(), "border");
        assert_eq!(c.locate(entries[0].0.span()), "config.toml:5");
        assert_eq!(c.locate(entries[1].1.span()), "config.toml:3");
        assert_eq!(entries[1].1.get_ref(), &StyleSpec::Colour("red".to_owned()));
        let StyleSpec::Table(t) = entries[0].1.get_ref() else {
            panic!("a table")
        };
        assert_eq!(t.fg.as_ref().unwrap().get_ref(), "#102030");
        assert!(t.bg.is_none());
    }

    #[test]
    fn bad_theme_shapes_and_glyphs_are_errors_naming_the_line() {
        for (text, line, words) in [
            ("glyphs = \"emoji\"\n", "line 1", "ascii"),
            ("[theme]\n\nborder = 3\n", "line 3", "a colour"),
            ("[theme]\nborder = { fgg = \"red\" }\n", "line 2", "fgg"),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(line) && err.contains(words), "{text}: {err}");
        }
    }
}
