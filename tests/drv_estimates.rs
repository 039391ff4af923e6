//! Per-derivation estimates from history, end to end with real nix 2.8: a job's tree takes the
//! status store's durations of derivations of the same name, and a job's end writes what it
//! built into the store.

mod common;

use std::path::Path;
use std::sync::Arc;

use atwb::jobs::{JobResult, Outcome, StatusStore};
use atwb::nix::drvtree::{NodeState, TreeSnapshot};

/// Builds `stream` of the flake as one batch (evaluated first, then built by its drv) and
/// returns the trees the job sent while it ran, and its result.
async fn build_stream(dir: &Path, store: &Arc<StatusStore>) -> (Vec<TreeSnapshot>, JobResult) {
    common::engine::build_watched(dir, store, "stream").await
}

fn salt(dir: &Path, salt: &str) {
    std::fs::write(dir.join("flake/salt.txt"), salt).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_build_of_a_fresh_drv_with_the_same_name_gets_an_estimate_from_the_first() {
    if !common::nix_env() {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("atwb-estimates-")
        .tempdir()
        .unwrap();
    common::copy_dir(
        &common::repo_root().join("tests/fixtures/flakes/basic"),
        &dir.path().join("flake"),
    );
    let pid = std::process::id();
    salt(dir.path(), &format!("estimates-first-{pid}"));
    let store = Arc::new(StatusStore::open_in(dir.path(), &dir.path().join("state")).unwrap());

    let (trees, first) = build_stream(dir.path(), &store).await;
    assert_eq!(first.outcome, Outcome::Ok, "{first:?}");
    let running = |trees: &[TreeSnapshot]| -> Vec<(NodeState, Option<u64>)> {
        trees
            .iter()
            .flat_map(|t| &t.rows.rows)
            .filter(|r| r.name == "stream" && r.state == NodeState::Building)
            .map(|r| (r.state, r.estimate_ms))
            .collect()
    };
    let seen = running(&trees);
    assert!(!seen.is_empty(), "the first build was seen building");
    assert!(seen.iter().all(|(_, e)| e.is_none()), "no history yet");
    let kept = store
        .drv_durations("stream")
        .expect("recorded at the job's end");
    assert_eq!(kept.ms.len(), 1);
    let first_ms = kept.ms[0];
    // The builder sleeps 0.6 s + 1.5 s after 20,000 lines.
    assert!((2000..120_000).contains(&first_ms), "{first_ms} ms");
    assert_eq!(first.tree.built, [("stream".to_string(), first_ms)]);

    // Another salt: another drv with the same name, so nix builds it afresh.
    salt(dir.path(), &format!("estimates-second-{pid}"));
    let (trees, second) = build_stream(dir.path(), &store).await;
    assert_eq!(second.outcome, Outcome::Ok, "{second:?}");
    assert_ne!(second.drv_path, first.drv_path, "a fresh drv");
    let seen = running(&trees);
    assert!(!seen.is_empty(), "the second build was seen building");
    assert!(
        seen.iter().all(|(_, e)| *e == Some(first_ms)),
        "{seen:?} vs {first_ms}"
    );
    let footer = trees
        .iter()
        .filter(|t| t.totals.builds_running > 0)
        .map(|t| t.totals.estimate_left_ms)
        .collect::<Vec<_>>();
    assert!(
        footer.iter().all(|l| l.is_some_and(|l| l <= first_ms)),
        "{footer:?}"
    );
    let kept = store.drv_durations("stream").unwrap();
    assert_eq!(kept.ms.len(), 2, "both builds kept");
    // The final tree travels with the result: the build done, nothing left to estimate.
    let last = second.tree.snapshot.expect("a final tree");
    assert_eq!(last.totals.builds_done, 1);
    assert_eq!(last.totals.estimate_left_ms, None);

    // A third job whose output is there already builds nothing: no duration is added.
    let (_, third) = build_stream(dir.path(), &store).await;
    assert_eq!(third.outcome, Outcome::Ok);
    assert!(third.tree.built.is_empty(), "{:?}", third.tree.built);
    assert_eq!(store.drv_durations("stream").unwrap().ms.len(), 2);
}
