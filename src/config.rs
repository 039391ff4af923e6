//! `~/.config/atwb/config.toml`: job settings and key bindings. Every field has a default, so an
//! empty or missing file is valid; an invalid one is reported with its path and line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub jobs: JobsConfig,
    /// `[keys.<view>]` tables: key (e.g. `"ctrl-s"`, `"j"`) -> action name (snake_case `Action`).
    /// Parsed by the TUI's keymap, which reports unknown actions.
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
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
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            max_parallel: 2,
            builders: None,
            max_jobs: None,
            timeout_secs: None,
            flake: None,
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
        Self::parse(&text).with_context(|| format!("invalid config {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config> {
        Ok(toml::from_str(text)?)
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
}
