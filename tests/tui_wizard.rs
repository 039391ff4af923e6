//! The new-package wizard headless: keys through `update`, the background results fed back as
//! the runtime would (detection run here for real on a repository made in the test).

use std::path::Path;

use atwb::scaffold::{Request, detect};
use atwb::tui::action::Feedback;
use atwb::tui::app::Overlay;
use atwb::tui::keymap::View;
use atwb::tui::update::on_feedback;
use atwb::tui::wizard::Step;
use atwb::tui::{Action, App, Command, KeyMap, update};

fn app() -> App {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
    let loaded = atwb::catalog::load(&root).unwrap();
    App::new(loaded.catalog, "fixture/".into(), 0, KeyMap::default())
}

fn step(app: &App) -> &Step {
    match app.overlays.last() {
        Some(Overlay::Wizard(w)) => &w.step,
        other => panic!("no wizard on top: {other:?}"),
    }
}

fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(update(app, Action::SearchInput(c)));
    }
    out
}

/// Runs the detection the runtime would run, feeding progress and the result back.
fn run_detection(app: &mut App, source: &str) {
    let mut steps = Vec::new();
    let result = detect(
        &Request {
            source: source.into(),
            ..Request::default()
        },
        &mut |s| steps.push(s.to_string()),
    );
    for s in steps {
        on_feedback(
            app,
            Feedback::WizardProgress {
                source: source.into(),
                step: s,
            },
        );
    }
    on_feedback(
        app,
        Feedback::WizardDetected {
            source: source.into(),
            result: result.map(Box::new).map_err(|e| e.to_string()),
        },
    );
}

#[test]
fn a_bad_source_fails_with_its_reason_and_enter_tries_again() {
    let mut app = app();
    update(&mut app, Action::NewPackage);
    assert_eq!(app.view(), View::Search, "the wizard takes typed text");
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().display().to_string();
    assert!(type_text(&mut app, &source).is_empty());
    let commands = update(&mut app, Action::SearchConfirm);
    assert_eq!(
        commands,
        [Command::DetectPackage {
            source: source.clone()
        }]
    );
    assert!(matches!(step(&app), Step::Detecting { .. }));
    run_detection(&mut app, &source);
    let Step::Failed { message, .. } = step(&app) else {
        panic!("{:?}", step(&app));
    };
    assert!(message.contains("is not a git repository"), "{message}");
    update(&mut app, Action::SearchConfirm);
    assert_eq!(step(&app), &Step::Source { text: source });
    update(&mut app, Action::SearchCancel);
    assert!(app.overlays.is_empty());
}

#[test]
fn review_changes_a_field_refuses_a_bad_one_and_w_asks_to_write() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("toolrepo");
    let r = git2::Repository::init(&repo).unwrap();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"toolrepo\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"Tool for the review test\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").unwrap();
    let mut index = r.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    let tree = r.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.org").unwrap();
    r.commit(Some("HEAD"), &sig, &sig, "first", &tree, &[])
        .unwrap();

    let mut app = app();
    update(&mut app, Action::NewPackage);
    let source = repo.display().to_string();
    type_text(&mut app, &source);
    update(&mut app, Action::SearchConfirm);
    // Closing while detection runs abandons it: a late result changes nothing, neither with
    // no wizard open nor in a wizard detecting another source.
    update(&mut app, Action::SearchCancel);
    run_detection(&mut app, &source);
    assert!(app.overlays.is_empty());
    update(&mut app, Action::NewPackage);
    type_text(&mut app, "/elsewhere");
    update(&mut app, Action::SearchConfirm);
    run_detection(&mut app, &source);
    assert!(
        matches!(step(&app), Step::Detecting { .. }),
        "{:?}",
        step(&app)
    );
    update(&mut app, Action::SearchCancel);

    update(&mut app, Action::NewPackage);
    type_text(&mut app, &source);
    update(&mut app, Action::SearchConfirm);
    run_detection(&mut app, &source);
    assert!(
        matches!(step(&app), Step::Review { .. }),
        "{:?}",
        step(&app)
    );
    // Field 1 is the tier: a bad value is refused with the reason, a good one taken.
    update(&mut app, Action::MoveDown);
    update(&mut app, Action::SearchConfirm);
    update(&mut app, Action::SearchBackspace);
    type_text(&mut app, "9");
    update(&mut app, Action::SearchConfirm);
    let Step::Review {
        proposal, error, ..
    } = step(&app)
    else {
        panic!()
    };
    assert_eq!(error.as_deref(), Some("tier is 1, 2 or 3"));
    assert_eq!(proposal.tier, 3);
    update(&mut app, Action::SearchConfirm);
    update(&mut app, Action::SearchBackspace);
    type_text(&mut app, "2");
    update(&mut app, Action::SearchConfirm);
    let commands = update(&mut app, Action::SearchInput('w'));
    let [Command::WritePackage(p)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(p.tier, 2);
    assert_eq!(p.parts[0].name, "toolrepo");
    assert!(matches!(step(&app), Step::Writing { .. }));
    // The write reports back; the wizard closes and the package is selected after the reload.
    on_feedback(
        &mut app,
        Feedback::WizardWritten(Ok(vec!["toolrepo".into()])),
    );
    assert!(app.overlays.is_empty());
    assert_eq!(app.select_after_reload.as_deref(), Some("toolrepo"));
}
