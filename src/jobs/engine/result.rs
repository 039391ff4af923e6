//! A job's result: from how its nix ended, or for a job that never got to run nix.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::supervise::{Ended, StopReason};
use crate::jobs::spec::{JobId, JobKind, JobResult, JobSpec, Outcome};
use crate::nix::classify::{ErrorClass, ExitInfo, Failure};

/// The result of a job whose nix ran: the outcome from why it was stopped or how it exited,
/// the failure from what its log said, the outputs (or the evaluated value) from its stdout.
pub(super) fn finished(
    id: JobId,
    spec: &JobSpec,
    t0: Instant,
    ended: Ended,
    log_file: PathBuf,
) -> JobResult {
    let Ended {
        status,
        stop,
        mut interp,
        stdout,
    } = ended;
    let exit_code = status
        .as_ref()
        .ok()
        .and_then(std::process::ExitStatus::code);
    let success = status.as_ref().is_ok_and(std::process::ExitStatus::success);
    let mut outcome = match stop {
        Some(StopReason::Cancelled) => Outcome::Cancelled,
        Some(StopReason::TimedOut) => Outcome::TimedOut,
        None if success => Outcome::Ok,
        None => Outcome::Failed,
    };
    let exit_info = ExitInfo {
        code: exit_code,
        cancelled: outcome == Outcome::Cancelled,
        timed_out: outcome == Outcome::TimedOut,
        spawn_error: None,
        attr: Some(spec.installable.attr.clone()),
    };
    interp.settle(outcome == Outcome::Ok);
    let mut failure = match outcome {
        Outcome::Ok => None,
        _ => interp.finish(&exit_info).or_else(|| {
            Some(Failure {
                class: ErrorClass::Other,
                first_line: format!("nix exited with {exit_code:?}"),
            })
        }),
    };
    let tree = interp.finish_tree(outcome == Outcome::Ok, crate::jobs::spec::TREE_ROWS);
    let (drv_path, out_paths, value) = if spec.kind == JobKind::Eval {
        (None, Vec::new(), success.then(|| stdout.trim().to_string()))
    } else {
        let built = crate::nix::command::parse_build_json(&stdout);
        let drv = built.first().map(|b| b.drv_path.clone());
        (
            drv,
            built
                .into_iter()
                .flat_map(|b| b.outputs.into_values())
                .collect(),
            None,
        )
    };
    if outcome == Outcome::Ok
        && let Some(f) = nothing_built(spec, &out_paths)
    {
        outcome = Outcome::Failed;
        failure = Some(f);
    }
    JobResult {
        id,
        spec: spec.clone(),
        outcome,
        failure,
        exit_code,
        duration: t0.elapsed(),
        started_at: 0,
        drv_path,
        out_paths,
        log_file: Some(log_file),
        value,
        tree,
    }
}

/// A build by drv path that nix called a success without naming any output it built. Nix
/// 2.15 and later read a plain `.drv` path as the `.drv` file itself: `nix build X.drv` then
/// exits 0, prints `["X.drv"]` and builds nothing. The engine writes `X.drv^*` when it knows
/// the version; this is the guard for when it does not (or a nix that changes again).
fn nothing_built(spec: &JobSpec, out_paths: &[String]) -> Option<Failure> {
    let drv = spec.drv.as_deref()?;
    if spec.kind == JobKind::Eval || !out_paths.is_empty() {
        return None;
    }
    Some(Failure {
        class: ErrorClass::Other,
        first_line: format!(
            "nix reported no output of {drv}: nothing was built (newer nix reads a plain \
             .drv path as the file itself; `{drv}^*` builds its outputs)"
        ),
    })
}

pub(super) fn cancelled_before_start() -> Failure {
    Failure {
        class: ErrorClass::Cancelled,
        first_line: "cancelled before it started".into(),
    }
}

/// A result for a job that never got to run nix.
pub(super) fn not_run(
    id: JobId,
    spec: JobSpec,
    outcome: Outcome,
    failure: Option<Failure>,
) -> JobResult {
    JobResult {
        id,
        spec,
        outcome,
        failure,
        exit_code: None,
        duration: Duration::ZERO,
        started_at: crate::time::unix_now(),
        drv_path: None,
        out_paths: Vec::new(),
        log_file: None,
        value: None,
        tree: crate::jobs::interpret::TreeReport::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;
    use crate::jobs::interpret::LineInterpreter;
    use crate::nix::command::Installable;

    fn ended(code: i32, stop: Option<StopReason>, stdout: &str) -> Ended {
        Ended {
            // A wait status as waitpid(2) reports an exit with `code`.
            status: Ok(std::process::ExitStatus::from_raw(code << 8)),
            stop,
            interp: LineInterpreter::default(),
            stdout: stdout.into(),
        }
    }

    fn eval(ended: Ended) -> JobResult {
        let spec = JobSpec::eval("p", Installable::new("/repo", "packages.x.p"));
        finished(JobId(1), &spec, Instant::now(), ended, "p.log".into())
    }

    #[test]
    fn a_drv_build_that_names_no_output_is_a_failure() {
        let mut spec = JobSpec::build("p", Installable::new("/repo", "packages.x.p"));
        spec.drv = Some("/nix/store/x-p.drv".into());
        let build = |spec: &JobSpec, stdout: &str| {
            finished(
                JobId(1),
                spec,
                Instant::now(),
                ended(0, None, stdout),
                "p.log".into(),
            )
        };
        // What Nix 2.26 and 2.34 print for `nix build --json X.drv`: the drv, no outputs.
        let r = build(&spec, r#"["/nix/store/x-p.drv"]"#);
        assert_eq!(r.outcome, Outcome::Failed);
        let f = r.failure.unwrap();
        assert_eq!(f.class, ErrorClass::Other);
        assert!(
            f.first_line.contains("/nix/store/x-p.drv^*"),
            "{}",
            f.first_line
        );
        // What they (and 2.8 for the plain path) print when the outputs were built.
        let r = build(
            &spec,
            r#"[{"drvPath":"/nix/store/x-p.drv","outputs":{"out":"/nix/store/y-p"}}]"#,
        );
        assert_eq!(
            (r.outcome, r.out_paths),
            (Outcome::Ok, vec!["/nix/store/y-p".to_string()])
        );
        // A build of the attribute itself is not judged by this.
        spec.drv = None;
        assert_eq!(build(&spec, "").outcome, Outcome::Ok);
    }

    #[test]
    fn a_stop_by_atwb_outranks_the_exit_status_and_only_success_has_a_value() {
        let ok = eval(ended(0, None, " \"v\"\n"));
        assert_eq!(
            (ok.outcome, ok.value.as_deref(), ok.failure, ok.exit_code),
            (Outcome::Ok, Some("\"v\""), None, Some(0))
        );
        let timed_out = eval(ended(0, Some(StopReason::TimedOut), "\"v\""));
        assert_eq!(timed_out.outcome, Outcome::TimedOut);
        assert_eq!(
            timed_out.failure.map(|f| f.class),
            Some(ErrorClass::Timeout { drv: None })
        );
        let cancelled = eval(ended(1, Some(StopReason::Cancelled), ""));
        assert_eq!(
            (cancelled.outcome, cancelled.value, cancelled.exit_code),
            (Outcome::Cancelled, None, Some(1))
        );
        let failed = eval(ended(1, None, ""));
        assert_eq!((failed.outcome, failed.value), (Outcome::Failed, None));
        assert!(failed.failure.is_some());
        assert_eq!(
            failed.log_file.as_deref(),
            Some(std::path::Path::new("p.log"))
        );
    }
}
