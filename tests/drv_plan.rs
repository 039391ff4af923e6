//! A job's plan read from its `.drv` files, end to end with real nix 2.8: a three-level chain
//! (top -> mid -> leaf, and `ready`, built beforehand) shows every derivation nix will build as
//! a planned row in the job's first tree, before any build starts; with history from an
//! earlier build each row has its estimate and the footer's time left adds them up; a planned
//! derivation nix fetches from a binary cache instead leaves the plan.

mod common;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use atwb::jobs::{JobResult, Outcome, StatusStore};
use atwb::nix::drvtree::{NodeState, TreeSnapshot};

/// The test NIX_CONFIG plus a `file://` binary cache (unsigned) nix may substitute from, set
/// once for this test binary before any nix runs; None when nix is missing (see
/// `common::require_tool`).
fn nix_env_with_cache() -> Option<&'static Path> {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    if !common::require_tool("nix") {
        return None;
    }
    let cache = CACHE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("atwb-drv-plan-cache-")
            .tempdir()
            .unwrap();
        let config = common::NIX_CONFIG.replace(
            "substituters =",
            &format!(
                "substituters = file://{}\nrequire-sigs = false",
                dir.path().display()
            ),
        );
        // SAFETY: every test of this binary calls this first, before it starts nix or an
        // engine, and the others wait here until it is set.
        unsafe { std::env::set_var("NIX_CONFIG", config) };
        dir
    });
    Some(cache.path())
}

/// `nix ARGS` with the tests' own config, which must succeed.
fn nix_ok(args: &[&str]) {
    let out = common::nix().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "nix {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `top` of the flake as one batch and returns the trees the job sent, and its result.
async fn build_top(dir: &Path, store: &Arc<StatusStore>) -> (Vec<TreeSnapshot>, JobResult) {
    common::engine::build_watched(dir, store, "top").await
}

/// A new salt (fresh drvs), and `ready` built with plain nix so its output is present.
fn salt_and_build_ready(dir: &Path, salt: &str) {
    std::fs::write(dir.join("flake/salt.txt"), salt).unwrap();
    build_attr(dir, "ready");
}

fn build_attr(dir: &Path, attr: &str) {
    let flake = dir.join("flake");
    nix_ok(&[
        "build",
        "--no-link",
        &format!("{}#packages.x86_64-linux.{attr}", flake.display()),
    ]);
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
    if nix_env_with_cache().is_none() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_derivation_nix_fetches_from_a_cache_leaves_the_plan() {
    let Some(cache) = nix_env_with_cache() else {
        return;
    };
    let (dir, salt) = common::salted_flake("chain", "atwb-drv-plan-subst-");
    salt_and_build_ready(dir.path(), &format!("{salt}-subst"));
    // The leaf's output in the cache only: planned from the .drv files, fetched by nix.
    build_attr(dir.path(), "leaf");
    let leaf = common::out_path(&dir.path().join("flake"), "leaf");
    nix_ok(&[
        "copy",
        "--to",
        &format!("file://{}", cache.display()),
        &leaf,
    ]);
    nix_ok(&["store", "delete", &leaf]);
    assert!(!Path::new(&leaf).exists());

    let store = Arc::new(StatusStore::open_in(dir.path(), &dir.path().join("state")).unwrap());
    let (trees, r) = build_top(dir.path(), &store).await;
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
    assert!(Path::new(&leaf).exists(), "fetched");
    let seeded: Vec<&str> = rows(&trees[0]).iter().map(|(n, _, _)| *n).collect();
    assert_eq!(seeded, ["chain-top", "chain-mid", "chain-leaf"]);
    let mut built: Vec<&str> = r.tree.built.iter().map(|(n, _)| n.as_str()).collect();
    built.sort_unstable();
    assert_eq!(built, ["chain-mid", "chain-top"]);
    // The last tree nix's lines made (before the job's end settles what never started): the
    // fetched leaf is no longer planned, and the download is counted.
    let last = trees.last().unwrap();
    assert!(
        last.rows.rows.iter().all(|r| r.state != NodeState::Planned),
        "{last:?}"
    );
    assert_eq!(last.totals.builds_planned, 0, "{last:?}");
    assert_eq!(last.totals.downloads_done, 1, "{last:?}");
}
