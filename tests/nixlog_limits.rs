//! Limits of the log path (`for_each_line` -> `parse_line` -> `BuildState` -> `classify`), the
//! code that reads whatever nix and its builders print: work linear in the log, memory bounded
//! whatever the log, and no panic or hang on mutated logs (a bounded, fixed-seed fuzz run that
//! plain `cargo test` performs on the stable toolchain).

mod common;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use atwb::nix::classify::{ExitInfo, classify};
use atwb::nix::internal_json::parse_line;
use atwb::nix::logfile::{for_each_line, summary_of};
use atwb::nix::state::{
    BuildState, DrvStatus, MAX_DERIVATIONS, MAX_KEPT_PATH, MAX_LIVE_ACTIVITIES,
};

fn start_build(id: u64, drv: &str) -> String {
    format!(
        r#"@nix {{"action":"start","fields":["{drv}","",1,1],"id":{id},"level":3,"text":"building","type":105}}"#
    )
}

fn drv(i: u64) -> String {
    format!("/nix/store/{i:032}-p{i}.drv")
}

const INTERRUPTED: &str = r#"@nix {"action":"msg","level":0,"msg":"error: interrupted by the user","raw_msg":"interrupted by the user"}"#;

/// The shape that took `atwb log` 80 s: many derivations, and an "interrupted by the user"
/// message after each. Each message used to walk every derivation seen so far.
#[test]
fn interrupts_cost_work_linear_in_the_log() {
    let n: u64 = 3000;
    let mut s = BuildState::new();
    for i in 0..n {
        s.apply(&parse_line(&start_build(i + 10, &drv(i))));
        s.apply(&parse_line(INTERRUPTED));
    }
    assert!(s.interrupted());
    assert!(
        s.derivations()
            .iter()
            .all(|d| d.status == DrvStatus::Cancelled)
    );
    // Two status changes per derivation (building, cancelled): anything near n^2/2 = 4.5M
    // derivation visits is the quadratic path back.
    assert!(
        s.work() <= 4 * n,
        "{} derivation visits for {n} derivations and {n} messages",
        s.work()
    );
}

/// A top-level `setPhase` names the only derivation building: finding it must not walk them all.
#[test]
fn top_level_phases_cost_work_linear_in_the_log() {
    let n: u64 = 3000;
    let mut s = BuildState::new();
    for i in 0..n {
        s.apply(&parse_line(&start_build(i + 10, &drv(i))));
        s.apply(&parse_line(&format!(
            r#"@nix {{"action":"stop","id":{}}}"#,
            i + 10
        )));
        s.apply(&parse_line(
            r#"@nix {"action":"setPhase","phase":"buildPhase"}"#,
        ));
    }
    assert!(s.work() <= 4 * n, "{} visits", s.work());
}

/// Activities that never stop (a cut or hostile log): 1M starts, none stopped. Memory grew with
/// each (576 MB for a 246 MB log); now the live ones, the derivation records and every kept
/// string are capped.
#[test]
fn activities_that_never_stop_keep_memory_bounded() {
    let n: u64 = 1_000_000;
    let long_url = format!("https://example.invalid/{}", "x".repeat(4 * MAX_KEPT_PATH));
    let mut s = BuildState::new();
    let mut line = String::new();
    for i in 0..n {
        line.clear();
        if i % 2 == 0 {
            line.push_str(&start_build(i, &drv(i)));
        } else {
            use std::fmt::Write;
            write!(
                line,
                r#"@nix {{"action":"start","fields":["{long_url}"],"id":{i},"level":4,"text":"downloading","type":101}}"#
            )
            .unwrap();
            write!(
                line,
                "\n@nix {{\"action\":\"result\",\"fields\":[{i},{i}],\"id\":{i},\"type\":106}}"
            )
            .unwrap();
        }
        for l in line.lines() {
            s.apply(&parse_line(l));
        }
    }
    let fp = s.footprint();
    assert!(fp.live_activities <= MAX_LIVE_ACTIVITIES, "{fp:?}");
    assert!(fp.activity_order <= 2 * MAX_LIVE_ACTIVITIES + 65, "{fp:?}");
    assert!(fp.derivations <= MAX_DERIVATIONS, "{fp:?}");
    assert_eq!(
        s.activities_dropped(),
        n - MAX_LIVE_ACTIVITIES as u64,
        "the oldest live ones were forgotten"
    );
    assert_eq!(
        s.derivations_dropped(),
        n / 2 - MAX_DERIVATIONS as u64,
        "derivations past the cap are counted, not kept"
    );
    // Derivation records (~2 paths + name each) plus clipped transfer names.
    let bound = MAX_DERIVATIONS * 3 * 80 + MAX_LIVE_ACTIVITIES * (MAX_KEPT_PATH + 64);
    assert!(fp.kept_bytes <= bound, "{fp:?} > {bound}");
    // Derivations forgotten with their activity are no longer building.
    let building = s.with_status(DrvStatus::Building).count();
    assert!(building <= MAX_LIVE_ACTIVITIES, "{building}");
}

// ---- fuzz: mutations of the captured logs ----

/// xorshift64*: a fixed seed makes every run try the same inputs (a failure names its case).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = common::repo_root().join("tests/fixtures/logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Replace the value after the `n`th `"key":` (up to the next `,` or `}`) with `with`.
fn replace_value(line: &mut Vec<u8>, rng: &mut Rng, with: &[u8]) {
    let starts: Vec<usize> = line
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\":")
        .map(|(i, _)| i + 2)
        .collect();
    if starts.is_empty() {
        return;
    }
    let at = starts[rng.below(starts.len())];
    let end = line[at..]
        .iter()
        .position(|&b| b == b',' || b == b'}')
        .map_or(line.len(), |n| at + n);
    line.splice(at..end, with.iter().copied());
}

const ODD_VALUES: &[&[u8]] = &[
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1e400",
    b"-1",
    b"0.5",
    b"null",
    b"true",
    b"\"x\"",
    b"[]",
    b"{}",
    b"[1,[2,[3]]]",
    b"{\"a\":{\"b\":[]}}",
    b"\"\\ud800\"",
    b"\"\\u001b]0;x\\u0007\"",
    b"[\"/nix/store/00000000000000000000000000000000-x.drv\",\"\",1,1]",
];

/// One mutation of `log`; returns what it did, for the failure message.
fn mutate(log: &mut Vec<Vec<u8>>, corpus: &[(String, Vec<u8>)], rng: &mut Rng) -> String {
    let n = log.len().max(1);
    let i = rng.below(n).min(log.len().saturating_sub(1));
    if log.is_empty() {
        log.push(Vec::new());
    }
    match rng.below(9) {
        0 => {
            let line = &mut log[i];
            if !line.is_empty() {
                let at = rng.below(line.len());
                line[at] ^= 1 << rng.below(8);
            }
            format!("flip a bit in line {i}")
        }
        1 => {
            let cut = rng.below(log[i].len() + 1);
            log[i].truncate(cut);
            log.truncate(i + 1);
            format!("truncate at line {i} byte {cut}")
        }
        2 => {
            let (_, other) = &corpus[rng.below(corpus.len())];
            let lines = lines_of(other);
            let line = lines[rng.below(lines.len())].clone();
            log.insert(i, line);
            format!("splice a line at {i}")
        }
        3 => {
            let v = ODD_VALUES[rng.below(ODD_VALUES.len())];
            replace_value(&mut log[i], rng, v);
            format!("value in line {i} := {}", String::from_utf8_lossy(v))
        }
        4 => {
            let depth = [200, 5_000, 100_000][rng.below(3)];
            let mut line =
                b"@nix {\"action\":\"result\",\"id\":1,\"type\":101,\"fields\":".to_vec();
            line.extend(std::iter::repeat_n(b'[', depth));
            line.extend(std::iter::repeat_n(b']', depth));
            line.push(b'}');
            log.insert(i, line);
            format!("nesting {depth} deep at line {i}")
        }
        5 => {
            let line = &mut log[i];
            let at = rng.below(line.len() + 1);
            let bad: &[u8] =
                [&b"\xff\xfe"[..], b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"][rng.below(4)];
            line.splice(at..at, bad.iter().copied());
            format!("invalid UTF-8 in line {i}")
        }
        6 => {
            // Many copies of a short line; a long one is copied less (inputs stay a few MB).
            let line = log[i].clone();
            let copies = [2, 100, 5_000][rng.below(3)].min((4 << 20) / (line.len() + 1));
            for _ in 0..copies {
                log.insert(i, line.clone());
            }
            format!("line {i} repeated {copies} times")
        }
        7 => {
            log.remove(i);
            format!("drop line {i}")
        }
        _ => {
            // A huge line (past the reader's cut) or one without its end.
            let len = [70_000, 1_100_000][rng.below(2)];
            let mut line = b"@nix {\"action\":\"msg\",\"level\":0,\"msg\":\"error: ".to_vec();
            line.extend(std::iter::repeat_n(b'y', len));
            log.insert(i, line);
            format!("a {len}-byte line at {i}")
        }
    }
}

/// The whole `atwb log` path on `bytes`, checking the state's bounds.
fn triage(bytes: &[u8]) -> Result<(), String> {
    let mut state = BuildState::new();
    for_each_line(BufReader::new(bytes), |line| {
        state.apply(&parse_line(line));
    })
    .map_err(|e| e.to_string())?;
    let _ = classify(&state, &ExitInfo::from_log());
    let _ = classify(&state, &ExitInfo::exited(1));
    let summary = summary_of(
        Path::new("fuzz.log"),
        &state,
        atwb::nix::logfile::IngestStats::default(),
    );
    serde_json::to_string(&summary).map_err(|e| e.to_string())?;
    let fp = state.footprint();
    let bound = 3 * bytes.len() + (1 << 20);
    if fp.kept_bytes > bound || fp.live_activities > MAX_LIVE_ACTIVITIES {
        return Err(format!(
            "state not bounded: {fp:?} for {} input bytes",
            bytes.len()
        ));
    }
    Ok(())
}

/// Cases tried (about 17 s in a debug build on the 2-core test machine), capped by time too.
const CASES: usize = 1000;
const TIME_BUDGET: Duration = Duration::from_secs(30);
/// A case that takes longer than this is a hang.
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// What the fuzz worker reports: the case it starts (so a hang names it), then its outcome.
enum Report {
    Start(usize, String),
    Done(Result<(), String>),
}

#[test]
fn mutated_logs_never_panic_hang_or_grow_the_state() {
    let corpus = corpus();
    let (tx, rx) = mpsc::channel::<Report>();
    let worker_corpus = corpus.clone();
    // A small stack, as on a worker thread: deep JSON must not overflow it.
    let worker = std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut rng = Rng(0x5eed_a7b0_2026_0001);
            let started = Instant::now();
            for case in 0..CASES {
                if started.elapsed() > TIME_BUDGET {
                    break;
                }
                let (name, bytes) = &worker_corpus[rng.below(worker_corpus.len())];
                let mut log = lines_of(bytes);
                let mut what = vec![name.clone()];
                for _ in 0..=rng.below(4) {
                    what.push(mutate(&mut log, &worker_corpus, &mut rng));
                }
                let input = log.join(&b'\n');
                if tx.send(Report::Start(case, what.join("; "))).is_err() {
                    return;
                }
                let outcome = std::panic::catch_unwind(|| triage(&input)).unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| {
                            p.downcast_ref::<&str>()
                                .map(std::string::ToString::to_string)
                        })
                        .unwrap_or_default();
                    Err(format!("panicked: {msg}"))
                });
                if tx.send(Report::Done(outcome)).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    let mut current = (0, String::new());
    let mut done = 0;
    loop {
        match rx.recv_timeout(CASE_LIMIT) {
            Ok(Report::Start(case, what)) => current = (case, what),
            Ok(Report::Done(Ok(()))) => done += 1,
            Ok(Report::Done(Err(e))) => panic!("case {} ({}): {e}", current.0, current.1),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "case {} ({}) took over {CASE_LIMIT:?}: a hang",
                    current.0, current.1
                )
            }
        }
    }
    worker
        .join()
        .expect("the fuzz worker died (a stack overflow aborts instead)");
    assert!(done >= 200, "only {done} cases ran within the time budget");
    eprintln!("{done} mutated logs triaged");
}
