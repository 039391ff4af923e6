//! The TUI's hash action (`#`): headless, driven by actions and feedback, and once for real, with
//! the runtime's effects computing the hashes of a catalog package pinned to a git repository
//! made in the test and writing them; the written bytes are checked, and both hashes against
//! `nix hash path` of what nixpkgs' fetchers would produce.

mod common;
mod git_fixture;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use atwb::jobs::rehash::{HashField, HashOptions, HashStep, PackageHashes};
use atwb::jobs::{Engine, EngineConfig, StatusStore};
use atwb::tui::action::Feedback;
use atwb::tui::app::{Overlay, Row};
use atwb::tui::effects::Effects;
use atwb::tui::update::on_feedback;
use atwb::tui::{Action, App, Command, KeyMap, update};
use git_fixture::{commit_all, github_tarball_tree, init, nix_hash_path, tools_present, write};

fn app_of(catalog: &Path) -> App {
    let loaded = atwb::catalog::load(catalog).expect("catalog loads");
    let mut app = App::new(loaded.catalog, "catalog/".into(), 0, KeyMap::default());
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 30,
        },
    );
    app
}

fn select(app: &mut App, name: &str) {
    app.selected = app
        .rows
        .iter()
        .position(
            |r| matches!(r, Row::Package { index } if app.catalog.packages[*index].name == name),
        )
        .unwrap_or_else(|| panic!("{name} not in the tree"));
}

fn notice(app: &App) -> (String, bool) {
    let n = app.notice.as_ref().expect("a notice");
    (n.text.clone(), n.error)
}

fn hashes(deps: Result<String, String>) -> PackageHashes {
    PackageHashes {
        package: "goat".into(),
        file: "goat/package.toml".into(),
        rev: "r".into(),
        source: HashField {
            field: "source.hash",
            old: "sha256-old".into(),
            new: Ok("sha256-new".into()),
            from: "git objects".into(),
            supported: true,
        },
        deps: HashField {
            field: "build.deps_hash",
            old: "unknown".into(),
            new: deps,
            from: "Cargo.lock".into(),
            supported: true,
        },
        old_verified: true,
        old_provenance: "p".into(),
        new_provenance: "computed natively".into(),
    }
}

#[test]
fn hash_action_runs_in_the_background_and_writes_only_on_confirm() {
    let mut app = app_of(&common::repo_root().join("tests/fixtures/tui-catalog"));
    // On a group line there is no package to hash.
    app.selected = 0;
    assert!(update(&mut app, Action::HashPackage).is_empty());
    assert!(notice(&app).1);

    select(&mut app, "goat");
    let cmds = update(&mut app, Action::HashPackage);
    assert_eq!(
        cmds,
        vec![Command::ComputeHashes {
            package: "goat".into()
        }]
    );
    // One at a time: the UI is not blocked, but a second `#` is refused while one runs.
    assert!(
        update(&mut app, Action::MoveDown).is_empty(),
        "the UI still moves"
    );
    assert!(update(&mut app, Action::HashPackage).is_empty());
    assert!(
        notice(&app)
            .0
            .contains("already computing the hashes of goat")
    );

    let step = HashStep::Crates { done: 3, total: 7 };
    on_feedback(
        &mut app,
        Feedback::HashProgress {
            package: "goat".into(),
            step,
        },
    );
    assert_eq!(app.hashing, Some(("goat".into(), Some(step))));

    // A dependency hash that could not be computed: its error (with the hint) as a notice, the
    // source hash still offered.
    let missing = "Cargo.lock: 1 crate is not in the local cargo cache: a 1.0.0; run `cargo \
                   fetch --locked` in /src";
    on_feedback(
        &mut app,
        Feedback::HashesComputed {
            package: "goat".into(),
            result: Ok(Box::new(hashes(Err(missing.into())))),
        },
    );
    assert_eq!(app.hashing, None);
    let (text, error) = notice(&app);
    assert!(error && text.contains("cargo fetch --locked"), "{text}");
    assert!(matches!(app.overlays.last(), Some(Overlay::Hashes(_))));
    // Closing the dialog writes nothing.
    assert!(update(&mut app, Action::CloseOverlay).is_empty());
    assert!(app.overlays.is_empty());

    // No source in the git cache: a notice, no dialog.
    update(&mut app, Action::HashPackage);
    on_feedback(
        &mut app,
        Feedback::HashesComputed {
            package: "goat".into(),
            result: Err("no local clone of https://x in atwb's git cache; run `atwb prefetch https://x` first".into()),
        },
    );
    assert!(notice(&app).0.contains("atwb prefetch"));
    assert!(app.overlays.is_empty());

    // Confirmed: the runtime is asked to write exactly what was shown; then the status is re-read.
    update(&mut app, Action::HashPackage);
    let computed = hashes(Ok("sha256-deps".into()));
    on_feedback(
        &mut app,
        Feedback::HashesComputed {
            package: "goat".into(),
            result: Ok(Box::new(computed.clone())),
        },
    );
    assert_eq!(
        update(&mut app, Action::Confirm),
        vec![Command::WriteHashes(Box::new(computed))]
    );
    let cmds = on_feedback(
        &mut app,
        Feedback::HashesWritten {
            package: "goat".into(),
            result: Ok(vec![PathBuf::from(
                "/c/pkgs/bluesky-social/goat/package.toml",
            )]),
        },
    );
    assert_eq!(cmds, vec![Command::RefreshStatus(vec!["goat".into()])]);
    assert!(!notice(&app).1);
}

fn line_of(text: &str, prefix: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}"))
        .to_string()
}

/// Feedback until `done` says stop (10 s at most between two).
async fn feedback_until(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Feedback>,
    mut done: impl FnMut(&Feedback) -> bool,
) -> Vec<Feedback> {
    let mut seen = Vec::new();
    loop {
        let fb = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("no feedback")
            .expect("feedback channel open");
        let stop = done(&fb);
        seen.push(fb);
        if stop {
            return seen;
        }
    }
}

/// Upstream (a repository whose Cargo.lock names one registry crate in `t/crates`), a catalog
/// copy whose `allegedly` is pinned to it with an unknown deps hash, and the hashes nixpkgs'
/// fetchers would give: `nix hash path` of the GitHub tarball tree and of the staging directory
/// fetchCargoVendor hashes.
struct Upstream {
    repo: PathBuf,
    rev: String,
    source_hash: String,
    deps_hash: String,
    catalog: PathBuf,
    file: PathBuf,
    before: String,
}

fn upstream(t: &Path) -> Upstream {
    // Upstream: a repository whose Cargo.lock names one registry crate.
    let (crate_file, sum) = common::make_crate(&t.join("crates"), "lite-a", "1.0.0");
    let lock = format!(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\n\
         name = \"lite-a\"\nversion = \"1.0.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sum}\"\n"
    );
    let repo = init(&t.join("upstream"));
    write(&repo.join("src/main.rs"), b"fn main() {}\n");
    write(&repo.join("Cargo.lock"), lock.as_bytes());
    let rev = commit_all(&repo, "first");
    // What fetchCargoVendor would hash: the lockfile and the crate as a tarball.
    let staging = t.join("staging");
    write(&staging.join("Cargo.lock"), lock.as_bytes());
    std::fs::create_dir_all(staging.join("tarballs")).unwrap();
    std::fs::copy(&crate_file, staging.join("tarballs/lite-a-1.0.0.tar.gz")).unwrap();
    let source_hash = nix_hash_path(&github_tarball_tree(&repo, &rev, &t.join("scratch")));
    let deps_hash = nix_hash_path(&staging);

    let catalog = t.join("catalog");
    common::copy_dir(&common::repo_root().join("catalog"), &catalog);
    let file = catalog.join("pkgs/microcosm/allegedly/package.toml");
    let shipped = std::fs::read_to_string(&file).unwrap();
    let before = shipped
        .replace(&line_of(&shipped, "rev = "), &format!("rev = \"{rev}\""))
        .replace(
            &line_of(&shipped, "deps_hash = "),
            "deps_hash = \"unknown\"",
        );
    std::fs::write(&file, &before).unwrap();

    Upstream {
        repo,
        rev,
        source_hash,
        deps_hash,
        catalog,
        file,
        before,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hash_effect_computes_and_writes_a_real_package() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let Upstream {
        repo,
        rev,
        source_hash,
        deps_hash,
        catalog,
        file,
        before,
    } = upstream(t);
    let engine = Engine::new(EngineConfig::new(t.join("state/logs")));
    let store = Arc::new(StatusStore::open_in(&catalog, &t.join("state")).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut effects = Effects::new(
        engine.handle(),
        store,
        catalog.clone(),
        Err("none".into()),
        tx,
    );
    effects.hash_options = HashOptions {
        source: Some(repo.clone()),
        crates: Some(t.join("crates")),
        ..HashOptions::default()
    };
    let mut app = app_of(&catalog);
    select(&mut app, "allegedly");
    let cmds = update(&mut app, Action::HashPackage);
    let [Command::ComputeHashes { package }] = cmds.as_slice() else {
        panic!("no compute command");
    };
    effects.compute_hashes(package.clone());
    let seen = feedback_until(&mut rx, |f| matches!(f, Feedback::HashesComputed { .. })).await;
    let steps: Vec<HashStep> = seen
        .iter()
        .filter_map(|f| match f {
            Feedback::HashProgress { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(steps.first(), Some(&HashStep::SourceTree), "{steps:?}");
    assert_eq!(
        steps.last(),
        Some(&HashStep::Crates { done: 1, total: 1 }),
        "{steps:?}"
    );
    for fb in seen {
        on_feedback(&mut app, fb);
    }
    let Some(Overlay::Hashes(h)) = app.overlays.last() else {
        panic!("no dialog: {:?}", app.notice);
    };
    assert_eq!(h.source.new.as_deref(), Ok(source_hash.as_str()));
    assert_eq!(h.deps.new.as_deref(), Ok(deps_hash.as_str()));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "nothing written before the confirm"
    );

    let cmds = update(&mut app, Action::Confirm);
    let [Command::WriteHashes(h)] = cmds.as_slice() else {
        panic!("no write command");
    };
    effects.write_hashes((**h).clone());
    let seen = feedback_until(&mut rx, |f| matches!(f, Feedback::HashesWritten { .. })).await;
    let cmds: Vec<Command> = seen
        .into_iter()
        .flat_map(|f| on_feedback(&mut app, f))
        .collect();
    assert_eq!(cmds, vec![Command::RefreshStatus(vec!["allegedly".into()])]);

    let after = std::fs::read_to_string(&file).unwrap();
    let provenance = line_of(&after, "provenance = ");
    assert!(
        provenance.contains("computed natively by atwb") && provenance.contains(&rev[..12]),
        "{provenance}"
    );
    let expected = before
        .replace(
            &line_of(&before, "hash = "),
            &format!("hash = \"{source_hash}\""),
        )
        .replace(&line_of(&before, "provenance = "), &provenance)
        .replace(
            "deps_hash = \"unknown\"",
            &format!("deps_hash = \"{deps_hash}\""),
        );
    assert_eq!(
        after.as_bytes(),
        expected.as_bytes(),
        "only the hash lines change"
    );

    refuses_a_write_over_an_edit(&effects, &mut rx, (**h).clone(), &file).await;
}

/// `h` was computed before the file was last written: writing it again is refused, the file kept.
async fn refuses_a_write_over_an_edit(
    effects: &Effects,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Feedback>,
    h: PackageHashes,
    file: &Path,
) {
    let after = std::fs::read_to_string(file).unwrap();
    // An edit between computing and confirming is never overwritten.
    let stale = PackageHashes {
        deps: HashField {
            old: "unknown".into(),
            ..h.deps.clone()
        },
        ..h.clone()
    };
    effects.write_hashes(stale);
    let seen = feedback_until(rx, |f| matches!(f, Feedback::HashesWritten { .. })).await;
    let Some(Feedback::HashesWritten { result: Err(e), .. }) = seen.last() else {
        panic!("a write over a changed file was not refused: {seen:?}");
    };
    assert!(e.contains("changed since"), "{e}");
    assert_eq!(std::fs::read_to_string(file).unwrap(), after);
}
