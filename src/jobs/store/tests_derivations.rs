//! `derivations.json`: written only by records that add durations, moved out of a `status.json`
//! an earlier atwb wrote, and merged, not overwritten, when several stores (processes) write.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use super::durations::{DrvMap, FILE_NAME};
use super::*;
use crate::jobs::spec::{JobKind, Outcome};

fn run(finished_at: u64) -> RunRecord {
    test_run(Outcome::Ok, finished_at)
}

fn built(names: &[(&str, u64)]) -> Vec<(String, u64)> {
    names
        .iter()
        .map(|(n, ms)| ((*n).to_string(), *ms))
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// What the status.json of the atwb before `derivations.json` holds, as that code wrote it
/// (two packages, four derivation names; one built twice).
const LEGACY: &[u8] = include_bytes!("../../../tests/fixtures/store/status-with-derivations.json");

fn legacy_state(t: &Path) -> std::path::PathBuf {
    let state = t.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("status.json"), LEGACY).unwrap();
    state
}

#[test]
fn an_earlier_status_file_s_durations_are_read_and_moved_by_the_next_write() {
    let t = tempfile::tempdir().unwrap();
    let state = legacy_state(t.path());
    let legacy: serde_json::Value = serde_json::from_slice(LEGACY).unwrap();
    assert_eq!(legacy["derivations"].as_object().unwrap().len(), 4);
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    // Read from status.json before any write.
    assert_eq!(
        s.drv_durations("rsky-pds-0.1.0").unwrap().ms,
        [120_000, 110_000]
    );
    assert_eq!(s.drv_history().len(), 4);
    assert!(!state.join(FILE_NAME).exists(), "opening writes nothing");
    // Any write moves them; this one adds none of its own.
    s.record("rsky-pds", run(1_764_000_400)).unwrap();
    let status = json(&state.join("status.json"));
    assert!(status.get("derivations").is_none(), "{status}");
    assert_eq!(status["packages"]["rsky-pds"].as_array().unwrap().len(), 3);
    assert_eq!(
        status["packages"]["rsky-relay"].as_array().unwrap().len(),
        1
    );
    let moved = json(&state.join(FILE_NAME));
    assert_eq!(moved["version"], 1);
    assert_eq!(moved["derivations"], legacy["derivations"], "nothing lost");
    // And a reopened store reads them from there.
    let again = StatusStore::open_in(t.path(), &state).unwrap();
    assert_eq!(again.drv_durations("vendor-deps").unwrap().ms, [30_500]);
    assert_eq!(again.drv_history().len(), 4);
    again
        .record_built("rsky-pds", run(1_764_000_500), &built(&[("source", 950)]))
        .unwrap();
    assert_eq!(again.drv_durations("source").unwrap().ms, [900, 950]);
}

#[test]
fn a_move_cut_short_counts_the_durations_once_and_an_older_atwb_s_new_ones_are_added() {
    let t = tempfile::tempdir().unwrap();
    let state = legacy_state(t.path());
    // Cut short: derivations.json written, status.json still the earlier one.
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    s.record("rsky-pds", run(1_764_000_400)).unwrap();
    let moved = std::fs::read(state.join(FILE_NAME)).unwrap();
    std::fs::write(state.join("status.json"), LEGACY).unwrap();
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    assert_eq!(
        s.drv_durations("rsky-pds-0.1.0").unwrap().ms,
        [120_000, 110_000]
    );
    s.record("rsky-pds", run(1_764_000_400)).unwrap();
    assert_eq!(std::fs::read(state.join(FILE_NAME)).unwrap(), moved);
    // An older atwb beside this one reads no history and keeps in status.json only what it
    // built since: a later build of a known name is added to it, a new name kept.
    let mut status = json(&state.join("status.json"));
    status["derivations"] = serde_json::json!({
        "rsky-pds-0.1.0": {"ms": [100_000], "at": 1_764_000_600},
        "new-1": {"ms": [7], "at": 1_764_000_600},
    });
    std::fs::write(state.join("status.json"), status.to_string()).unwrap();
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    s.record("rsky-relay", run(1_764_000_700)).unwrap();
    let d = s.drv_durations("rsky-pds-0.1.0").unwrap();
    assert_eq!(
        (d.ms, d.at),
        (vec![120_000, 110_000, 100_000], 1_764_000_600)
    );
    assert_eq!(s.drv_durations("new-1").unwrap().ms, [7]);
    assert!(
        json(&state.join("status.json"))
            .get("derivations")
            .is_none()
    );
}

#[test]
fn a_record_that_built_nothing_leaves_the_history_file_alone() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    let s = StatusStore::open_in(t.path(), &state).unwrap();
    s.record_built("a", run(10), &built(&[("a-1", 5)])).unwrap();
    let file = state.join(FILE_NAME);
    let inode = std::fs::metadata(&file).unwrap().ino();
    s.record("a", run(11)).unwrap();
    s.begin(RunningRecord::started_here(
        "a",
        JobKind::Build,
        "t",
        1,
        None,
        None,
    ))
    .unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().ino(),
        inode,
        "not rewritten"
    );
    s.record_built("a", run(12), &built(&[("a-1", 6)])).unwrap();
    assert_ne!(std::fs::metadata(&file).unwrap().ino(), inode, "replaced");
    assert_eq!(s.drv_durations("a-1").unwrap().ms, [5, 6]);
    // Compact, like status.json.
    for f in [&file, &state.join("status.json")] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains('\n'), "{text}");
    }
}

#[test]
fn stores_of_two_processes_merge_their_durations_and_runs() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("state");
    // Two stores, each with its own open lock file: what two atwb processes are to each other.
    let a = Arc::new(StatusStore::open_in(t.path(), &state).unwrap());
    let b = Arc::new(StatusStore::open_in(t.path(), &state).unwrap());
    let writer = |s: Arc<StatusStore>, who: &'static str| {
        std::thread::spawn(move || {
            for i in 0..15u64 {
                let names = built(&[(&format!("{who}-{i}"), i), ("shared-1", i)]);
                s.record_built(who, run(100 + i), &names).unwrap();
            }
        })
    };
    let (ta, tb) = (writer(a.clone(), "a"), writer(b.clone(), "b"));
    ta.join().unwrap();
    tb.join().unwrap();
    let c = StatusStore::open_in(t.path(), &state).unwrap();
    for who in ["a", "b"] {
        assert_eq!(c.status(who).unwrap().history.len(), 15, "{who}'s runs");
        for i in 0..15 {
            assert!(
                c.drv_durations(&format!("{who}-{i}")).is_some(),
                "{who}-{i}"
            );
        }
    }
    assert_eq!(
        c.drv_durations("shared-1").unwrap().ms.len(),
        DRV_HISTORY_LEN
    );
    // A store that read before the other wrote still adds to, not replaces, the file.
    a.record_built("a", run(200), &built(&[("late-a", 1)]))
        .unwrap();
    let on_disk: DrvMap = super::durations::read_file(&state.join(FILE_NAME)).unwrap();
    assert_eq!(on_disk.len(), 32, "{:?}", on_disk.keys());
}

#[test]
fn an_unreadable_or_newer_history_file_is_kept_and_the_run_recorded() {
    let t = tempfile::tempdir().unwrap();
    let state = legacy_state(t.path());
    let file = state.join(FILE_NAME);
    for (bytes, says) in [
        (
            &b"{\"version\": 1, \"derivations\": {\"x\": [1"[..],
            "not a valid derivation history",
        ),
        (
            &b"{\"version\": 9, \"derivations\": \"a new shape\"}"[..],
            "newer atwb (format 9",
        ),
    ] {
        std::fs::write(&file, bytes).unwrap();
        let s = StatusStore::open_in(t.path(), &state).unwrap();
        assert!(s.take_write_errors().is_empty(), "opening is not an error");
        // What the earlier status.json holds is still read.
        assert!(s.drv_durations("source").is_some());
        s.record_built("a", run(5), &built(&[("a-1", 5)])).unwrap();
        assert_eq!(s.status("a").unwrap().last.finished_at, 5, "recorded");
        let errors = s.take_write_errors();
        assert!(
            errors.len() == 1 && errors[0].contains(says) && errors[0].contains(FILE_NAME),
            "{errors:?}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "never overwritten");
        let status = json(&state.join("status.json"));
        assert_eq!(
            status["derivations"]["source"]["ms"][0], 900,
            "the earlier durations stay where they are"
        );
    }
}
