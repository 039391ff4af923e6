//! The jobs view's detail pane: the selected job's nix process (command line, start, end, exit
//! status, derivation, log path).

use ratatui::text::{Line, Span};

use crate::time::civil_from_days;
use crate::tui::jobs::{JobPhase, JobView};
use crate::tui::theme::Theme;

/// Rows the pane takes under the list (a rule and six fields).
pub const HEIGHT: u16 = 7;

pub fn lines(t: &Theme, j: &JobView) -> Vec<Line<'static>> {
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!(" {name:<9}"), t.muted),
            Span::styled(value, t.text),
        ])
    };
    let d = &j.details;
    let unknown = || "-".to_string();
    let exit = match (&j.phase, d.exit_code) {
        (JobPhase::Finished { outcome, .. }, Some(c)) => format!("{c} ({})", outcome.as_str()),
        (JobPhase::Finished { outcome, .. }, None) => format!("none ({})", outcome.as_str()),
        _ => "running".to_string(),
    };
    let end = match &j.phase {
        JobPhase::Finished { .. } => d.ended_at.map_or_else(unknown, clock),
        _ => unknown(),
    };
    vec![
        Line::from(Span::styled(format!(" ── job {} ", j.id), t.muted)),
        field("command", d.command.clone().unwrap_or_else(unknown)),
        field("start", d.started_at.map_or_else(unknown, clock)),
        field("end", end),
        field("exit", exit),
        field("drv", d.drv_path.clone().unwrap_or_else(unknown)),
        field(
            "log",
            j.log_file
                .as_ref()
                .map_or_else(unknown, |p| p.display().to_string()),
        ),
    ]
}

/// `2026-12-01 14:03:09 UTC` from Unix seconds.
fn clock(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_is_utc() {
        assert_eq!(super::clock(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::clock(1_796_134_989), "2026-12-01 14:23:09 UTC");
    }
}
