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
    /// How many nix processes run at once.
    pub max_parallel: usize,
    /// Passed to nix as `--builders` (Nix's own distributed builds), if set.
    pub builders: Option<String>,
    /// Passed to nix as `--max-jobs`, if set.
    pub max_jobs: Option<u32>,
    /// A job running longer than this is cancelled and recorded as timed out.
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
