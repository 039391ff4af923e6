//! A job's plan read from its `.drv` files, end to end with real nix 2.8: a three-level chain
//! (top -> mid -> leaf, and `ready`, built beforehand) shows every derivation nix will build as
//! a planned row in the job's first tree, before any build starts; with history from an
//! earlier build each row has its estimate and the footer's time left adds them up.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use atwb::jobs::{Engine, EngineConfig, JobEvent, JobResult, JobSpec, Outcome, StatusStore};
use atwb::nix::command::Installable;
use atwb::nix::drvtree::{NodeState, TreeSnapshot};

/// Builds `top` of the flake as one batch and returns the trees the job sent, and its result.
async fn build_top(dir: &Path, store: &Arc<StatusStore>) -> (Vec<TreeSnapshot>, JobResult) {
    let mut cfg = EngineConfig::new(dir.join("state/logs"));
    cfg.store = Some(store.clone());
    cfg.substituters = Some(Vec::new());
    let engine = Engine::new(cfg);
    let mut rx = engine.subscribe();
    let flake = dir.join("flake").to_string_lossy().into_owned();
    let spec = JobSpec::build("top", Installable::new(flake, "packages.x86_64-linux.top"));
    let id = engine.submit_batch(vec![spec])[0];
    let mut trees = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("the job did not finish in 120 s")
            .unwrap();
        match ev {
            JobEvent::Tree { id: i, tree } if i == id => trees.push(*tree),
            JobEvent::Finished(r) if r.id == id => return (trees, *r),
            _ => {}
        }
    }
}

/// A new salt (fresh drvs), and `ready` built with plain nix so its output is present.
fn salt_and_build_ready(dir: &Path, salt: &str) {
    std::fs::write(dir.join("flake/salt.txt"), salt).unwrap();
    let out = common::nix()
        .args(["build", "--no-link"])
        .arg(format!(
            "{}#packages.x86_64-linux.ready",
            dir.join("flake").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rows(t: &TreeSnapshot) -> Vec<(&str, NodeState, Option<u64>)> {
    t.rows
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.state, r.estimate_ms))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_tree_plans_the_whole_chain_with_estimates_from_history() {
    if !common::nix_env() {
        return;
    }
    let (dir, salt) = common::salted_flake("chain", "atwb-drv-plan-");
    let store = Arc::new(StatusStore::open_in(dir.path(), &dir.path().join("state")).unwrap());
    salt_and_build_ready(dir.path(), &format!("{salt}-first"));

    let (trees, first) = build_top(dir.path(), &store).await;
    assert_eq!(first.outcome, Outcome::Ok, "{first:?}");
    let seeded = trees.first().expect("a tree was sent");
    assert_eq!(
        rows(seeded),
        [
            ("chain-top", NodeState::Planned, None),
            ("chain-mid", NodeState::Planned, None),
            ("chain-leaf", NodeState::Planned, None),
        ],
        "the plan before any build; ready's output is there"
    );
    assert_eq!(
        (seeded.totals.builds_running, seeded.totals.builds_planned),
        (0, 3)
    );
    assert_eq!(seeded.totals.estimate_left_ms, None, "no history yet");
    let built: Vec<&str> = first.tree.built.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(built.len(), 3, "{built:?}");
    for name in ["chain-top", "chain-mid", "chain-leaf"] {
        assert!(built.contains(&name), "{name} built: {built:?}");
    }
    let ms = |name: &str| {
        store
            .drv_durations(name)
            .unwrap_or_else(|| panic!("{name} recorded"))
            .ms[0]
    };
    let (top, mid, leaf) = (ms("chain-top"), ms("chain-mid"), ms("chain-leaf"));

    // Fresh drvs of the same names: each planned row has its estimate from the first build.
    salt_and_build_ready(dir.path(), &format!("{salt}-second"));
    let (trees, second) = build_top(dir.path(), &store).await;
    assert_eq!(second.outcome, Outcome::Ok, "{second:?}");
    assert_ne!(second.drv_path, first.drv_path, "a fresh drv");
    let seeded = &trees[0];
    assert_eq!(
        rows(seeded),
        [
            ("chain-top", NodeState::Planned, Some(top)),
            ("chain-mid", NodeState::Planned, Some(mid)),
            ("chain-leaf", NodeState::Planned, Some(leaf)),
        ]
    );
    assert_eq!(seeded.totals.estimate_left_ms, Some(top + mid + leaf));
    let last = second.tree.snapshot.expect("a final tree");
    assert_eq!(
        (last.totals.builds_done, last.totals.builds_planned),
        (3, 0)
    );

    // Everything built: a third job plans nothing.
    let (trees, third) = build_top(dir.path(), &store).await;
    assert_eq!(third.outcome, Outcome::Ok);
    assert!(
        trees
            .iter()
            .all(|t| t.rows.rows.iter().all(|r| r.state != NodeState::Planned)),
        "{trees:?}"
    );
}
