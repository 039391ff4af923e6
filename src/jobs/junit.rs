//! JUnit XML for CI: one testcase per target; a failure's message is its class and first line.

use std::fmt::Write;

use super::spec::{JobResult, Outcome};
use crate::nix::classify::ErrorClass;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped; log lines may carry them.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

pub fn render(suite: &str, results: &[JobResult]) -> String {
    let failures = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::TimedOut))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Cancelled | Outcome::Interrupted))
        .count();
    let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        r#"<testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}" time="{time:.3}">"#,
        esc(suite),
        results.len()
    );
    for r in results {
        let _ = write!(
            x,
            r#"  <testcase classname="{}.{}" name="{}" time="{:.3}""#,
            esc(suite),
            r.spec.kind.as_str(),
            esc(&r.spec.label),
            r.duration.as_secs_f64()
        );
        let f = r.failure.as_ref();
        let msg = f
            .map(|f| format!("{}: {}", f.class.name(), f.first_line))
            .unwrap_or_default();
        match r.outcome {
            Outcome::Ok => x.push_str("/>\n"),
            Outcome::Cancelled | Outcome::Interrupted => {
                let _ = writeln!(
                    x,
                    ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                    esc(&msg)
                );
            }
            Outcome::Failed | Outcome::TimedOut => {
                let log = r
                    .log_file
                    .as_ref()
                    .map(|p| format!("log: {}", p.display()))
                    .unwrap_or_default();
                let last = match f.map(|f| &f.class) {
                    Some(
                        ErrorClass::BuilderFailed { last_lines, .. }
                        | ErrorClass::TestFailed { last_lines, .. }
                        | ErrorClass::DependencyFailed { last_lines, .. },
                    ) => last_lines.join("\n"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    x,
                    ">\n    <failure message=\"{}\" type=\"{}\">{}</failure>\n  </testcase>",
                    esc(&msg),
                    esc(f.map_or("unknown", |f| f.class.name())),
                    esc(&format!("{msg}\n{last}\n{log}"))
                );
            }
        }
    }
    x.push_str("</testsuite>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::spec::{JobId, JobSpec};
    use crate::nix::classify::Failure;
    use crate::nix::command::Installable;

    fn result(label: &str, outcome: Outcome, failure: Option<Failure>) -> JobResult {
        JobResult {
            id: JobId(1),
            spec: JobSpec::build(label, Installable::new(".", label)),
            outcome,
            failure,
            exit_code: None,
            duration: std::time::Duration::from_millis(1500),
            started_at: 0,
            drv_path: None,
            out_paths: vec![],
            log_file: None,
            value: None,
            tree: crate::jobs::interpret::TreeReport::default(),
        }
    }

    #[test]
    fn one_testcase_per_target_with_escaped_failure_message() {
        let fail = Failure {
            class: ErrorClass::BuilderFailed {
                drv: "/nix/store/x-a.drv".into(),
                exit_code: Some(3),
                last_lines: vec!["<bad> & \u{1b}[31mred".into()],
            },
            first_line: "error: builder for 'a' failed with exit code 3".into(),
        };
        let xml = render(
            "atwb build",
            &[
                result("ok", Outcome::Ok, None),
                result("a", Outcome::Failed, Some(fail)),
                result("c", Outcome::Cancelled, None),
            ],
        );
        assert!(
            xml.contains(r#"tests="3" failures="1" errors="0" skipped="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="atwb build.build" name="ok" time="1.500"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="builder_failed: error: builder for &apos;a&apos; failed with exit code 3" type="builder_failed">"#),
            "{xml}"
        );
        assert!(xml.contains("&lt;bad&gt; &amp; \u{fffd}[31mred"), "{xml}");
        assert!(!xml.contains('\u{1b}'));
    }
}
