//! What one job's record write costs (`bench/store.sh`, figures in bench/README.md): not a timed
//! test, an ignored one that prints. Each round times, in turn, the anchor (the same bytes the
//! record left in `status.json`, written with `std::fs::write` and fsynced; and 4 KiB the same way,
//! the same work before and after a change) and record writes to
//! two stores: one whose derivation history is at its cap and one without history. Both hold a
//! realistic catalog's results (26 packages, 20 runs each, their evaluations).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Evaluation, MAX_DRV_NAMES, RunRecord, StatusStore};
use crate::jobs::spec::{FailureSummary, JobKind, Outcome};

const PACKAGES: usize = 26;
const ROUNDS: usize = 25;

fn run(package: usize, i: u64) -> RunRecord {
    let failed = i % 4 == 3;
    RunRecord {
        kind: JobKind::Build,
        target: format!("packages.x86_64-linux.package-{package}"),
        outcome: if failed { Outcome::Failed } else { Outcome::Ok },
        failure: failed.then(|| FailureSummary {
            class: "builder_failed".into(),
            first_line: "error: builder for '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-package-1.0.drv' failed with exit code 2".into(),
            hash_mismatch: None,
            hint: Some("the builder's own error is in the log above the nix error".into()),
        }),
        duration_secs: 61.5 + i as f64,
        finished_at: 1_764_000_000 + i,
        drv_path: Some(format!("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-package-{package}-1.0.drv")),
        out_paths: vec![format!("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-package-{package}-1.0")],
        log_file: Some(PathBuf::from(format!(
            "/home/user/.local/state/atwb/catalogs/catalog-0123456789abcdef/logs/package-{package}-{i}.log"
        ))),
        fingerprint: Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into()),
    }
}

/// A store in `dir` with the catalog's history, and the derivation history at its cap if `capped`.
fn filled(dir: &Path, capped: bool) -> StatusStore {
    let s = StatusStore::open_in(dir, &dir.join("state")).unwrap();
    let name = |n: usize| format!("python3.12-package-number-{n}-1.2.3");
    for i in 0..20u64 {
        for p in 0..PACKAGES {
            // 20 x 26 runs of 400 names: 2,000 names, 4 durations each, then the 5th below.
            let built: Vec<(String, u64)> = if capped && p == 0 {
                (0..400)
                    .map(|k| (name((i as usize % 5) * 400 + k), 60_000 + i))
                    .collect()
            } else {
                Vec::new()
            };
            s.record_built(&format!("package-{p}"), run(p, i), &built)
                .unwrap();
        }
    }
    if capped {
        let rest: Vec<(String, u64)> = (0..MAX_DRV_NAMES).map(|n| (name(n), 61_000)).collect();
        s.record_built("package-0", run(0, 21), &rest).unwrap();
    }
    let evals = (0..PACKAGES)
        .map(|p| {
            let r = run(p, 0);
            let e = Evaluation {
                drv_path: r.drv_path.unwrap(),
                out_paths: r.out_paths,
                fingerprint: r.fingerprint,
                evaluated_at: 1_764_000_000,
                cache: None,
                cache_asked: None,
            };
            (format!("package-{p}"), e)
        })
        .collect();
    s.record_evaluations(evals).unwrap();
    s
}

/// Bytes of every regular file in the store's directory (status, history, lock).
fn state_bytes(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir.join("state"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            (n, e.metadata().unwrap().len())
        })
        .collect();
    v.sort();
    v
}

fn timed(f: impl FnOnce()) -> Duration {
    let t0 = Instant::now();
    f();
    t0.elapsed()
}

fn anchor(file: &Path, bytes: &[u8]) {
    std::fs::write(file, bytes).unwrap();
    std::fs::File::open(file).unwrap().sync_all().unwrap();
}

fn median_ms(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[0]))
}

#[test]
#[ignore = "a benchmark: bench/store.sh runs it and prints figures"]
#[allow(clippy::too_many_lines, reason = "one measurement, read top to bottom")]
fn record_write_cost() {
    let root = std::env::var_os("STORE_BENCH_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/store"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&root).unwrap();
    let big_dir = tempfile::tempdir_in(&root).unwrap();
    let small_dir = tempfile::tempdir_in(&root).unwrap();
    let t0 = Instant::now();
    let big = filled(big_dir.path(), true);
    let small = filled(small_dir.path(), false);
    eprintln!("filled in {:.1?}", t0.elapsed());
    let status = big_dir.path().join("state/status.json");
    let anchor_file = big_dir.path().join("anchor.json");
    let (mut a, mut a4k, mut plain, mut built, mut none) = (vec![], vec![], vec![], vec![], vec![]);
    let mut anchor_bytes = 0;
    let four_k = vec![b'x'; 4096];
    for i in 0..ROUNDS as u64 {
        let bytes = std::fs::read(&status).unwrap();
        anchor_bytes = bytes.len();
        a.push(timed(|| anchor(&anchor_file, &bytes)));
        a4k.push(timed(|| anchor(&anchor_file, &four_k)));
        plain.push(timed(|| {
            big.record("package-1", run(1, 100 + i)).unwrap();
        }));
        let three: Vec<(String, u64)> = (0..3)
            .map(|k| (format!("python3.12-package-number-{k}-1.2.3"), 62_000 + i))
            .collect();
        built.push(timed(|| {
            big.record_built("package-2", run(2, 100 + i), &three)
                .unwrap();
        }));
        none.push(timed(|| {
            small.record("package-1", run(1, 100 + i)).unwrap();
        }));
    }
    let (a_med, a_min) = median_ms(&mut a);
    let (k_med, k_min) = median_ms(&mut a4k);
    let row = |what: &str, v: &mut Vec<Duration>| {
        let (med, min) = median_ms(v);
        eprintln!(
            "{what:<46} median {med:7.2} ms  min {min:7.2} ms  {:5.1}x anchor  {:5.1}x 4 KiB",
            med / a_med,
            med / k_med
        );
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!("{profile} build, {ROUNDS} rounds, in {}", root.display());
    eprintln!("capped history: {:?}", state_bytes(big_dir.path()));
    eprintln!("no history:     {:?}", state_bytes(small_dir.path()));
    eprintln!(
        "{:<46} median {a_med:7.2} ms  min {a_min:7.2} ms    1.0x",
        format!("anchor: fs::write + fsync of {anchor_bytes} B")
    );
    eprintln!(
        "{:<46} median {k_med:7.2} ms  min {k_min:7.2} ms",
        "anchor: fs::write + fsync of 4096 B"
    );
    row("record, capped history, nothing built", &mut plain);
    row("record_built (3 durations), capped history", &mut built);
    row("record, no history", &mut none);
    assert_eq!(
        big.drv_history().len(),
        MAX_DRV_NAMES,
        "the history was kept"
    );
}
