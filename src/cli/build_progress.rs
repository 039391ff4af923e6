//! What `atwb build` prints while jobs run, on stderr. Not on a terminal (a CI log, a pipe):
//! plain timestamped lines, one at each job's start and end and at most one per job every
//! [`EVERY`] between, so a log never looks hung. `-L` streams each build line as `NAME> line`.
//! Under `GITHUB_ACTIONS=true` each package's build lines are one folded `::group::`, printed
//! when the job ends: parallel jobs' lines would interleave, and groups cannot. On a terminal
//! (stdout and stderr both) a compact live status, one line per running job and a totals line,
//! is redrawn in place below those lines and erased before the end summary. A running job's
//! line carries `elapsed/~estimate` and the totals line the time left when the status store's
//! history gives them (`build_estimates`); a plain log gets the totals line every [`EVERY`] too.

use std::collections::{HashMap, VecDeque};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::build_estimates::{job_time, jobs_left, time_text, totals_text};
use super::build_output::finish_line;
use super::output::escape_controls;
use crate::jobs::{EngineHandle, JobId, JobInfo, JobResult, JobState};

/// The longest a running job goes without a line in a plain log.
pub const EVERY: Duration = Duration::from_secs(10);
/// Build lines kept per job for its GitHub group; older ones are counted, and in the log file.
const GROUP_LINES: usize = 2000;

pub struct Options {
    /// `-L`: every build line, prefixed with the package.
    pub print_logs: bool,
    /// `GITHUB_ACTIONS=true`: fold each package's lines.
    pub github: bool,
    /// Draw the live status (a terminal).
    pub live: bool,
}

impl Options {
    pub fn from_env(print_logs: bool) -> Self {
        Options {
            print_logs,
            github: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            live: std::io::stderr().is_terminal() && std::io::stdout().is_terminal(),
        }
    }

    /// The engine must send log lines (not only start and end).
    pub fn wants_lines(&self) -> bool {
        self.print_logs || self.github
    }
}

struct Running {
    label: String,
    last_line: Instant,
    /// For the GitHub group: the newest build lines and how many older ones were dropped.
    lines: VecDeque<String>,
    dropped: usize,
}

pub struct Reporter {
    opts: Options,
    running: HashMap<JobId, Running>,
    /// Lines of the live status now on the terminal (to move up over and erase).
    drawn: usize,
    finished: usize,
    total: usize,
    /// When a plain log last had the totals line.
    last_totals: Instant,
}

impl Reporter {
    pub fn new(opts: Options) -> Self {
        Reporter {
            opts,
            running: HashMap::new(),
            drawn: 0,
            finished: 0,
            total: 0,
            last_totals: Instant::now(),
        }
    }

    /// Text above the live status: the status is erased, the text printed, the status redrawn.
    fn emit(&mut self, text: &str) {
        if self.opts.live {
            emit_raw(&format!("{}{text}\n", self.erase()));
        } else {
            emit(text);
        }
    }

    /// The escape sequence that moves up over the drawn status and erases it.
    fn erase(&mut self) -> String {
        let n = std::mem::take(&mut self.drawn);
        if n == 0 {
            String::new()
        } else {
            format!("\x1b[{n}A\r\x1b[J")
        }
    }

    /// Redraws the live status: one line per running job, then the totals.
    fn draw(&mut self, engine: &EngineHandle) {
        let now = Instant::now();
        let mut jobs: Vec<(JobId, &Running)> = self.running.iter().map(|(i, r)| (*i, r)).collect();
        jobs.sort_by_key(|(id, _)| *id);
        // A line wider than the terminal would wrap and the cursor-up count would be wrong.
        let width = terminal_width().saturating_sub(3).max(20);
        let mut out = String::new();
        for (id, job) in &jobs {
            let line: String = job_status(engine, *id, &job.label, now)
                .chars()
                .take(width)
                .collect();
            out.push_str(&format!("  {line}\n"));
        }
        let totals = self.totals(engine, now);
        out.push_str(&format!("  {totals}\n"));
        let lines = jobs.len() + 1;
        let text = format!("{}{out}", self.erase());
        self.drawn = lines;
        emit_raw(&text);
    }

    /// `2 running, 1 done of 5 · ~40s left`.
    fn totals(&self, engine: &EngineHandle, now: Instant) -> String {
        let slots = engine.config().max_parallel;
        let store = engine.config().store.as_deref();
        let left = jobs_left(&engine.jobs(), store, slots, now);
        totals_text(self.running.len(), self.finished, self.total, left)
    }

    /// Erases the live status (before the end summary).
    pub fn close(&mut self) {
        if self.opts.live {
            let e = self.erase();
            emit_raw(&e);
        }
    }

    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    pub fn started(&mut self, id: JobId, label: &str, installable: &str) {
        self.emit(&stamped(&format!("started  {label} ({installable})")));
        self.running.insert(
            id,
            Running {
                label: label.to_string(),
                last_line: Instant::now(),
                lines: VecDeque::new(),
                dropped: 0,
            },
        );
    }

    /// A build line of a running job.
    pub fn log(&mut self, id: JobId, text: &str) {
        let Some(job) = self.running.get_mut(&id) else {
            return;
        };
        let line = escape_controls(text).into_owned();
        if self.opts.github {
            if job.lines.len() == GROUP_LINES {
                job.lines.pop_front();
                job.dropped += 1;
            }
            job.lines.push_back(line);
        } else if self.opts.print_logs {
            let text = format!("{}> {line}", job.label);
            self.emit(&text);
        }
    }

    /// One progress line for each running job that has had none for [`EVERY`].
    pub fn tick(&mut self, engine: &EngineHandle) {
        if self.opts.live {
            self.draw(engine);
            return;
        }
        let now = Instant::now();
        for (id, job) in &mut self.running {
            if now.duration_since(job.last_line) < EVERY {
                continue;
            }
            job.last_line = now;
            let text = job_status(engine, *id, &job.label, now);
            emit(&stamped(&text));
        }
        if !self.running.is_empty() && now.duration_since(self.last_totals) >= EVERY {
            self.last_totals = now;
            emit(&stamped(&self.totals(engine, now)));
        }
    }

    pub fn finished(&mut self, r: &JobResult, done: usize, total: usize) {
        if let Some(job) = self.running.remove(&r.id)
            && self.opts.github
        {
            let mut out = format!("::group::{} ({})\n", job.label, r.outcome.as_str());
            if job.dropped > 0 {
                let file = r.log_file.as_ref().map(|p| p.display().to_string());
                out.push_str(&format!(
                    "… {} earlier lines in {}\n",
                    job.dropped,
                    file.as_deref().unwrap_or("the log file")
                ));
            }
            let prefix = if self.opts.print_logs {
                format!("{}> ", job.label)
            } else {
                String::new()
            };
            for l in &job.lines {
                out.push_str(&format!("{prefix}{l}\n"));
            }
            out.push_str("::endgroup::");
            self.emit(&out);
        }
        self.finished = done;
        self.emit(&stamped(&escape_controls(&finish_line(r, done, total))));
    }
}

/// `pkg: building (3/7 drvs, 1 running), phase, 42s/~1m01s`.
fn job_status(engine: &EngineHandle, id: JobId, label: &str, now: Instant) -> String {
    match engine.job(id) {
        Some(info) => status_line(label, &info, now),
        None => format!("{label}: starting"),
    }
}

/// [`job_status`] of a job as the engine describes it.
fn status_line(label: &str, info: &JobInfo, now: Instant) -> String {
    let JobState::Running { started, .. } = info.state else {
        return format!("{label}: starting");
    };
    let p = info.progress;
    let mut text = format!("{label}: building");
    if p.expected > 0 {
        text.push_str(&format!(" ({}/{} drvs", p.done, p.expected));
        if p.running > 0 {
            text.push_str(&format!(", {} running", p.running));
        }
        text.push(')');
    }
    if let Some(phase) = &info.phase {
        text.push_str(&format!(", {phase}"));
    }
    let time = job_time(started, info.tree, now);
    text.push_str(&format!(", {}", time_text(&time)));
    escape_controls(&text).into_owned()
}

/// Columns of the terminal on stderr (80 when it cannot be asked).
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ writes one winsize into the struct passed; nothing else is touched.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}

/// `[HH:MM:SS] text` in UTC, as CI runners log.
fn stamped(text: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!(
        "[{:02}:{:02}:{:02}] {text}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// To stderr in one write (pieces of parallel jobs' lines must not mix), ignoring errors: after
/// SIGHUP the terminal may be gone, and a failed write must not abort the cancelling.
fn emit(text: &str) {
    emit_raw(&format!("{text}\n"));
}

fn emit_raw(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{JobSpec, Progress};
    use crate::nix::command::Installable;
    use crate::nix::drvtree::Totals;

    fn running(started: Instant, tree: Option<(Instant, Totals)>) -> JobInfo {
        JobInfo {
            id: JobId(1),
            spec: JobSpec::build("long", Installable::new("/f", "packages.x86_64-linux.long")),
            state: JobState::Running { pid: 1, started },
            progress: Progress {
                done: 1,
                expected: 3,
                running: 1,
                failed: 0,
            },
            phase: Some("buildPhase".into()),
            log_file: None,
            tree,
        }
    }

    #[test]
    fn a_running_job_line_has_its_estimate_when_the_tree_has_one() {
        let started = Instant::now();
        let now = started + Duration::from_secs(20);
        let without = running(started, None);
        assert_eq!(
            status_line("long", &without, now),
            "long: building (1/3 drvs, 1 running), buildPhase, 20s"
        );
        let totals = Totals {
            estimate_left_ms: Some(56_000),
            builds_running: 1,
            ..Totals::default()
        };
        let with = running(started, Some((started + Duration::from_secs(5), totals)));
        assert_eq!(
            status_line("long", &with, now),
            "long: building (1/3 drvs, 1 running), buildPhase, 20s/~1m01s"
        );
        let queued = JobInfo {
            state: JobState::Queued,
            ..with
        };
        assert_eq!(status_line("long", &queued, now), "long: starting");
    }
}
