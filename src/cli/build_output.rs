//! What `atwb build` prints for people: the line of a finished job, with the failure's class, its
//! first line, a hint and, for a hash mismatch, both hashes (what a maintainer pastes or checks).

use crate::jobs::JobResult;
use crate::nix::advice;
use crate::nix::classify::ErrorClass;

/// Continuation lines line up under the label of the head line.
const INDENT: &str = "          ";

pub fn finish_line(r: &JobResult, done: usize, total: usize) -> String {
    let head = format!(
        "[{done}/{total}] {:<9} {} ({:.1}s)",
        r.outcome.as_str(),
        r.spec.label,
        r.duration.as_secs_f64()
    );
    let Some(f) = &r.failure else {
        return head;
    };
    let mut out = format!("{head}\n{INDENT}{}: {}", f.class.name(), f.first_line);
    if let ErrorClass::HashMismatch {
        drv,
        specified,
        got,
        ..
    } = &f.class
    {
        out.push_str(&format!(
            "\n{INDENT}drv:       {drv}\n{INDENT}specified: {specified}\n{INDENT}got:       {got}"
        ));
    }
    let ctx = advice::Context::for_job(&r.spec.installable, &r.spec.package, Vec::new());
    if let Some(h) = advice::hint(&f.class, &ctx) {
        out.push_str(&format!("\n{INDENT}hint: {h}"));
    }
    out
}

/// One row of the end table.
struct Row {
    target: String,
    result: String,
    class: String,
    time: String,
    log: String,
}

/// The end summary: one row per target (built, then skipped as cached), columns aligned.
pub fn summary_table(results: &[JobResult], skipped: &[super::build_eval::Skipped]) -> String {
    let mut rows: Vec<Row> = results
        .iter()
        .map(|r| Row {
            target: r.spec.label.clone(),
            result: r.outcome.as_str().to_string(),
            class: r
                .failure
                .as_ref()
                .map_or("-", |f| f.class.name())
                .to_string(),
            time: format!("{:.1}s", r.duration.as_secs_f64()),
            log: r
                .log_file
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
        })
        .collect();
    rows.extend(skipped.iter().map(|s| Row {
        target: s.target.clone(),
        result: "cached".to_string(),
        class: "-".to_string(),
        time: "-".to_string(),
        log: format!("(in {})", s.cached_in),
    }));
    let head = Row {
        target: "PACKAGE".into(),
        result: "RESULT".into(),
        class: "CLASS".into(),
        time: "TIME".into(),
        log: "LOG".into(),
    };
    let width = |f: fn(&Row) -> &str| {
        std::iter::once(&head)
            .chain(&rows)
            .map(|r| f(r).chars().count())
            .max()
            .unwrap_or(0)
    };
    let (wt, wr, wc, wtime) = (
        width(|r| &r.target),
        width(|r| &r.result),
        width(|r| &r.class),
        width(|r| &r.time),
    );
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        out.push_str(&format!(
            "{:<wt$}  {:<wr$}  {:<wc$}  {:>wtime$}  {}\n",
            r.target, r.result, r.class, r.time, r.log
        ));
    }
    out
}
