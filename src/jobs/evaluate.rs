//! One evaluation for a batch of builds: every target's `drvPath` and out paths from a single
//! `nix eval`, so N targets evaluate their flake (nixpkgs, for the real catalog) once instead of
//! N times; each target is then built by its `.drv` and evaluates nothing.
//!
//! Errors stay per target. Inside the evaluation each attribute is forced under
//! `builtins.tryEval`, which catches `throw` and `assert` (how nixpkgs reports broken, unfree or
//! insecure packages); such a target, and one whose attribute is missing or not a derivation, is
//! left to evaluate itself in its own `nix build flake#attr`, whose log then carries nix's message
//! for that target alone. An error `tryEval` cannot catch (a type error, a missing attribute deep
//! inside) ends the whole `nix eval`; each attribute announces itself with `builtins.trace`
//! before it is forced, so the last announcement names the culprit. It is set aside (to evaluate
//! itself, with that message) and the group evaluated again without it: k such attributes cost
//! k + 1 evaluations, not one per target.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::process;
use super::spec::{JobKind, JobSpec};
use crate::nix::command::{batch_eval_line, current_system};

/// What the batch evaluation found for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetEval {
    /// Its derivation (written to the store by the evaluation) and the paths it will produce.
    Drv {
        drv_path: String,
        out_paths: Vec<String>,
    },
    /// Not evaluated in the batch, and why: its job evaluates its own attribute.
    Own(String),
}

/// The outcome of [`evaluate`] for a list of specs, index for index.
#[derive(Debug, Clone)]
pub struct BatchEval {
    pub targets: Vec<TargetEval>,
    /// How many `nix eval` processes ran (one per flake and attribute set, normally one).
    pub evaluations: usize,
    pub duration: Duration,
}

impl BatchEval {
    /// The specs to submit: each evaluated target with its drv, the others unchanged.
    pub fn apply(&self, specs: &[JobSpec]) -> Vec<JobSpec> {
        specs
            .iter()
            .zip(&self.targets)
            .map(|(s, t)| match t {
                TargetEval::Drv { drv_path, .. } => JobSpec {
                    drv: Some(drv_path.clone()),
                    ..s.clone()
                },
                TargetEval::Own(_) => s.clone(),
            })
            .collect()
    }

    pub fn evaluated(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| matches!(t, TargetEval::Drv { .. }))
            .count()
    }
}

/// The attribute set one evaluation reads: `flake#parent`, and the names in it.
type GroupKey = (String, String);

/// Where a target's attribute is: `(flake, parent)` and the leaf name, or why it cannot be
/// batched. A bare name is looked up in `packages.<system>`, the first place `nix build
/// flake#name` looks; if it is not there the target evaluates itself (nix then tries the rest).
fn locate(spec: &JobSpec, system: &str) -> Result<(GroupKey, String), String> {
    if !matches!(spec.kind, JobKind::Build | JobKind::Test) {
        return Err("not a build".into());
    }
    let attr = &spec.installable.attr;
    if attr.contains('"') {
        return Err("a quoted attribute path".into());
    }
    let (parent, leaf) = match attr.rsplit_once('.') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (format!("packages.{system}"), attr.clone()),
    };
    // The leaf goes into the expression as a string literal: only names that need no escaping.
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-'+".contains(c);
    if leaf.is_empty() || parent.is_empty() || !leaf.chars().all(plain) {
        return Err(format!("the attribute name {leaf:?} is not a plain name"));
    }
    Ok(((spec.installable.flake.clone(), parent), leaf))
}

/// What each attribute's value traces before it is forced (`trace: atwb-eval:NAME` on stderr).
const TRACE_TAG: &str = "atwb-eval:";

/// The `--apply` function: for each name, its drv and out paths, or why not. Each value first
/// traces its name, so an evaluation that dies names the attribute it died in.
fn apply_expr(leaves: &[String]) -> String {
    let names: Vec<String> = leaves.iter().map(|l| format!("\"{l}\"")).collect();
    format!(
        "set: builtins.listToAttrs (map (n: {{ name = n; value = \
         builtins.trace \"{TRACE_TAG}${{n}}\" (\
         if !(builtins.hasAttr n set) then {{ missing = true; names = builtins.attrNames set; }} else \
         let d = builtins.getAttr n set; \
         r = builtins.tryEval (if (d.type or null) == \"derivation\" then \
         (let v = {{ drvPath = d.drvPath; outPaths = map (o: (builtins.getAttr o d).outPath) \
         (d.outputs or [\"out\"]); }}; in builtins.deepSeq v v) else null); \
         in if !r.success then {{ failed = true; }} \
         else if r.value == null then {{ notDerivation = true; }} else r.value); }}) [ {} ])",
        names.join(" ")
    )
}

/// Evaluate the specs' targets, one `nix eval` per (flake, attribute set). None: cancelled.
pub async fn evaluate(
    specs: &[JobSpec],
    cancel: &CancellationToken,
    grace: Duration,
) -> Option<BatchEval> {
    let t0 = Instant::now();
    let system = current_system();
    let located: Vec<_> = specs.iter().map(|s| locate(s, &system)).collect();
    let mut groups: BTreeMap<GroupKey, Vec<String>> = BTreeMap::new();
    for (key, leaf) in located.iter().flatten() {
        let leaves = groups.entry(key.clone()).or_default();
        if !leaves.contains(leaf) {
            leaves.push(leaf.clone());
        }
    }
    // Tasks of their own, so the groups' evaluations run side by side.
    let runs: Vec<_> = groups
        .iter()
        .map(|((flake, parent), leaves)| {
            let (flake, parent, leaves) = (flake.clone(), parent.clone(), leaves.clone());
            let cancel = cancel.clone();
            tokio::spawn(async move { eval_group(&flake, &parent, leaves, &cancel, grace).await })
        })
        .collect();
    let mut outputs = Vec::with_capacity(runs.len());
    for r in runs {
        outputs.push(r.await.unwrap_or_else(|e| GroupEval {
            failed: Some(format!("the evaluation task failed: {e}")),
            ..GroupEval::default()
        }));
    }
    if cancel.is_cancelled() {
        return None;
    }
    let evaluations = outputs.iter().map(|g| g.evaluations).sum();
    let results: BTreeMap<&GroupKey, GroupEval> = groups.keys().zip(outputs).collect();
    let targets = located
        .iter()
        .map(|l| match l {
            Err(why) => TargetEval::Own(why.clone()),
            Ok((key, leaf)) => results[key].target(&key.1, leaf),
        })
        .collect();
    Some(BatchEval {
        targets,
        evaluations,
        duration: t0.elapsed(),
    })
}

/// One group's evaluation: the answers, the attributes set aside with their error, and how it
/// ended when no culprit could be named.
#[derive(Debug, Default)]
struct GroupEval {
    answers: serde_json::Value,
    culprits: BTreeMap<String, String>,
    /// The group's last evaluation failed without naming an attribute (every target left then
    /// evaluates itself).
    failed: Option<String>,
    evaluations: usize,
}

impl GroupEval {
    fn target(&self, parent: &str, leaf: &str) -> TargetEval {
        if let Some(e) = self.culprits.get(leaf) {
            return TargetEval::Own(format!("evaluating {leaf} failed ({e})"));
        }
        match &self.failed {
            Some(e) => TargetEval::Own(format!("the batch evaluation failed ({e})")),
            None => target_from(&self.answers[leaf], parent, leaf),
        }
    }
}

/// Evaluate one group, setting aside each attribute that ends the evaluation (named by its
/// trace) and evaluating the rest again; at most one retry per culprit.
async fn eval_group(
    flake: &str,
    parent: &str,
    mut leaves: Vec<String>,
    cancel: &CancellationToken,
    grace: Duration,
) -> GroupEval {
    let mut group = GroupEval::default();
    while !leaves.is_empty() {
        let line = batch_eval_line(flake, parent, &apply_expr(&leaves));
        group.evaluations += 1;
        match run_eval(&line, cancel, grace).await {
            Ok(v) => {
                group.answers = v;
                return group;
            }
            Err(EvalFailure { message, culprit }) => match culprit.filter(|c| leaves.contains(c)) {
                Some(c) if !cancel.is_cancelled() => {
                    tracing::info!("batch evaluation: {c} failed ({message}); again without it");
                    leaves.retain(|l| *l != c);
                    group.culprits.insert(c, message);
                }
                _ => {
                    group.failed = Some(message);
                    return group;
                }
            },
        }
    }
    group
}

/// Why a `nix eval` gave no JSON: nix's error line, and the attribute it was forcing if its
/// trace named one.
struct EvalFailure {
    message: String,
    culprit: Option<String>,
}

impl From<String> for EvalFailure {
    fn from(message: String) -> Self {
        Self {
            message,
            culprit: None,
        }
    }
}

fn target_from(v: &serde_json::Value, parent: &str, leaf: &str) -> TargetEval {
    let drv = v["drvPath"].as_str();
    let outs: Option<Vec<String>> = v["outPaths"].as_array().map(|a| {
        a.iter()
            .filter_map(|o| o.as_str().map(str::to_string))
            .collect()
    });
    match (drv, outs) {
        (Some(d), Some(o)) if d.starts_with('/') && d.ends_with(".drv") => TargetEval::Drv {
            drv_path: d.to_string(),
            out_paths: o,
        },
        _ if v["missing"] == true => {
            let names: Vec<String> = v["names"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            let near = crate::nix::advice::nearest(leaf, &names);
            let near = if near.is_empty() {
                String::new()
            } else {
                format!(" (nearest: {})", near.join(", "))
            };
            TargetEval::Own(format!("{parent} has no attribute {leaf}{near}"))
        }
        _ if v["notDerivation"] == true => TargetEval::Own(format!("{leaf} is not a derivation")),
        _ if v["failed"] == true => TargetEval::Own(format!("evaluating {leaf} failed")),
        _ => TargetEval::Own(format!("no drv for {leaf} in the evaluation's output")),
    }
}

/// Why a target the batch could not evaluate fails, in nix's words: its attribute's `drvPath`
/// in a `nix eval` of its own (the batch's `tryEval` keeps only that it failed). None: it
/// evaluates alone.
pub async fn error_of(
    spec: &JobSpec,
    cancel: &CancellationToken,
    grace: Duration,
) -> Option<String> {
    let i = &spec.installable;
    let apply = "d: if (d.type or null) == \"derivation\" then d.drvPath \
                 else throw \"the attribute is not a derivation\"";
    let line = batch_eval_line(&i.flake, &i.attr, apply);
    run_eval(&line, cancel, grace)
        .await
        .err()
        .map(|f| f.message)
}

/// Run one `nix eval`; Ok: its JSON, Err: the first line of its error (or why it did not run)
/// and the attribute being forced when it died.
async fn run_eval(
    line: &crate::nix::command::NixCommandLine,
    cancel: &CancellationToken,
    grace: Duration,
) -> Result<serde_json::Value, EvalFailure> {
    let mut child = process::spawn(line).map_err(|e| format!("starting nix: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let read = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let _ = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        (out, err)
    };
    let (out, err, status) = tokio::select! {
        (out, err) = read => (out, err, child.wait().await),
        () = cancel.cancelled() => {
            let _ = process::stop(&mut child, grace).await;
            return Err(String::from("cancelled").into());
        }
    };
    let err = String::from_utf8_lossy(&err);
    match status {
        Ok(s) if s.success() => serde_json::from_slice(&out)
            .map_err(|e| format!("nix eval printed no JSON: {e}").into()),
        _ => {
            tracing::info!("batch evaluation failed: {err}");
            Err(EvalFailure {
                message: first_error_line(&err),
                culprit: last_traced(&err),
            })
        }
    }
}

/// The attribute the evaluation was forcing when it stopped: the last `trace: atwb-eval:NAME`.
/// nix prints a trace line as `trace: ` and the message, with colours on a terminal only.
fn last_traced(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("trace: ")?.strip_prefix(TRACE_TAG))
        .map(|n| n.trim().to_string())
}

/// nix's `error: ...` line (the rest is the trace and the source excerpt).
fn first_error_line(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("nix eval failed")
        .trim()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::command::Installable;

    #[test]
    fn targets_are_grouped_by_flake_and_attribute_set() {
        let b = |a: &str| JobSpec::build(a, Installable::new("/f", a));
        assert_eq!(
            locate(&b("packages.x.foo"), "x").unwrap(),
            (("/f".into(), "packages.x".into()), "foo".into())
        );
        assert_eq!(
            locate(&b("ok"), "x86_64-linux").unwrap().0.1,
            "packages.x86_64-linux"
        );
        assert!(locate(&b("packages.x.\"a.b\""), "x").is_err());
        assert!(locate(&b("packages.x.a$b"), "x").is_err());
        let e = JobSpec::eval("p", Installable::new("/f", "lib.x"));
        assert!(locate(&e, "x").is_err());
    }

    #[test]
    fn each_answer_shape_gives_a_drv_or_a_reason() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"a":{"drvPath":"/nix/store/x-a.drv","outPaths":["/nix/store/y-a"]},
                "b":{"missing":true,"names":["a","bb","zzz"]},"c":{"failed":true},
                "d":{"notDerivation":true}}"#,
        )
        .unwrap();
        assert_eq!(
            target_from(&v["a"], "p", "a"),
            TargetEval::Drv {
                drv_path: "/nix/store/x-a.drv".into(),
                out_paths: vec!["/nix/store/y-a".into()]
            }
        );
        for (k, word) in [
            ("b", "no attribute"),
            ("c", "failed"),
            ("d", "not a derivation"),
        ] {
            let TargetEval::Own(why) = target_from(&v[k], "p", k) else {
                panic!("{k}")
            };
            assert!(why.contains(word), "{k}: {why}");
        }
        let TargetEval::Own(why) = target_from(&v["b"], "p", "b") else {
            panic!("b")
        };
        assert_eq!(why, "p has no attribute b (nearest: bb)");
        assert!(matches!(
            target_from(&v["zz"], "p", "zz"),
            TargetEval::Own(_)
        ));
    }

    #[test]
    fn the_culprit_is_the_last_attribute_announced() {
        let e = "trace: atwb-eval:a\ntrace: atwb-eval:typeerr\nerror: cannot add a string to an integer\n";
        assert_eq!(last_traced(e).as_deref(), Some("typeerr"));
        assert_eq!(last_traced("error: x\n"), None);
        // A package's own trace is not an announcement.
        assert_eq!(
            last_traced("trace: atwb-eval:a\ntrace: hello\n").as_deref(),
            Some("a")
        );
    }

    #[test]
    fn the_error_line_is_the_message_not_the_trace() {
        let e = "warning: x\nerror: cannot add a string to an integer\n\n   at f.nix:1:2:";
        assert_eq!(
            first_error_line(e),
            "error: cannot add a string to an integer"
        );
    }
}
