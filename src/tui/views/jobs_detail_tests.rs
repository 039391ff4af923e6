//! The jobs view's detail pane with the selected job's derivation tree, through the whole App:
//! engine events in, actions, a frame on a TestBackend. The trees are folded from a real Nix 2.8
//! log on a fixed clock (the engine's own clock would make the times differ run to run).

use std::path::PathBuf;
use std::time::Duration;

use crate::jobs::interpret::TreeReport;
use crate::jobs::spec::{JobEvent, JobId, JobResult, JobSpec, Outcome, TREE_ROWS};
use crate::nix::command::Installable;
use crate::nix::drvtree::{DrvTree, TreeSnapshot};
use crate::nix::internal_json::parse_line;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::tests::{fixture_app, render};
use crate::tui::update::{on_job_event, update};
use crate::tui::views::buffer_text;

/// `tree-keep-going.log` (a built, c fails, …) folded one line per 250 ms, up to the line that
/// contains `cut_before` (None: all of it, then settled as a failed run).
fn tree(cut_before: Option<&str>) -> TreeSnapshot {
    let path = format!(
        "{}/tests/fixtures/logs/tree-keep-going.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut t = DrvTree::new();
    t.set_history("tree-a", &[61_000, 59_000, 75_000]);
    let mut now = 0;
    for line in text.lines() {
        if cut_before.is_some_and(|c| line.contains(c)) {
            break;
        }
        t.apply(&parse_line(line), now);
        now += 250;
    }
    if cut_before.is_none() {
        t.settle(false, now);
    }
    t.snapshot(TREE_ROWS, 30_000)
}

fn spec(name: &str) -> JobSpec {
    JobSpec::build(
        name,
        Installable::new("path:/flake", format!("packages.x86_64-linux.{name}")),
    )
}

fn start(app: &mut App, id: u64, name: &str) {
    on_job_event(
        app,
        JobEvent::Queued {
            id: JobId(id),
            spec: spec(name),
        },
    );
    on_job_event(
        app,
        JobEvent::Started {
            id: JobId(id),
            pid: 4242,
            command: format!("nix build --log-format internal-json -v path:/flake#{name}"),
            log_file: PathBuf::from(format!("/state/logs/{name}.log")),
        },
    );
}

fn screen(app: &App) -> String {
    buffer_text(render(app).backend().buffer())
}

#[test]
fn the_detail_pane_shows_the_selected_jobs_tree_live_and_after_it_ended() {
    let mut app = fixture_app(100, 34);
    app.unix_now = 1_796_134_989;
    start(&mut app, 1, "goat");
    on_job_event(
        &mut app,
        JobEvent::Queued {
            id: JobId(2),
            spec: spec("yak"),
        },
    );
    on_job_event(
        &mut app,
        JobEvent::Tree {
            id: JobId(1),
            tree: Box::new(tree(Some("c is broken"))),
        },
    );
    update(&mut app, Action::Jobs);
    let live = screen(&app);
    for want in [
        "── derivations",
        "⏵ tree-a  20s/~1m01s",
        "⏵ tree-c  22s",
        "30s · ~40s left",
    ] {
        assert!(live.contains(want), "{want}\n{live}");
    }
    insta::assert_snapshot!("jobs_detail_tree_live", live);

    // The queued job below has no tree yet; the split stays where it was.
    update(&mut app, Action::MoveDown);
    let queued = screen(&app);
    assert!(queued.contains("not started yet"), "{queued}");
    let rule = |s: &str| s.lines().position(|l| l.contains("── derivations"));
    assert_eq!(rule(&queued), rule(&live));

    // The job ends: its final tree, settled, comes with the result.
    let last = tree(None);
    on_job_event(
        &mut app,
        JobEvent::Finished(Box::new(JobResult {
            id: JobId(1),
            spec: spec("goat"),
            outcome: Outcome::Failed,
            failure: None,
            exit_code: Some(1),
            duration: Duration::from_secs(40),
            started_at: 0,
            drv_path: Some("/nix/store/ls0ygpq6a2lin8cv4i72xjsid2k88xkq-tree-top.drv".into()),
            out_paths: vec![],
            log_file: Some(PathBuf::from("/state/logs/goat.log")),
            value: None,
            tree: TreeReport {
                built: Vec::new(),
                snapshot: Some(Box::new(last)),
            },
        })),
    );
    // Running and queued first, finished last: the finished goat is the second row now.
    update(&mut app, Action::Bottom);
    let ended = screen(&app);
    for want in ["✘ tree-c", "✘ tree-top", "✔ 3 done", "exit     1 (failed)"] {
        assert!(ended.contains(want), "{want}\n{ended}");
    }
    assert!(!ended.contains("left"), "nothing left to estimate\n{ended}");
    insta::assert_snapshot!("jobs_detail_tree_final", ended);

    // Cleared from the list, the job and its tree are gone from memory.
    update(&mut app, Action::ClearFinished);
    assert!(!app.jobs.jobs.contains_key(&JobId(1)));
    assert!(app.jobs.jobs.values().all(|j| j.tree.is_none()));
}
