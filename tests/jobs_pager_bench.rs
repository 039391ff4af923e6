//! Measurement behind `bench/engine-pager.sh` (ignored in normal test runs): open a 1 GiB job log
//! with `LogPager`, page through its start, middle and end, and report the time and the peak
//! RSS of this process. The bound (64 MiB) is the budget for viewing a 1 GB log.

use std::io::Write;
use std::time::Instant;

use atwb::jobs::LogPager;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
#[ignore = "benchmark: run through bench/engine-pager.sh"]
fn pager_over_a_1_gib_log_stays_small() {
    let size: u64 = std::env::var("ATWB_PAGER_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let t = Instant::now();
    {
        let mut f =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        let mut written = 0u64;
        let mut n = 0u64;
        while written < size {
            let line = format!(
                "@nix {{\"action\":\"result\",\"fields\":[\"compiling unit {n} of many -O2\"],\"id\":43770011713541,\"type\":101}}\n"
            );
            f.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
            n += 1;
        }
    }
    let write_time = t.elapsed();
    let before = peak_rss_kib();

    let t = Instant::now();
    let pager = LogPager::open(&path).unwrap();
    let index_time = t.elapsed();
    let lines = pager.line_count();
    let t = Instant::now();
    let mut pages = 0;
    for start in [0, lines / 2, lines.saturating_sub(100)] {
        let page = pager.lines(start, 100).unwrap();
        assert!(
            page[0].contains(&format!("compiling unit {start} ")),
            "{}",
            page[0]
        );
        pages += 1;
    }
    let page_time = t.elapsed() / pages;
    let peak = peak_rss_kib();
    println!(
        "log {} MiB, {lines} lines (written in {write_time:.2?}); index {index_time:.2?} ({:.0} MiB/s); \
         one 100-line page {page_time:.2?}; peak RSS {} KiB (before opening: {before} KiB)",
        size >> 20,
        (size >> 20) as f64 / index_time.as_secs_f64(),
        peak
    );
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB exceeds 64 MiB");
}
