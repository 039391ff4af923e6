//! Scoring a unit with `systemd-analyze security --offline=yes` (systemd 252 on Debian 12).
//!
//! Observed on that version: the unit file must be named `*.service`; `ExecStart` need not exist;
//! a `[Unit]` section is optional; the last line reads
//! `→ Overall exposure level for NAME.service: 1.2 OK 🙂`; a bad setting exits 1 with the reason
//! on stderr ("Unit x.service has a bad unit file setting.").

use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

/// What systemd-analyze said about one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct HardeningReport {
    /// Overall exposure, 0.0 (best) to 10.0.
    pub score: f32,
    /// systemd's label: PERFECT, SAFE, OK, MEDIUM, EXPOSED, UNSAFE, DANGEROUS.
    pub label: String,
    /// The settings it counted against the unit (lines starting with ✗).
    pub findings: Vec<String>,
}

/// Parse systemd-analyze's table; the overall line is the one that matters.
pub fn parse_report(stdout: &str) -> Result<HardeningReport> {
    let overall = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level for"))
        .ok_or_else(|| anyhow!("systemd-analyze printed no overall exposure line:\n{stdout}"))?;
    let after = overall
        .rsplit_once(": ")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("unexpected overall line: {overall}"))?;
    let mut words = after.split_whitespace();
    let score: f32 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| anyhow!("no score in: {overall}"))?;
    let label = words.next().unwrap_or_default().to_string();
    let findings = stdout
        .lines()
        .filter(|l| l.starts_with('✗'))
        .map(|l| l.trim_start_matches('✗').trim().to_string())
        .collect();
    Ok(HardeningReport {
        score,
        label,
        findings,
    })
}

/// Write the unit to a private temporary directory and score it.
pub fn analyze(unit_text: &str) -> Result<HardeningReport> {
    // A fresh directory with an unpredictable name (mode 0700), removed when `dir` drops.
    let dir = tempfile::Builder::new()
        .prefix("atwb-hardening-")
        .tempdir()
        .context("creating a temporary directory for systemd-analyze")?;
    let file = dir.path().join("atwb-scored.service");
    let result = (|| {
        std::fs::write(&file, unit_text).with_context(|| format!("writing {}", file.display()))?;
        let output = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(&file)
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    anyhow!("systemd-analyze is not installed (package systemd)")
                }
                _ => anyhow!("running systemd-analyze: {e}"),
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "systemd-analyze rejected the unit: {}",
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        parse_report(&stdout)
    })();
    drop(dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_overall_line_and_findings() {
        let out = "  NAME   DESCRIPTION   EXPOSURE\n\
                   ✗ PrivateNetwork=   Service has access to the host's network   0.5\n\
                   ✓ UMask=   Files created by service are accessible only by service's own user by default\n\
                   \n→ Overall exposure level for x.service: 1.2 OK 🙂\n";
        let r = parse_report(out).unwrap();
        assert_eq!(r.score, 1.2);
        assert_eq!(r.label, "OK");
        assert_eq!(r.findings.len(), 1);
        assert!(r.findings[0].starts_with("PrivateNetwork="));
    }

    #[test]
    fn no_overall_line_is_an_error() {
        assert!(parse_report("garbage").is_err());
    }
}
