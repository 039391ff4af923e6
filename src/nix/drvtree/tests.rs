use super::*;
use crate::nix::internal_json::parse_line;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/logs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Folds a log, one event per 10 ms.
fn fold(text: &str) -> DrvTree {
    let mut t = DrvTree::new();
    for (i, line) in text.lines().enumerate() {
        t.apply(&parse_line(line), i as u64 * 10);
    }
    t
}

fn states(t: &DrvTree) -> Vec<(String, NodeState)> {
    let mut v: Vec<_> = t
        .nodes()
        .iter()
        .map(|n| (t.name(n.name).to_string(), n.state))
        .collect();
    v.sort();
    v
}

fn s(name: &str, state: NodeState) -> (String, NodeState) {
    (name.to_string(), state)
}

#[test]
fn keep_going_log_gives_every_derivation_its_outcome() {
    let t = fold(&fixture("tree-keep-going.log"));
    use NodeState::*;
    assert_eq!(
        states(&t),
        [
            s("tree-a", Done),
            s("tree-b", Done),
            s("tree-c", Failed),
            s("tree-d", Failed),
            s("tree-e", Done),
            s("tree-top", Failed),
        ]
    );
    let c = t
        .nodes()
        .iter()
        .find(|n| t.name(n.name) == "tree-c")
        .unwrap();
    assert!(c.started_ms.is_some() && c.ended_ms > c.started_ms);
    assert_eq!(c.log_lines, 2, "building c, c is broken");
    // d never started: failed because of its dependency, no start time.
    let d = t
        .nodes()
        .iter()
        .find(|n| t.name(n.name) == "tree-d")
        .unwrap();
    assert_eq!(d.started_ms, None);
    let totals = t.totals(u64::MAX / 2);
    assert_eq!(
        (
            totals.builds_done,
            totals.builds_failed,
            totals.builds_running
        ),
        (3, 3, 0)
    );
}

#[test]
fn fail_fast_log_keeps_the_concurrent_build_that_finished() {
    // -j2 without --keep-going: a and c build together, c fails, a had finished (the counters
    // say so: done 1 before the stops), and nothing else starts.
    let t = fold(&fixture("tree-fail-fast.log"));
    use NodeState::*;
    assert_eq!(
        states(&t),
        [
            s("tree-a", Done),
            s("tree-c", Failed),
            s("tree-d", Failed),
            s("tree-top", Failed),
        ]
    );
}

#[test]
fn dry_run_lists_planned_derivations_by_name() {
    let t = fold(&fixture("tree-dry-run.log"));
    let names: Vec<_> = states(&t)
        .into_iter()
        .map(|(n, st)| {
            assert_eq!(st, NodeState::Planned);
            n
        })
        .collect();
    assert_eq!(
        names,
        ["tree-a", "tree-b", "tree-c", "tree-d", "tree-e", "tree-top"]
    );
    assert_eq!(t.totals(0).builds_planned, 6);
}

#[test]
fn phases_and_interruption_on_real_logs() {
    let t = fold(&fixture("phases.log"));
    let phase = t
        .nodes()
        .iter()
        .find_map(|n| n.phase)
        .map(|p| t.name(p).to_string());
    assert!(phase.is_some(), "phases.log sets a phase");
    let t = fold(&fixture("interrupted.log"));
    assert!(
        t.nodes().iter().all(|n| n.state == NodeState::Cancelled),
        "{:?}",
        states(&t)
    );
}

#[test]
fn running_rows_come_first_and_done_ones_are_counted() {
    let t = fold(&fixture("tree-keep-going.log"));
    let rows = t.rows(10, 0);
    assert_eq!(rows.done, 3);
    assert_eq!(rows.hidden, 0);
    assert!(rows.rows.iter().all(|r| r.state == NodeState::Failed));
    // Mid-build: cut the log where a and c are both building.
    let text = fixture("tree-keep-going.log");
    let cut: String = text
        .lines()
        .take_while(|l| !l.contains("c is broken"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut t = fold(&cut);
    t.set_history("tree-a", &[3000, 1000, 2000]);
    let rows = t.rows(1, 100_000);
    assert_eq!(rows.rows.len(), 1);
    assert_eq!(rows.rows[0].state, NodeState::Building);
    assert_eq!(rows.hidden, 1);
    let all = t.rows(10, 100_000);
    let a = all.rows.iter().find(|r| r.name == "tree-a").unwrap();
    assert_eq!(a.estimate_ms, Some(2000));
    assert!(a.elapsed_ms.unwrap() > 0);
}

#[test]
fn substitutions_carry_host_and_bytes() {
    let p = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-2.12";
    let lines = [
        r#"@nix {"action":"start","id":1,"level":0,"text":"","type":104}"#.to_string(),
        format!(
            r#"@nix {{"action":"start","id":2,"level":4,"text":"copying","type":108,"fields":["{p}","https://cache.example"]}}"#
        ),
        format!(
            r#"@nix {{"action":"start","id":3,"level":4,"text":"copying","type":100,"fields":["{p}","https://cache.example","local"]}}"#
        ),
        r#"@nix {"action":"result","id":3,"type":105,"fields":[512,2048,0,0]}"#.to_string(),
    ];
    let mut t = DrvTree::new();
    for l in &lines {
        t.apply(&parse_line(l), 5);
    }
    let n = t.nodes()[0];
    assert_eq!(
        (n.kind, n.state),
        (NodeKind::Download, NodeState::Downloading)
    );
    assert_eq!(t.name(n.host.unwrap()), "https://cache.example");
    assert_eq!((n.done_bytes, n.expected_bytes), (512, 2048));
    let tot = t.totals(5);
    assert_eq!(
        (tot.downloads_running, tot.bytes_done, tot.bytes_expected),
        (1, 512, 2048)
    );
    t.apply(&parse_line(r#"@nix {"action":"stop","id":3}"#), 9);
    t.apply(&parse_line(r#"@nix {"action":"stop","id":2}"#), 9);
    let tot = t.totals(9);
    assert_eq!(
        (tot.downloads_done, tot.downloads_running, tot.bytes_done),
        (1, 0, 512)
    );
}

#[test]
fn remote_builds_name_their_host() {
    let l = r#"@nix {"action":"start","id":7,"level":3,"text":"building","type":105,"fields":["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x.drv","ssh://builder1",1,1]}"#;
    let mut t = DrvTree::new();
    t.apply(&parse_line(l), 0);
    assert_eq!(t.name(t.nodes()[0].host.unwrap()), "ssh://builder1");
}

/// A synthetic build of `drvs` derivations, each with `lines_per` log lines and a phase change
/// every 100 lines, as nix 2.8 writes it.
pub(crate) fn synthetic_log(drvs: usize, lines_per: usize) -> impl Iterator<Item = String> {
    let head = std::iter::once(
        r#"@nix {"action":"start","id":1,"level":0,"text":"","type":104}"#.to_string(),
    );
    head.chain((0..drvs).flat_map(move |d| {
        let id = 1000 + d;
        let path = format!("/nix/store/{d:032}-pkg-{d}.drv");
        let start = format!(r#"@nix {{"action":"start","id":{id},"level":3,"text":"building","type":105,"fields":["{path}","",1,1]}}"#);
        let body = (0..lines_per).map(move |i| {
            if i % 100 == 0 {
                format!(r#"@nix {{"action":"result","id":{id},"type":104,"fields":["phase{}"]}}"#, i / 100 % 7)
            } else {
                format!(r#"@nix {{"action":"result","id":{id},"type":101,"fields":["line {i} of pkg-{d}: compiling something.c"]}}"#)
            }
        });
        let done = format!(r#"@nix {{"action":"result","id":1,"type":105,"fields":[{},{drvs},0,0]}}"#, d + 1);
        let stop = format!(r#"@nix {{"action":"stop","id":{id}}}"#);
        std::iter::once(start).chain(body).chain([done, stop])
    }))
}

#[test]
fn memory_is_bounded_for_5000_derivations_and_a_million_lines() {
    let mut t = DrvTree::new();
    let mut after_first_pass = 0;
    for (i, line) in synthetic_log(5000, 200).enumerate() {
        t.apply(&parse_line(&line), i as u64);
        if i == 5000 * 202 / 2 {
            after_first_pass = t.footprint_bytes();
        }
    }
    assert_eq!(t.nodes().len(), 5000);
    assert_eq!(t.totals(0).builds_done, 5000);
    let end = t.footprint_bytes();
    // Fixed-size records: about 100 bytes of tables and two strings per derivation.
    let per_drv = end / 5000;
    assert!(per_drv < 600, "{per_drv} bytes per derivation");
    // The second half (half the lines, half the derivations) at most doubles it: no per-line
    // growth.
    assert!(
        end <= 2 * after_first_pass + 64 * 1024,
        "{after_first_pass} -> {end}"
    );
    // Phases are interned once: 7 names for a million events.
    assert!(t.names.len() <= 2 * 5000 + 7 + 1, "{}", t.names.len());
}

#[test]
fn hostile_phases_cannot_grow_the_table_past_its_cap() {
    let mut t = DrvTree::new();
    t.apply(&parse_line(r#"@nix {"action":"start","id":9,"level":3,"text":"b","type":105,"fields":["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x.drv","",1,1]}"#), 0);
    for i in 0..(MAX_SYMBOLS + 10) {
        let l = format!(r#"@nix {{"action":"result","id":9,"type":104,"fields":["p{i}"]}}"#);
        t.apply(&parse_line(&l), 0);
    }
    assert_eq!(t.names.len(), MAX_SYMBOLS);
    assert!(t.names.bytes() < 64 * 1024 * 1024);
}

#[test]
fn median_and_formats() {
    assert_eq!(median_ms(&[]), None);
    assert_eq!(median_ms(&[5, 1, 9, 130_000]), Some(9));
    assert_eq!(format_duration(130_000), "2m10s");
    assert_eq!(format_duration(45_900), "45s");
    assert_eq!(format_duration(3_780_000), "1h03m");
    assert_eq!(format_bytes(512), "512 B");
    assert_eq!(format_bytes(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
}

#[test]
fn history_gives_estimates_to_derivations_named_later_and_the_built_ones_come_out() {
    let mut h = DrvHistory::default();
    h.add("tree-a", &[4000, 6000, 5000], 2);
    // The top was built as version 0.9 before: it still gets an estimate by its package name.
    h.add("tree-top-0.9", &[9000], 1);
    let mut t = DrvTree::new();
    t.use_history(std::sync::Arc::new(h));
    let text = fixture("tree-keep-going.log");
    // Named by the log only in its failure message (it never started).
    let top = "/nix/store/ls0ygpq6a2lin8cv4i72xjsid2k88xkq-tree-top.drv";
    assert!(text.contains(top));
    t.plan(top);
    let planned = t.rows(10, 0);
    assert_eq!(planned.rows[0].state, NodeState::Planned);
    assert_eq!(planned.rows[0].estimate_ms, Some(9000));
    for (i, line) in text.lines().enumerate() {
        if line.contains("c is broken") {
            break;
        }
        t.apply(&parse_line(line), 1000 + i as u64 * 10);
    }
    let a = t.rows(10, 1000).rows;
    let a = a.iter().find(|r| r.name == "tree-a").unwrap();
    assert_eq!((a.state, a.estimate_ms), (NodeState::Building, Some(5000)));
    let left = t.totals(0).estimate_left_ms.unwrap();
    // tree-a's rest plus the planned top (tree-c and the others: no history of theirs).
    assert!(left > 9000 && left <= 14_000, "{left}");

    let mut t = fold(&text);
    t.settle(false, 1_000_000);
    let built: Vec<String> = t.built().into_iter().map(|(n, _)| n).collect();
    // Done ones only (the failed and the never-started are not durations of a build).
    let mut sorted = built.clone();
    sorted.sort();
    assert_eq!(sorted, ["tree-a", "tree-b", "tree-e"]);
    assert!(t.built().iter().all(|(_, ms)| *ms > 0));
}

#[test]
fn settle_says_what_never_started_was_not_built() {
    let drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x-1.drv";
    let mut t = DrvTree::new();
    t.plan(drv);
    t.settle(true, 5);
    assert_eq!(t.nodes()[0].state, NodeState::Done);
    assert_eq!(
        t.totals(5).builds_done,
        0,
        "done without a start is no build"
    );
    assert!(t.built().is_empty());
    let mut t = DrvTree::new();
    t.plan(drv);
    t.settle(false, 5);
    assert_eq!(t.nodes()[0].state, NodeState::Cancelled);
}

#[test]
fn keeping_fewer_rows_counts_the_rest_as_hidden() {
    let mut t = DrvTree::new();
    for i in 0..100 {
        t.plan(&format!("/nix/store/{i:032}-p-{i}.drv"));
    }
    let mut rows = t.rows(80, 0);
    assert_eq!((rows.rows.len(), rows.hidden), (80, 20));
    rows.keep(64);
    assert_eq!((rows.rows.len(), rows.hidden), (64, 36));
    rows.keep(70);
    assert_eq!((rows.rows.len(), rows.hidden), (64, 36));
}
