//! `atwb build`: the job engine without the TUI. Human progress on stderr, a JSON summary on
//! stdout with `--json`, JUnit XML with `--junit`, exit code 1 when any target did not succeed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::build_eval::{PrepareOptions, Prepared, Skipped, prepare};
use super::build_progress::{self, Reporter};
use super::output::{Mode, escape_controls, with_stdout};
use crate::config::Config;
use crate::jobs::{Engine, EngineConfig, JobEvent, JobResult, JobSpec, Outcome, StatusStore};
use crate::nix::classify::Failure;
use crate::nix::command::{Installable, current_system};
use crate::paths;
use crate::tui::runtime::StopSignals;

/// Which targets: catalog packages by name, tier or org, or a flake's attributes. Shared by
/// `atwb build` and `atwb cache`.
#[derive(Debug, Clone, Default, Args)]
pub struct Targets {
    /// Packages (catalog names) or, with --flake, flake attributes.
    pub names: Vec<String>,
    /// Every package of the catalog.
    #[arg(long, conflicts_with_all = ["tier", "org"])]
    pub all: bool,
    /// Every package of this tier (1, 2 or 3).
    #[arg(long)]
    pub tier: Option<u8>,
    /// Every package of this org.
    #[arg(long)]
    pub org: Option<String>,
    /// Flake to take the attributes from (default: the repository holding the catalog).
    #[arg(long, value_name = "REF")]
    pub flake: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// Run the packages' checks (smoke and VM tests) instead of building them.
    #[arg(long)]
    pub test: bool,
    /// Print the results and the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Do not build targets whose outputs a binary cache already has (asked by narinfo).
    #[arg(long)]
    pub skip_cached: bool,
    /// Let each target evaluate in its own `nix build flake#attr`, instead of one evaluation for
    /// all targets and a build by drv each (for comparison, and as a way around the batch).
    #[arg(long)]
    pub eval_per_target: bool,
    /// Stream every build line, prefixed with the package name (`NAME> line`).
    #[arg(short = 'L', long)]
    pub print_build_logs: bool,
}

impl BuildArgs {
    /// `atwb build NAME` with every option at its default.
    pub fn one(name: &str) -> Self {
        BuildArgs {
            targets: Targets {
                names: vec![name.to_string()],
                ..Targets::default()
            },
            test: false,
            json: false,
            junit: None,
            skip_cached: false,
            eval_per_target: false,
            print_build_logs: false,
        }
    }
}

/// One target in the `--json` output.
#[derive(Debug, Serialize)]
struct ResultJson<'a> {
    package: &'a str,
    target: &'a str,
    kind: &'a str,
    installable: String,
    outcome: Outcome,
    failure: Option<&'a Failure>,
    exit_code: Option<i32>,
    duration_secs: f64,
    drv_path: Option<&'a str>,
    out_paths: &'a [String],
    log_file: Option<&'a Path>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    total: usize,
    ok: usize,
    /// Not built: a binary cache has them (`--skip-cached`).
    skipped: usize,
    failed: usize,
    cancelled: usize,
    timed_out: usize,
}

pub fn run(args: &BuildArgs, catalog_flag: Option<&Path>) -> Result<ExitCode> {
    let config = Config::load_from(&paths::config_dir())?;
    // With --flake the catalog is optional (the status store is kept only if there is one).
    let catalog = match paths::locate_catalog(catalog_flag) {
        Ok(c) => Some(c),
        Err(e) if args.targets.flake.is_none() => return Err(e),
        Err(_) => None,
    };
    let specs = plan(
        &args.targets,
        args.test,
        catalog.as_deref(),
        config.jobs.flake.as_deref(),
    )?;
    if specs.is_empty() {
        bail!("nothing to build: name packages, or use --all, --tier N or --org O");
    }
    let mut engine_cfg = if let Some(c) = &catalog {
        EngineConfig::from_config(&config.jobs, c)
    } else {
        let mut e = EngineConfig::new(paths::state_dir().join("logs"));
        e.max_parallel = config.jobs.max_parallel.max(1);
        e.nix.builders = config.jobs.builders.clone();
        e.nix.max_jobs = config.jobs.max_jobs;
        e.timeout = config.jobs.timeout_secs.map(std::time::Duration::from_secs);
        e.substituters.clone_from(&config.jobs.substituters);
        e
    };
    let store = match &catalog {
        Some(c) => Some(Arc::new(StatusStore::open(c)?)),
        None => None,
    };
    engine_cfg.store = store.clone();
    let rt = runtime_for(specs.len().min(engine_cfg.max_parallel))?;
    let prepare = PrepareOptions {
        per_target: args.eval_per_target,
        skip_cached: args.skip_cached,
    };
    let (results, skipped, stopped_by) = rt.block_on(run_jobs(
        engine_cfg,
        specs,
        prepare,
        build_progress::Options::from_env(args.print_build_logs),
    ));
    drop(rt);

    let mut summary = Summary {
        total: results.len() + skipped.len(),
        skipped: skipped.len(),
        ..Default::default()
    };
    for r in &results {
        match r.outcome {
            Outcome::Ok => summary.ok += 1,
            Outcome::Failed => summary.failed += 1,
            // A live engine never reports Interrupted (the store does, for a dead atwb's runs).
            Outcome::Cancelled | Outcome::Interrupted => summary.cancelled += 1,
            Outcome::TimedOut => summary.timed_out += 1,
        }
    }
    if let Some(path) = &args.junit {
        crate::catalog::edit::write_atomic(
            path,
            crate::jobs::junit::render("atwb build", &results).as_bytes(),
        )
        .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    if args.json {
        let out: Vec<ResultJson> = results.iter().map(result_json).collect();
        let doc = serde_json::json!({ "results": out, "skipped": skipped, "summary": summary });
        with_stdout(Mode::Json, |out| {
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        })?;
    }
    // Formatted first: eprintln! of a format string writes each piece with its own write(2).
    let cached = if summary.skipped > 0 {
        format!(", {} skipped (cached)", summary.skipped)
    } else {
        String::new()
    };
    let line = format!(
        "\n{}{} targets: {} ok, {} failed, {} cancelled, {} timed out{cached}\n",
        escape_controls(&super::build_output::summary_table(&results, &skipped)),
        summary.total,
        summary.ok,
        summary.failed,
        summary.cancelled,
        summary.timed_out
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    // A result that could not be recorded is lost for the TUI and later runs: say so and fail.
    let unrecorded = store.map(|s| s.take_write_errors()).unwrap_or_default();
    for e in &unrecorded {
        note(&format!("atwb: {}", escape_controls(e)));
    }
    Ok(match stopped_by {
        // As a shell reports a process the signal killed; Ctrl-c keeps the plain failure code
        // of a run with cancelled targets.
        Some(sig) if sig != libc::SIGINT => ExitCode::from(128 + sig as u8),
        _ if summary.ok + summary.skipped == summary.total && unrecorded.is_empty() => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::FAILURE,
    })
}

/// To stderr, ignoring errors: after SIGHUP the terminal may be gone, and a failed write must not
/// abort the cancelling (eprintln! panics).
fn note(text: &str) {
    let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
}

fn signal_name(sig: libc::c_int) -> &'static str {
    match sig {
        libc::SIGINT => "interrupted",
        libc::SIGTERM => "terminated (SIGTERM)",
        libc::SIGHUP => "hung up (SIGHUP)",
        libc::SIGQUIT => "quit (SIGQUIT)",
        _ => "signalled",
    }
}

/// The runtime for `concurrent` jobs at a time. One job (the common `atwb build PKG`): a
/// current-thread runtime, so no worker threads are started and every wakeup (nix's stderr,
/// its exit, Ctrl-c) is handled on the main thread without a hand-off to another thread; this
/// was part of the fixed cost a short build pays. The main thread is also the thread that forks
/// nix, and it lives until atwb exits, which is what PR_SET_PDEATHSIG needs. Several jobs: one
/// worker per job that can run at once (up to the cores), so their logs are parsed in parallel.
fn runtime_for(concurrent: usize) -> Result<tokio::runtime::Runtime> {
    let runtime = if concurrent <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(concurrent.min(cores).max(1))
            .enable_all()
            .build()?
    };
    Ok(runtime)
}

fn result_json(r: &JobResult) -> ResultJson<'_> {
    ResultJson {
        package: &r.spec.package,
        target: &r.spec.label,
        kind: r.spec.kind.as_str(),
        installable: r.spec.installable.to_string(),
        outcome: r.outcome,
        failure: r.failure.as_ref(),
        exit_code: r.exit_code,
        duration_secs: r.duration.as_secs_f64(),
        drv_path: r.drv_path.as_deref(),
        out_paths: &r.out_paths,
        log_file: r.log_file.as_deref(),
    }
}

/// The jobs to run, in order.
pub(super) fn plan(
    args: &Targets,
    test: bool,
    catalog: Option<&Path>,
    config_flake: Option<&str>,
) -> Result<Vec<JobSpec>> {
    let system = current_system();
    if let Some(flake) = &args.flake {
        if args.all || args.tier.is_some() || args.org.is_some() {
            bail!(
                "--all, --tier and --org select catalog packages; with --flake, name the attributes to build"
            );
        }
        return Ok(args
            .names
            .iter()
            .flat_map(|n| {
                if test {
                    JobSpec::tests(flake, &system, n, [])
                } else {
                    vec![JobSpec::build(
                        n.clone(),
                        Installable::new(flake.clone(), n.clone()),
                    )]
                }
            })
            .collect());
    }
    let catalog = catalog.context("no catalog")?;
    let loaded = crate::catalog::load(catalog)?;
    for d in &loaded.diagnostics {
        eprintln!("warning: {}", escape_controls(&d.to_string()));
    }
    let cat = loaded.catalog;
    let flake = match config_flake {
        Some(f) => f.to_string(),
        None => paths::repo_flake(catalog)?,
    };
    let mut picked = Vec::new();
    for n in &args.names {
        if cat.get(n).is_none() {
            let invalid = loaded
                .diagnostics
                .iter()
                .any(|d| d.file.parent().and_then(|p| p.file_name()) == Some(n.as_ref()));
            if invalid {
                bail!(
                    "package {n} has errors (see the warnings above); fix them with `atwb check`"
                );
            }
            let names: Vec<String> = cat.packages.iter().map(|p| p.name.clone()).collect();
            let near = crate::nix::advice::nearest(n, &names);
            let near = if near.is_empty() {
                String::new()
            } else {
                format!("did you mean {}? ", near.join(", "))
            };
            bail!(
                "no package named {n} in {}; {near}`atwb list` shows the names",
                catalog.display()
            );
        }
        picked.push(n.clone());
    }
    if args.names.is_empty() {
        for p in &cat.packages {
            let tier_ok = args.tier.is_none_or(|t| p.tier.number() == t);
            let org_ok = args.org.as_ref().is_none_or(|o| &p.org == o);
            if (args.all || args.tier.is_some() || args.org.is_some()) && tier_ok && org_ok {
                picked.push(p.name.clone());
            }
        }
        if let Some(o) = &args.org
            && picked.is_empty()
            && !cat.orgs().contains(&o.as_str())
        {
            bail!("no org named {o}; orgs are: {}", cat.orgs().join(", "));
        }
    }
    let mut specs = Vec::new();
    for name in picked {
        let pkg = cat.get(&name).expect("checked above");
        if test {
            specs.extend(JobSpec::tests(
                &flake,
                &system,
                &name,
                pkg.services.keys().map(String::as_str),
            ));
        } else {
            specs.push(JobSpec::build(
                name.clone(),
                Installable::new(flake.clone(), format!("packages.{system}.{name}")),
            ));
        }
    }
    Ok(specs)
}

/// Runs the jobs to the end; a stop signal cancels them (they still finish, as cancelled, and are
/// recorded), a second one stops at once. Returns the results and the first stop signal.
async fn run_jobs(
    cfg: EngineConfig,
    specs: Vec<JobSpec>,
    prepare: PrepareOptions,
    output: build_progress::Options,
) -> (Vec<JobResult>, Vec<Skipped>, Option<libc::c_int>) {
    // Ctrl-c (SIGINT), and SIGTERM, SIGHUP, SIGQUIT, which would otherwise end atwb at once,
    // with nothing recorded and no summary.
    let mut signals = StopSignals::new();
    let engine = Engine::new(cfg);
    if !prepare.per_target {
        // Its `nix --version` then runs beside the evaluation, not before the first build.
        engine.warm_up();
    }
    let Ok(Prepared {
        run: specs,
        skipped,
    }) = evaluate_first(engine.config(), specs, prepare, &mut signals).await
    else {
        return (Vec::new(), Vec::new(), Some(libc::SIGINT));
    };
    let mut rx = if output.wants_lines() {
        engine.subscribe()
    } else {
        engine.subscribe_lifecycle()
    };
    let mut reporter = Reporter::new(output);
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    let total = specs.len();
    reporter.set_total(total);
    let ids: Vec<_> = specs.into_iter().map(|s| engine.submit(s)).collect();
    let mut results: Vec<Option<JobResult>> = vec![None; total];
    let mut done = 0;
    let mut stopped_by = None;
    while done < total {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                match ev {
                    JobEvent::Started { id, .. } => {
                        if let Some(j) = engine.job(id) {
                            reporter.started(id, &j.spec.label, &j.spec.installable.to_string());
                        }
                    }
                    JobEvent::Log { id, text, .. } => reporter.log(id, &text),
                    JobEvent::Finished(r) => {
                        done += 1;
                        reporter.finished(&r, done, total);
                        if let Some(i) = ids.iter().position(|id| *id == r.id) {
                            results[i] = Some(*r);
                        }
                    }
                    _ => {}
                }
            }
            _ = ticks.tick() => reporter.tick(&engine),
            sig = signals.recv() => {
                if stopped_by.is_some() {
                    note(&format!("{} again: stopping now", signal_name(sig)));
                    break;
                }
                stopped_by = Some(sig);
                note(&format!(
                    "{}: cancelling {} job(s); Ctrl-c again to stop at once",
                    signal_name(sig),
                    total - done
                ));
                engine.cancel_all();
            }
        }
    }
    reporter.close();
    // Dropping the engine stops whatever still runs (second signal) before returning.
    drop(engine);
    (results.into_iter().flatten().collect(), skipped, stopped_by)
}

/// The batch evaluation (and cache lookup); a stop signal cancels it, and it still ends (its
/// nix stopped) before this returns. Err: the signal that stopped it.
async fn evaluate_first(
    cfg: &EngineConfig,
    specs: Vec<JobSpec>,
    opts: PrepareOptions,
    signals: &mut StopSignals,
) -> Result<Prepared, libc::c_int> {
    let cancel = tokio_util::sync::CancellationToken::new();
    let work = prepare(specs, cfg, opts, &cancel);
    tokio::pin!(work);
    let mut stopped_by = None;
    loop {
        tokio::select! {
            p = &mut work => return match (p, stopped_by) {
                (Some(p), None) => Ok(p),
                (_, sig) => Err(sig.unwrap_or(libc::SIGINT)),
            },
            sig = signals.recv(), if stopped_by.is_none() => {
                note(&format!("{}: cancelling the evaluation", signal_name(sig)));
                stopped_by = Some(sig);
                cancel.cancel();
            }
        }
    }
}
