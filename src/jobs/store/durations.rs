//! How long each derivation took when atwb's jobs really built it, by derivation name without
//! the store hash (`rsky-pds-0.1.0`): the source of the tree's per-derivation estimates (see
//! `nix::drvtree::DrvHistory`, which also falls back to the package name after a version bump).
//!
//! Kept in their own file beside `status.json`, `derivations.json` (compact JSON), so that a
//! job's record, which rewrites `status.json`, costs the same whatever the size of this
//! history: the file is rewritten only by a record that adds durations, under the store's lock
//! and in the same locked update (this file first, then `status.json`). Bounded: the last
//! [`DRV_HISTORY_LEN`] durations per name and [`MAX_DRV_NAMES`] names, the least recently built
//! evicted (about 190 KB at the cap).
//!
//! An earlier atwb kept them in `status.json`'s `derivations`: read there too, and moved into the
//! file by the next locked update (see [`merge_legacy`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::StatusStore;
use crate::nix::drvtree::DrvHistory;

/// The file beside `status.json`.
pub(super) const FILE_NAME: &str = "derivations.json";
/// The format of [`FILE_NAME`] this atwb reads and writes.
const FORMAT_VERSION: u32 = 1;

/// Per derivation name, its durations.
pub(super) type DrvMap = BTreeMap<String, DrvDurations>;

#[derive(Serialize, Deserialize)]
struct DrvFile<M> {
    version: u32,
    derivations: M,
}

/// Durations kept per derivation name.
pub const DRV_HISTORY_LEN: usize = 5;
/// Derivation names kept.
pub const MAX_DRV_NAMES: usize = 2000;

/// Earlier builds of one derivation name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrvDurations {
    /// Milliseconds, oldest first.
    pub ms: Vec<u64>,
    /// Unix seconds of the newest build.
    pub at: u64,
}

/// Appends what one run built (name, ms) at `at`, then trims to the bounds.
pub(super) fn push(map: &mut DrvMap, built: &[(String, u64)], at: u64) {
    if built.is_empty() {
        return;
    }
    for (name, ms) in built {
        let e = map
            .entry(name.clone())
            .or_insert_with(|| DrvDurations { ms: Vec::new(), at });
        e.ms.push(*ms);
        let excess = e.ms.len().saturating_sub(DRV_HISTORY_LEN);
        e.ms.drain(..excess);
        e.at = e.at.max(at);
    }
    let this_run: HashSet<&str> = built.iter().map(|(n, _)| n.as_str()).collect();
    trim_names(map, &this_run);
}

/// Evicts names down to [`MAX_DRV_NAMES`]: those in `keep` stay; of the others, the least
/// recently built go first.
fn trim_names(map: &mut DrvMap, keep: &HashSet<&str>) {
    let excess = map.len().saturating_sub(MAX_DRV_NAMES);
    if excess > 0 {
        let mut by_age: Vec<(bool, u64, String)> = map
            .iter()
            .map(|(k, v)| (keep.contains(k.as_str()), v.at, k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, _, name) in by_age.into_iter().take(excess) {
            map.remove(&name);
        }
    }
}

/// The history in `path` (empty when there is none yet).
pub(super) fn read_file(path: &Path) -> Result<DrvMap> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DrvMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let invalid = || {
        format!(
            "{} is not a valid derivation history; move it away to start the estimates afresh",
            path.display()
        )
    };
    let version: DrvFile<serde::de::IgnoredAny> =
        serde_json::from_slice(&bytes).with_context(invalid)?;
    anyhow::ensure!(
        version.version <= FORMAT_VERSION,
        "{} was written by a newer atwb (format {}, this one writes {FORMAT_VERSION}); it is \
         neither read nor written, so build times are not kept. Use the newer atwb, or move the \
         file away",
        path.display(),
        version.version
    );
    let file: DrvFile<DrvMap> = serde_json::from_slice(&bytes).with_context(invalid)?;
    Ok(file.derivations)
}

/// Writes `map` to `path` atomically, compact. `dir_synced`: also fsync the directory; without
/// it the rename is made durable by the `status.json` write that follows in the same directory
/// (one directory fsync for both: a record's cost is mostly its fsyncs).
pub(super) fn write_file(path: &Path, map: &DrvMap, dir_synced: bool) -> Result<()> {
    let json = serde_json::to_vec(&DrvFile {
        version: FORMAT_VERSION,
        derivations: map,
    })?;
    if dir_synced {
        crate::catalog::edit::write_atomic(path, &json)?;
    } else {
        crate::catalog::edit::write_atomic_dir_unsynced(path, &json)?;
    }
    Ok(())
}

/// Folds in the durations an earlier atwb kept in `status.json`. A name's legacy entry counts
/// only when it is newer than the file's: after a move cut short (the file written, `status.json`
/// not yet) the legacy entries are the file's own, and are not counted twice; an older atwb
/// running beside this one writes only the builds it saw, since it reads no history of its own.
pub(super) fn merge_legacy(map: &mut DrvMap, legacy: &DrvMap) {
    for (name, old) in legacy {
        match map.get_mut(name) {
            None => {
                map.insert(name.clone(), old.clone());
            }
            Some(e) if old.at > e.at => {
                e.ms.extend_from_slice(&old.ms);
                let excess = e.ms.len().saturating_sub(DRV_HISTORY_LEN);
                e.ms.drain(..excess);
                e.at = old.at;
            }
            Some(_) => {}
        }
    }
    trim_names(map, &HashSet::new());
}

impl StatusStore {
    /// Every derivation name's estimate as of the last read: what a job's tree starts with.
    /// Built once per read of the file and shared by the jobs started until the next one.
    pub fn drv_history(&self) -> Arc<DrvHistory> {
        let mut cached = self.drv_history.lock().expect("status store lock");
        if let Some(h) = cached.as_ref() {
            return h.clone();
        }
        let drvs = self.derivations.lock().expect("status store lock");
        let mut h = DrvHistory::default();
        for (name, d) in drvs.iter() {
            h.add(name, &d.ms, d.at);
        }
        drop(drvs);
        let h = Arc::new(h);
        *cached = Some(h.clone());
        h
    }

    /// The history as read now (`derivations.json` and what `legacy`, read from `status.json`,
    /// still holds), made the store's: the one a job's tree is built from.
    pub(super) fn reload_derivations(&self, legacy: &DrvMap) {
        let mut map = read_file(&self.drv_file()).unwrap_or_else(|e| {
            // Estimates only: the results are still read; a write that adds durations reports it.
            tracing::warn!("{e:#}");
            DrvMap::new()
        });
        merge_legacy(&mut map, legacy);
        self.set_derivations(map);
    }

    fn set_derivations(&self, map: DrvMap) {
        *self.derivations.lock().expect("status store lock") = map;
        *self.drv_history.lock().expect("status store lock") = None;
    }

    pub(super) fn drv_file(&self) -> std::path::PathBuf {
        self.file.with_file_name(FILE_NAME)
    }

    /// Under the store's lock: adds what a run `built` at `at` to the file, moving in what
    /// `legacy` (the `status.json` being updated) still holds, which is emptied once the file is
    /// written. Does nothing without either.
    pub(super) fn write_derivations(
        &self,
        legacy: &mut DrvMap,
        built: &[(String, u64)],
        at: u64,
    ) -> Result<()> {
        if built.is_empty() && legacy.is_empty() {
            return Ok(());
        }
        let mut map = read_file(&self.drv_file())?;
        merge_legacy(&mut map, legacy);
        push(&mut map, built, at);
        // Moving an earlier atwb's durations: durable before status.json drops them.
        write_file(&self.drv_file(), &map, !legacy.is_empty())?;
        legacy.clear();
        self.set_derivations(map);
        Ok(())
    }

    /// The durations kept for the derivation `name` (tests, `atwb show`).
    pub fn drv_durations(&self, name: &str) -> Option<DrvDurations> {
        let drvs = self.derivations.lock().expect("status store lock");
        drvs.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_run as run;
    use super::*;
    use crate::jobs::spec::Outcome;

    fn built(names: &[(&str, u64)]) -> Vec<(String, u64)> {
        names
            .iter()
            .map(|(n, ms)| ((*n).to_string(), *ms))
            .collect()
    }

    #[test]
    fn keeps_the_last_few_per_name_and_evicts_the_least_recent_names() {
        let mut m = BTreeMap::new();
        for i in 0..8 {
            push(&mut m, &built(&[("a-1", i)]), 10 + i);
        }
        assert_eq!(m["a-1"].ms, [3, 4, 5, 6, 7]);
        assert_eq!(m["a-1"].at, 17);
        for i in 0..MAX_DRV_NAMES as u64 {
            push(&mut m, &built(&[(&format!("n{i}"), 1)]), 100 + i);
        }
        assert_eq!(m.len(), MAX_DRV_NAMES);
        assert!(!m.contains_key("a-1"), "the oldest went first");
        // One run naming many new ones at once keeps its own.
        let many: Vec<(String, u64)> = (0..MAX_DRV_NAMES + 5)
            .map(|i| (format!("new{i}"), 2))
            .collect();
        push(&mut m, &many, 1);
        assert_eq!(m.len(), MAX_DRV_NAMES);
        assert!(m.keys().all(|k| k.starts_with("new")));
    }

    #[test]
    fn durations_are_written_with_the_run_and_read_back_after_a_reopen() {
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        s.record_built(
            "pds",
            run(Outcome::Ok, 100),
            &built(&[("rsky-pds-0.1.0", 120_000), ("source", 900)]),
        )
        .unwrap();
        // A failed run still keeps what it did build.
        s.record_built(
            "pds",
            run(Outcome::Failed, 200),
            &built(&[("rsky-pds-0.1.0", 100_000)]),
        )
        .unwrap();
        let again = StatusStore::open_in(t.path(), &state).unwrap();
        let d = again.drv_durations("rsky-pds-0.1.0").unwrap();
        assert_eq!((d.ms, d.at), (vec![120_000, 100_000], 200));
        assert_eq!(again.status("pds").unwrap().history.len(), 2);
        let h = again.drv_history();
        assert_eq!(h.estimate_ms("rsky-pds-0.1.0"), Some(120_000));
        assert_eq!(h.estimate_ms("rsky-pds-0.2.0"), Some(120_000), "a bump");
        assert_eq!(h.estimate_ms("source"), Some(900));
        assert_eq!(h.estimate_ms("rsky-relay-0.1.0"), None);
        // A plain record leaves them alone.
        again.record("pds", run(Outcome::Ok, 300)).unwrap();
        assert!(again.drv_durations("source").is_some());
    }

    #[test]
    fn a_file_without_durations_opens_and_gets_them_added() {
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        // What the previous atwb wrote (format 2, no `derivations`).
        let old = r#"{"version":2,"packages":{"a":[{"kind":"build","target":"t","outcome":"ok","duration_secs":3.0,"finished_at":5}]}}"#;
        std::fs::write(state.join("status.json"), old).unwrap();
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        assert!(s.drv_history().is_empty());
        s.record_built("a", run(Outcome::Ok, 9), &built(&[("a-1", 5)]))
            .unwrap();
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(state.join(f)).unwrap()).unwrap()
        };
        let v = read("status.json");
        assert_eq!(v["version"], 2, "no format bump");
        assert!(v.get("derivations").is_none(), "in their own file");
        assert_eq!(v["packages"]["a"].as_array().unwrap().len(), 2);
        assert_eq!(read(FILE_NAME)["derivations"]["a-1"]["ms"][0], 5);
    }

    #[test]
    fn the_file_stays_bounded_at_the_name_cap() {
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        let t0 = std::time::Instant::now();
        s.record("p", run(Outcome::Ok, 999)).unwrap();
        let empty_write = t0.elapsed();
        let name = |n: u64| format!("python3.12-package-number-{n}-1.2.3");
        // 2,000 names with realistic lengths, built 5 times each over 20 runs of 500; then a
        // run of 500 new ones pushes out the 500 least recently built.
        for round in 0..21u64 {
            let names: Vec<(String, u64)> = (0..500u64)
                .map(|i| {
                    let n = if round == 20 {
                        5000 + i
                    } else {
                        (round % 4) * 500 + i
                    };
                    (name(n), 61_234 + n)
                })
                .collect();
            s.record_built("p", run(Outcome::Ok, 1000 + round), &names)
                .unwrap();
        }
        let again = StatusStore::open_in(t.path(), &state).unwrap();
        assert_eq!(again.drv_history().len(), 2000, "names capped");
        let size = |f: &str| std::fs::metadata(state.join(f)).unwrap().len();
        let (status, drvs) = (size("status.json"), size(FILE_NAME));
        eprintln!("{FILE_NAME} with {MAX_DRV_NAMES} names: {drvs} bytes; status.json {status}");
        assert!(drvs < 256 * 1024, "{drvs} bytes");
        assert!(
            status < 8192,
            "status.json holds no durations: {status} bytes"
        );
        // Figures for the README (not asserted: they depend on the machine).
        let t0 = std::time::Instant::now();
        again
            .record_built("p", run(Outcome::Ok, 2000), &built(&[("one-more-1", 5)]))
            .unwrap();
        let write = t0.elapsed();
        let t0 = std::time::Instant::now();
        let h = again.drv_history();
        let built_once = t0.elapsed();
        let t0 = std::time::Instant::now();
        let h2 = again.drv_history();
        eprintln!(
            "a job's record: {empty_write:?} without names, {write:?} with them; the history for a job's tree: {built_once:?} \
             once per read of the file, then {:?}",
            t0.elapsed()
        );
        assert!(Arc::ptr_eq(&h, &h2), "shared until the file is read again");
        assert_eq!(h.len(), MAX_DRV_NAMES);
        again
            .record_built("p", run(Outcome::Ok, 2001), &built(&[("one-more-2", 5)]))
            .unwrap();
        assert_eq!(again.drv_history().estimate_ms("one-more-2"), Some(5));
        assert!(again.drv_durations(&name(0)).is_none(), "least recent");
        assert_eq!(
            again.drv_durations(&name(1999)).unwrap().ms.len(),
            DRV_HISTORY_LEN
        );
        assert!(again.drv_durations(&name(5499)).is_some());
    }
}
