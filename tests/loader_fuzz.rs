//! Property test of the loader on mutated copies of the shipped catalog's `package.toml` files:
//! byte flips, truncations, duplications, lines spliced in from other files, inserted brackets,
//! quotes and control characters, and deep nesting. For every case: no panic, no hang (each
//! load runs on a thread with a 256 KiB stack and must finish within a timeout), and every
//! diagnostic names a file that exists, a line inside that file, a field and a hint.
//!
//! The cases come from a fixed seed, so a run is reproducible; on a failure the seed, the case,
//! the source file and the mutations are printed and the mutated file is saved. Environment:
//! `ATWB_FUZZ_SEED` (decimal or 0x-hex) and `ATWB_FUZZ_CASES` change the seed and the count.

use std::fmt;
use std::fs;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use atwb::catalog::{self, Diagnostic};

const DEFAULT_SEED: u64 = 0x5eed_a7b0_0c47_a10c;
const DEFAULT_CASES: usize = 2000;
const STACK: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// xorshift64*: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One `package.toml` of the shipped catalog.
struct Source {
    org: String,
    name: String,
    text: Vec<u8>,
}

fn sources() -> Vec<Source> {
    let pkgs = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/pkgs");
    let mut out = Vec::new();
    for org in fs::read_dir(&pkgs).unwrap() {
        let org = org.unwrap().path();
        for pkg in fs::read_dir(&org).unwrap() {
            let pkg = pkg.unwrap().path();
            let file = pkg.join("package.toml");
            if let Ok(text) = fs::read(&file) {
                out.push(Source {
                    org: file_name(&org),
                    name: file_name(&pkg),
                    text,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.org, &a.name).cmp(&(&b.org, &b.name)));
    out
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// One change to a file's bytes, kept so a failure can say exactly what was done.
#[derive(Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        byte: u8,
    },
    Truncate {
        at: usize,
    },
    Duplicate {
        from: usize,
        to: usize,
        at: usize,
    },
    Delete {
        from: usize,
        to: usize,
    },
    SpliceLine {
        source: usize,
        line: usize,
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::FlipBit { at, bit } => write!(f, "flip bit {bit} of byte {at}"),
            Mutation::SetByte { at, byte } => write!(f, "set byte {at} to {byte:#04x}"),
            Mutation::Truncate { at } => write!(f, "truncate at byte {at}"),
            Mutation::Duplicate { from, to, at } => {
                write!(f, "copy bytes {from}..{to} to byte {at}")
            }
            Mutation::Delete { from, to } => write!(f, "delete bytes {from}..{to}"),
            Mutation::SpliceLine { source, line, at } => {
                write!(f, "insert line {line} of source {source} at byte {at}")
            }
            Mutation::Insert { at, bytes } => {
                let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
                write!(f, "insert {} bytes {shown:?} at byte {at}", bytes.len())
            }
        }
    }
}

/// Texts that break TOML's structure in interesting ways.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "[[",
    "]]",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "\\",
    "\\u",
    "\\e",
    "\\x41",
    "=",
    ".",
    ",",
    "#",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\0",
    "\x01",
    "\x1b[2J",
    "\x07",
    "\x7f",
    "é",
    "\u{feff}",
    "= =",
    "[a]\n",
    "[[a]]\n",
    "a = 1\n",
    "x = {",
    "x = [",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "0x",
    "99999999999999999999",
    "-",
    "+",
    "{}",
    "[]",
    "a.b.c = 1\n",
    "\"\"",
    "''",
];

fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr_all(text).map(|i| i + 1))
        .collect()
}

fn memchr_all(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}

/// Nesting that recursive code cannot survive on a small stack: arrays, inline tables, dotted
/// keys and table headers, up to a few thousand levels.
fn deep_nesting(rng: &mut Rng) -> Vec<u8> {
    let most = if rng.below(4) == 0 { 5000 } else { 400 };
    let depth = 1 + rng.below(most);
    let text = match rng.below(5) {
        0 => format!("x = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("x = {}1{}\n", "{a=".repeat(depth), "}".repeat(depth)),
        2 => format!("{} = 1\n", vec!["a"; depth].join(".")),
        3 => format!("[{}]\n", vec!["a"; depth].join(".")),
        _ => format!("x = {}", "[{a=".repeat(depth)),
    };
    format!("\n{text}").into_bytes()
}

fn random_mutation(rng: &mut Rng, text: &[u8], all: &[Source]) -> Mutation {
    let len = text.len();
    let at = rng.below(len + 1);
    match rng.below(9) {
        0 if len > 0 => Mutation::FlipBit {
            at: at.min(len - 1),
            bit: rng.below(8) as u8,
        },
        1 if len > 0 => Mutation::SetByte {
            at: at.min(len - 1),
            byte: *rng.pick(b"[]{}\"'\\=.,#\n\r\t\0\x1b\x7f\xff\xc3 a1"),
        },
        2 => Mutation::Truncate { at },
        3 => {
            let from = rng.below(len + 1);
            let to = (from + rng.below(len - from + 1)).min(from + 4096);
            Mutation::Duplicate {
                from,
                to,
                at: rng.below(len + 1),
            }
        }
        4 => {
            let to = (at + rng.below(64)).min(len);
            Mutation::Delete { from: at, to }
        }
        5 => {
            let source = rng.below(all.len());
            let lines = line_starts(&all[source].text).len();
            let starts = line_starts(text);
            Mutation::SpliceLine {
                source,
                line: rng.below(lines),
                at: *rng.pick(&starts),
            }
        }
        6 => Mutation::Insert {
            at,
            bytes: deep_nesting(rng),
        },
        _ => {
            let n = 1 + rng.below(3);
            let bytes = (0..n)
                .flat_map(|_| rng.pick(FRAGMENTS).as_bytes().to_vec())
                .collect();
            Mutation::Insert { at, bytes }
        }
    }
}

fn apply(text: &mut Vec<u8>, m: &Mutation, all: &[Source]) {
    match m {
        Mutation::FlipBit { at, bit } => text[*at] ^= 1 << bit,
        Mutation::SetByte { at, byte } => text[*at] = *byte,
        Mutation::Truncate { at } => text.truncate(*at),
        Mutation::Duplicate { from, to, at } => {
            let copy = text[*from..*to].to_vec();
            text.splice(*at..*at, copy);
        }
        Mutation::Delete { from, to } => {
            text.drain(*from..*to);
        }
        Mutation::SpliceLine { source, line, at } => {
            let other = &all[*source].text;
            let starts = line_starts(other);
            let end = starts.get(line + 1).copied().unwrap_or(other.len());
            let mut bytes = other[starts[*line]..end].to_vec();
            if bytes.last() != Some(&b'\n') {
                bytes.push(b'\n');
            }
            text.splice(*at..*at, bytes);
        }
        Mutation::Insert { at, bytes } => {
            text.splice(*at..*at, bytes.iter().copied());
        }
    }
}

/// What is wrong with one diagnostic, if anything.
fn bad_diagnostic(d: &Diagnostic) -> Option<String> {
    if fs::symlink_metadata(&d.file).is_err() {
        return Some("names a file that does not exist".into());
    }
    if d.field.is_empty() {
        return Some("has no field".into());
    }
    if d.hint.as_deref().is_none_or(|h| h.trim().is_empty()) {
        return Some("has no hint".into());
    }
    let text = fs::read(&d.file).unwrap_or_default();
    let lines = text.split(|&b| b == b'\n').count();
    if d.line < 1 || d.line > lines {
        return Some(format!("line {} is not in the file's 1..={lines}", d.line));
    }
    if d.column < 1 {
        return Some(format!("column {} is not 1-based", d.column));
    }
    None
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// What the fuzzing thread tells the test: a case finished, all finished, or a failure report.
enum Report {
    Case,
    Done { cases: usize, diagnostics: usize },
    Failed(String),
}

/// One case as a reproducible description (also what a hang is reported with).
fn describe(seed: u64, case: usize, source: &Source, done: &[Mutation]) -> String {
    let steps: Vec<String> = done.iter().map(|m| format!("  - {m}")).collect();
    format!(
        "seed {seed:#x}, case {case}, source pkgs/{}/{}/package.toml, mutations:\n{}\n\
         rerun: ATWB_FUZZ_SEED={seed:#x} ATWB_FUZZ_CASES={} cargo test --test loader_fuzz",
        source.org,
        source.name,
        steps.join("\n"),
        case + 1
    )
}

/// Run the cases; everything (mutating, writing, loading, checking) happens on this one thread
/// with a small stack, so the test's thread only watches the clock.
fn fuzz(seed: u64, cases: usize, current: &Mutex<String>, reports: &mpsc::Sender<Report>) {
    let all = sources();
    // Each case writes and removes a small tree; in memory when the machine has a tmpfs, since
    // on a busy disk the unlinks alone cost more than the loading.
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let root = dir.path().join("catalog");
    let mut rng = Rng::new(seed);
    let mut diagnostics = 0;
    for case in 0..cases {
        let source = rng.below(all.len());
        let mut text = all[source].text.clone();
        let mut done = Vec::new();
        for _ in 0..=rng.below(3) {
            let m = random_mutation(&mut rng, &text, &all);
            apply(&mut text, &m, &all);
            done.push(m);
        }
        // Sometimes a second, unmutated package, so the catalog-wide checks run too.
        let other = (rng.below(8) == 0).then(|| rng.below(all.len()));
        let _ = fs::remove_dir_all(&root);
        write_catalog(&root, &all, source, &text, other);
        let description = describe(seed, case, &all[source], &done);
        let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-case.toml");
        *current.lock().unwrap() = format!("{description}\nmutated file: {}", saved.display());
        let failure = match std::panic::catch_unwind(AssertUnwindSafe(|| catalog::load(&root))) {
            Ok(Ok(loaded)) => {
                diagnostics += loaded.diagnostics.len();
                loaded
                    .diagnostics
                    .iter()
                    .find_map(|d| bad_diagnostic(d).map(|why| format!("a diagnostic {why}: {d}")))
            }
            Ok(Err(e)) => Some(format!("load error: {e}")),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("?")
            )),
        };
        if let Some(why) = failure {
            fs::write(&saved, &text).unwrap();
            let report = format!(
                "{why}\n{description}\nmutated file saved as {}",
                saved.display()
            );
            let _ = reports.send(Report::Failed(report));
            return;
        }
        let _ = reports.send(Report::Case);
    }
    let _ = reports.send(Report::Done { cases, diagnostics });
}

#[test]
fn mutated_catalog_files_never_panic_hang_or_give_a_diagnostic_without_a_place() {
    let seed = env_number("ATWB_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let cases = env_number("ATWB_FUZZ_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    assert!(sources().len() >= 20, "too few shipped package files");
    let current = Arc::new(Mutex::new(String::new()));
    let (tx, reports) = mpsc::channel();
    let shared = Arc::clone(&current);
    std::thread::Builder::new()
        .name("fuzz-loader".into())
        .stack_size(STACK)
        .spawn(move || fuzz(seed, cases, &shared, &tx))
        .unwrap();
    let started = Instant::now();
    loop {
        match reports.recv_timeout(TIMEOUT) {
            Ok(Report::Case) => {}
            Ok(Report::Done { cases, diagnostics }) => {
                eprintln!(
                    "{cases} mutated catalogs (seed {seed:#x}), {diagnostics} diagnostics, {:.1?}",
                    started.elapsed()
                );
                assert!(
                    diagnostics > cases / 2,
                    "the mutations found almost nothing"
                );
                return;
            }
            Ok(Report::Failed(report)) => panic!("{report}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no result within {TIMEOUT:?}: {}", current.lock().unwrap())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the fuzzing thread died: {}", current.lock().unwrap())
            }
        }
    }
}

/// Write the (mutated) package and maybe one other into a fresh catalog at `root`; the files
/// written.
fn write_catalog(
    root: &Path,
    all: &[Source],
    source: usize,
    text: &[u8],
    other: Option<usize>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut put = |s: &Source, text: &[u8]| {
        let dir = root.join("pkgs").join(&s.org).join(&s.name);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("package.toml");
        fs::write(&file, text).unwrap();
        files.push(file);
    };
    put(&all[source], text);
    if let Some(o) = other.filter(|&o| o != source) {
        put(&all[o], &all[o].text);
    }
    files
}
