//! One batch build through a real engine, watched: the trees its job sent and its result.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use atwb::jobs::{Engine, EngineConfig, JobEvent, JobResult, JobSpec, StatusStore};
use atwb::nix::command::Installable;
use atwb::nix::drvtree::TreeSnapshot;

/// Builds `packages.x86_64-linux.ATTR` of `dir/flake` as one batch (evaluated first, then built
/// by its drv), recording into `store`, and returns the trees the job sent and its result.
pub async fn build_watched(
    dir: &Path,
    store: &Arc<StatusStore>,
    attr: &str,
) -> (Vec<TreeSnapshot>, JobResult) {
    let mut cfg = EngineConfig::new(dir.join("state/logs"));
    cfg.store = Some(store.clone());
    cfg.substituters = Some(Vec::new());
    let engine = Engine::new(cfg);
    let mut rx = engine.subscribe();
    let flake = dir.join("flake").to_string_lossy().into_owned();
    let installable = Installable::new(flake, format!("packages.x86_64-linux.{attr}"));
    let id = engine.submit_batch(vec![JobSpec::build(attr, installable)])[0];
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
