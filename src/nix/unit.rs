//! The systemd `[Service]` section a catalog service's NixOS module produces (`atwb unit`, the
//! hardening scores the TUI computes when asked).
//!
//! The settings come from Nix itself (`catalog/lib/offline.nix`, builtins only, the same
//! `serviceUnit` function the module calls), so this renders what the module would write rather
//! than re-deriving it in Rust. That file is the catalog's own code: it is evaluated restricted
//! (see `command::offline_eval_line`), and only on request. Rendering follows NixOS' unit writer: booleans as `true`/`false`,
//! a list as one line per element, `Environment="K=V"` with JSON-style quoting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::command::offline_eval_line;
use super::hardening::{self, ScoreCache, Scores};

/// One service as `catalog/lib/offline.nix` evaluates it (every option at its default, example
/// secret paths, placeholder store paths).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineUnit {
    pub unit_name: String,
    pub package: String,
    pub service: String,
    pub exec_start: String,
    pub environment: BTreeMap<String, String>,
    pub service_config: BTreeMap<String, Value>,
    pub hardening_exceptions: BTreeMap<String, HardeningExceptionView>,
    /// Options without a default that the deployment must set.
    pub required: Vec<String>,
    pub start_script: Option<String>,
    pub jit: bool,
    pub database: String,
    pub ports: BTreeMap<String, u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HardeningExceptionView {
    pub value: Value,
    pub reason: String,
}

/// The file under `<catalog>/lib` that holds the builtins-only views.
fn offline_nix(catalog_root: &Path) -> Result<PathBuf> {
    let file = catalog_root.join("lib").join("offline.nix");
    if !file.is_file() {
        bail!(
            "{} not found: `atwb unit` evaluates the catalog's own Nix library; run it on a catalog that has lib/ (the repository's catalog/)",
            file.display()
        );
    }
    Ok(file)
}

/// `nix eval --json --file <catalog>/lib/offline.nix ATTR --argstr catalogDir <catalog>`, with
/// the restricted settings of [`offline_eval_line`]: the catalog's code may read the catalog and
/// nothing else, and builds nothing.
pub fn eval_offline(catalog_root: &Path, attr: &str) -> Result<Value> {
    let file = offline_nix(catalog_root)?;
    let root = catalog_root
        .canonicalize()
        .with_context(|| format!("catalog {}", catalog_root.display()))?;
    let line = offline_eval_line(&file, attr, &root);
    let output = Command::new(&line.program)
        .args(&line.args)
        // `<...>` lookups resolve to the catalog only, not to the user's channels.
        .env_remove("NIX_PATH")
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow!(
                    "nix is not installed (needed to evaluate {})",
                    file.display()
                )
            }
            _ => anyhow!("running nix: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = refusal(&stderr)
            .map(|r| format!("{r}\n"))
            .unwrap_or_default();
        bail!(
            "{why}nix eval of {} `{attr}` failed:\n{}",
            file.display(),
            stderr.trim_end()
        );
    }
    serde_json::from_slice(&output.stdout).context("nix eval printed something that is not JSON")
}

/// What a restricted evaluation refused, in words, from nix's error text.
fn refusal(stderr: &str) -> Option<&'static str> {
    // With --read-only, nix reports an import of a derivation as that .drv not being valid
    // (it checks validity before the import-from-derivation setting).
    if stderr.contains("allow-import-from-derivation")
        || (stderr.contains(".drv' is not valid") && stderr.contains("error: path"))
    {
        Some(
            "refused: the catalog's Nix code imports from a derivation (import-from-derivation), which would build and run code while evaluating",
        )
    } else if stderr.contains("forbidden in restricted mode") {
        Some(
            "refused: the catalog's Nix code reaches outside the catalog (a path or URI), which the restricted evaluation forbids",
        )
    } else if stderr.contains("experimental Nix feature 'flakes' is disabled") {
        Some(
            "refused: the catalog's Nix code uses flake fetchers (fetchTree, getFlake), which the restricted evaluation disables",
        )
    } else {
        None
    }
}

/// Every service of the catalog, by service name.
pub fn eval_units(catalog_root: &Path) -> Result<BTreeMap<String, OfflineUnit>> {
    let value = eval_offline(catalog_root, "units")?;
    serde_json::from_value(value).context("unexpected shape of offline.nix `units`")
}

/// The services NAME stands for: the service of that name, else every service of the package of
/// that name.
pub fn select<'a>(
    units: &'a BTreeMap<String, OfflineUnit>,
    name: &str,
) -> Result<Vec<&'a OfflineUnit>> {
    if let Some(u) = units.get(name) {
        return Ok(vec![u]);
    }
    let of_package: Vec<&OfflineUnit> = units.values().filter(|u| u.package == name).collect();
    if !of_package.is_empty() {
        return Ok(of_package);
    }
    let known: Vec<&str> = units.keys().map(String::as_str).collect();
    bail!(
        "no service or package named `{name}` has services; services: {}",
        if known.is_empty() {
            "(none)".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// One `Key=value` line per value, as NixOS writes `serviceConfig`.
fn setting_lines(key: &str, value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            for item in items {
                setting_lines(key, item, out);
            }
        }
        Value::Bool(b) => out.push_str(&format!("{key}={b}\n")),
        Value::String(s) => out.push_str(&format!("{key}={s}\n")),
        Value::Null => {}
        other => out.push_str(&format!("{key}={other}\n")),
    }
}

/// Keys printed first, in this order; the rest (the hardening set) follow sorted.
const LEADING_KEYS: [&str; 8] = [
    "User",
    "Group",
    "WorkingDirectory",
    "StateDirectory",
    "StateDirectoryMode",
    "ReadWritePaths",
    "LoadCredential",
    "Restart",
];

/// The `[Service]` section, with comments naming each hardening exception and its reason.
pub fn render_service_section(unit: &OfflineUnit) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# {}.service: services.atproto.{} (package {}), options at their defaults\n",
        unit.unit_name, unit.service, unit.package
    ));
    out.push_str("# /nix/store/0000...-* paths stand for store paths known only after a build\n");
    for opt in &unit.required {
        out.push_str(&format!(
            "# required: services.atproto.{}.settings.{opt} has no default\n",
            unit.service
        ));
    }
    for (key, exception) in &unit.hardening_exceptions {
        out.push_str(&format!(
            "# hardening exception {key}={}: {}\n",
            render_value(&exception.value),
            exception.reason
        ));
    }
    if unit.jit {
        out.push_str(
            "# jit = true: MemoryDenyWriteExecute stays off (the runtime writes machine code)\n",
        );
    }
    out.push_str("[Service]\n");
    out.push_str(&format!("ExecStart={}\n", unit.exec_start));
    for key in LEADING_KEYS {
        if let Some(v) = unit.service_config.get(key) {
            setting_lines(key, v, &mut out);
        }
    }
    for (k, v) in &unit.environment {
        // NixOS quotes the whole assignment as a JSON string.
        let quoted = serde_json::to_string(&format!("{k}={v}")).unwrap_or_default();
        out.push_str(&format!("Environment={quoted}\n"));
    }
    for (key, v) in &unit.service_config {
        if !LEADING_KEYS.contains(&key.as_str()) && key != "ExecStart" {
            setting_lines(key, v, &mut out);
        }
    }
    out
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(render_value).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Every service's score, for the detail pane: one `nix eval` and one `systemd-analyze` per
/// service. A service that cannot be scored carries its error text instead. Spawns processes:
/// call it from the background runtime.
pub fn hardening_scores(catalog_root: &Path) -> Result<Scores> {
    let units = eval_units(catalog_root)?;
    Ok(units
        .iter()
        .map(|(name, unit)| {
            let score =
                hardening_score(&render_service_section(unit)).map_err(|e| format!("{e:#}"));
            (name.clone(), score)
        })
        .collect())
}

/// The scores last computed for the catalog as its files are now, if any. Reads files only.
pub fn remembered_scores(catalog_root: &Path) -> Option<Scores> {
    ScoreCache::for_catalog(catalog_root).get(&hardening::content_key(catalog_root))
}

/// [`hardening_scores`], remembered for the next start under the content key the files had
/// before the evaluation (an edit made meanwhile is then a miss, never a wrong hit).
pub fn score_and_remember(catalog_root: &Path) -> Result<Scores> {
    let key = hardening::content_key(catalog_root);
    let scores = hardening_scores(catalog_root)?;
    if let Err(e) = ScoreCache::for_catalog(catalog_root).put(&key, &scores) {
        tracing::warn!("remembering the hardening scores: {e:#}");
    }
    Ok(scores)
}

/// The exposure score `systemd-analyze security --offline=yes` gives a unit text (0.0 best, 10.0
/// worst). Spawns a process: the TUI calls it through its background runtime, never directly.
pub fn hardening_score(unit_text: &str) -> Result<f32> {
    hardening::analyze(unit_text).map(|r| r.score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OfflineUnit {
        serde_json::from_value(serde_json::json!({
            "unitName": "atproto-demo",
            "package": "demo",
            "service": "demo",
            "execStart": "/nix/store/0-demo/bin/demo --port 8080",
            "environment": { "DEMO_NAME": "a \"b\"" },
            "serviceConfig": {
                "User": "atproto-demo",
                "CapabilityBoundingSet": [""],
                "SystemCallFilter": ["@system-service", "~@privileged"],
                "PrivateUsers": false,
                "UMask": "0077"
            },
            "hardeningExceptions": { "PrivateUsers": { "value": false, "reason": "needs host uids" } },
            "required": ["hostname"],
            "startScript": null,
            "jit": false,
            "database": "none",
            "ports": { "http": 8080 }
        }))
        .unwrap()
    }

    #[test]
    fn renders_lists_as_repeated_lines_and_quotes_environment() {
        let text = render_service_section(&sample());
        assert!(text.contains("CapabilityBoundingSet=\n"), "{text}");
        assert!(text.contains("SystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n"));
        assert!(
            text.contains("Environment=\"DEMO_NAME=a \\\"b\\\"\"\n"),
            "{text}"
        );
        assert!(text.contains("PrivateUsers=false\n"));
        assert!(text.contains("ExecStart=/nix/store/0-demo/bin/demo --port 8080\n"));
    }

    #[test]
    fn shows_exceptions_with_reason_and_required_options() {
        let text = render_service_section(&sample());
        assert!(text.contains("# hardening exception PrivateUsers=false: needs host uids"));
        assert!(text.contains("settings.hostname has no default"));
        let user_at = text.find("User=").unwrap();
        let umask_at = text.find("UMask=").unwrap();
        assert!(user_at < umask_at, "identity first, hardening after");
    }

    #[test]
    fn refusals_are_named() {
        let ifd = "error: path '/nix/store/p5zf-ifd.drv' is not valid\n(use '--show-trace')";
        assert!(refusal(ifd).unwrap().contains("import-from-derivation"));
        let read = "error: access to absolute path '/etc/x' is forbidden in restricted mode";
        assert!(refusal(read).unwrap().contains("outside the catalog"));
        assert_eq!(refusal("error: undefined variable 'x'"), None);
    }

    #[test]
    fn selects_service_or_package() {
        let mut units = BTreeMap::new();
        units.insert("demo".to_string(), sample());
        assert_eq!(select(&units, "demo").unwrap().len(), 1);
        let err = select(&units, "nope").unwrap_err().to_string();
        assert!(err.contains("services: demo"), "{err}");
    }
}
