//! `atwb unit NAME [--json]`: the systemd `[Service]` section of a service (or of every service of
//! a package), as the catalog's own Nix library renders it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::output::{Mode, with_stdout};
use crate::nix::unit::{eval_units, render_service_section, select};

#[derive(Debug, Args)]
pub struct UnitArgs {
    /// A service name, or PACKAGE to print all of its services.
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

/// `atwb unit NAME [--json]`.
pub fn run(args: &UnitArgs, catalog_root: &Path) -> Result<ExitCode> {
    let (name, json) = (args.name.as_str(), args.json);
    let units = eval_units(catalog_root)?;
    let selected = select(&units, name)?;
    if json {
        let items: Vec<Value> = selected
            .iter()
            .map(|u| {
                let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.insert("section".into(), Value::String(render_service_section(u)));
                }
                v
            })
            .collect();
        let text = serde_json::to_string_pretty(&items)?;
        with_stdout(Mode::Json, |out| writeln!(out, "{text}"))?;
    } else {
        let sections: Vec<String> = selected.iter().map(|u| render_service_section(u)).collect();
        with_stdout(Mode::Text, |out| write!(out, "{}", sections.join("\n")))?;
    }
    Ok(ExitCode::SUCCESS)
}
