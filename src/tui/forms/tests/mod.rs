//! Headless tests of the forms, driven by actions against a real copy of the TUI fixture
//! catalog in a temp dir (set-up and the effects' part: `support`).

use std::path::Path;

use super::{Dialog, EditCode, Editing, FieldValue, Row, Side};
use crate::tui::action::{Action, Command, Feedback};
use crate::tui::keymap::{KeyMap, View};
use crate::tui::update::{on_feedback, update};

mod snapshots;
mod support;

use support::{changed_lines, description_edited_on_both_sides, env, pds_form, text};

#[test]
fn typing_a_description_and_saving_changes_exactly_that_line() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    let file = e.file("bluesky-social/pds");
    let before = std::fs::read_to_string(&file).unwrap();
    assert_eq!(e.app.view(), View::Form);
    e.focus("description");
    e.act(Action::FormEdit);
    assert_eq!(e.app.view(), View::FormEdit);
    e.typed(" and blobs");
    assert_eq!(
        e.value("description"),
        text("Personal data server hosting user repositories and blobs")
    );
    e.act(Action::FormEditEnter);
    assert_eq!(e.app.view(), View::Form);
    e.act(Action::FormSave);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "description = \"Personal data server hosting user repositories\"".to_owned(),
            "description = \"Personal data server hosting user repositories and blobs\"".to_owned()
        )]
    );
    assert!(!e.form().dirty(), "saved: nothing left unsaved");
    // The catalog reload is effects' work; the saved form closes without asking.
    e.act(Action::CloseOverlay);
    assert!(e.app.overlays.is_empty());
}

#[test]
fn invalid_input_shows_the_validators_message_and_save_is_refused_with_focus() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    let file = e.file("bluesky-social/pds");
    let before = std::fs::read(&file).unwrap();
    e.edit("description", ".");
    let i = e.field("description");
    let problem = e
        .form()
        .problem_of(i)
        .expect("a trailing period is an error");
    assert!(problem.contains("period"), "{problem}");
    // Away from the field, then save: refused, the focus back on the invalid field.
    e.act(Action::Top);
    e.act(Action::FormSave);
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing written");
    let form = e.form();
    assert_eq!(form.rows[form.focus], Row::Field(i));
    let notice = e.app.notice.clone().unwrap();
    assert!(
        notice.error && notice.text.contains("not saved"),
        "{notice:?}"
    );
}

#[test]
fn a_port_takes_digits_only_and_out_of_range_is_an_inline_error() {
    let mut e = pds_form(100, 30, Action::ServiceForm);
    assert_eq!(e.form().title(), "pds · service pds");
    e.focus("services.pds.ports.http");
    e.act(Action::FormEdit);
    e.typed("x");
    match &e.form().editing {
        Some(Editing::Text { refused, .. }) => {
            assert_eq!(refused.as_deref(), Some("a whole number: digits only"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.value("services.pds.ports.http"), text("3000"));
    e.typed("00");
    assert_eq!(e.value("services.pds.ports.http"), text("300000"));
    let i = e.field("services.pds.ports.http");
    let form = e.form();
    assert!(form.problem_of(i).is_some(), "{:?}", form.problems);
    for _ in 0..3 {
        e.key(EditCode::Backspace);
    }
    e.typed("1");
    assert_eq!(e.value("services.pds.ports.http"), text("3001"));
    assert!(e.form().problems.is_empty(), "{:?}", e.form().problems);
}

#[test]
fn undo_and_redo_step_through_edits_one_field_session_at_a_time() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    e.edit("description", " now");
    e.focus("tier");
    e.act(Action::FormEdit);
    assert!(matches!(e.form().editing, Some(Editing::Pick { .. })));
    e.key(EditCode::Down);
    e.act(Action::FormEditEnter);
    assert_eq!(e.value("tier"), text("2"));
    e.act(Action::FormUndo);
    assert_eq!(e.value("tier"), text("1"));
    assert!(e.value("description") != text("Personal data server hosting user repositories"));
    e.act(Action::FormUndo);
    assert_eq!(
        e.value("description"),
        text("Personal data server hosting user repositories"),
        "the whole typing session is one step"
    );
    assert!(!e.form().dirty());
    e.act(Action::FormRedo);
    e.act(Action::FormRedo);
    assert_eq!(e.value("tier"), text("2"));
    assert_eq!(
        e.value("description"),
        text("Personal data server hosting user repositories now")
    );
}

#[test]
fn leaving_with_unsaved_changes_asks_save_discard_or_stay() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    let file = e.file("bluesky-social/pds");
    let before = std::fs::read_to_string(&file).unwrap();
    e.focus("platforms");
    e.act(Action::FormAddItem);
    e.typed("riscv64-linux");
    e.act(Action::FormEditEnter);
    e.act(Action::CloseOverlay);
    assert_eq!(e.form().dialog, Some(Dialog::Leave));
    assert_eq!(e.app.view(), View::FormDialog);
    // Stay.
    e.act(Action::CloseOverlay);
    assert_eq!(e.form().dialog, None);
    // Discard: the file is untouched.
    e.act(Action::CloseOverlay);
    e.act(Action::FormDiscard);
    assert!(e.app.overlays.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    // Save from the prompt writes and leaves.
    e.act(Action::MetadataForm);
    e.focus("platforms");
    e.act(Action::FormAddItem);
    e.typed("riscv64-linux");
    e.act(Action::FormEditEnter);
    e.act(Action::CloseOverlay);
    e.act(Action::FormSave);
    assert!(e.app.overlays.is_empty());
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [(
            "platforms = [\"x86_64-linux\", \"aarch64-linux\"]".to_owned(),
            "platforms = [\"x86_64-linux\", \"aarch64-linux\", \"riscv64-linux\"]".to_owned()
        )]
    );
}

#[test]
fn list_items_are_added_reordered_and_removed() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    e.focus("license");
    // License items come from the SPDX pick list, filtered by typing.
    e.act(Action::FormAddItem);
    e.typed("apache-2");
    e.act(Action::FormEditEnter);
    assert_eq!(
        e.value("license"),
        FieldValue::List(vec!["MIT".into(), "Apache-2.0".into()])
    );
    assert!(matches!(
        e.form().rows[e.form().focus],
        Row::Item { index: 1, .. }
    ));
    e.act(Action::FormItemUp);
    assert_eq!(
        e.value("license"),
        FieldValue::List(vec!["Apache-2.0".into(), "MIT".into()])
    );
    e.act(Action::FormItemDown);
    e.act(Action::FormRemoveItem);
    assert_eq!(e.value("license"), FieldValue::List(vec!["MIT".into()]));
    e.act(Action::FormUndo);
    assert_eq!(e.value("license").display(), "[MIT, Apache-2.0]");
}

#[test]
fn options_and_services_are_added_and_removed_from_the_service_form() {
    let mut e = pds_form(100, 30, Action::ServiceForm);
    let file = e.file("bluesky-social/pds");
    e.act(Action::FormAddOption);
    e.typed("blob_dir");
    e.act(Action::FormEditEnter);
    let base = "services.pds.options.blob_dir";
    assert_eq!(e.value(&format!("{base}.type")), text("str"));
    e.edit(&format!("{base}.description"), "Where blobs are stored");
    e.edit(&format!("{base}.default"), "/var/lib/pds/blobs");
    assert!(e.form().problems.is_empty(), "{:?}", e.form().problems);
    e.act(Action::FormSave);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("[services.pds.options.blob_dir]"), "{saved}");
    let loaded = crate::catalog::load(&e.root).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let pds = loaded.catalog.get("pds").unwrap();
    assert!(
        pds.services["pds"]
            .options
            .iter()
            .any(|o| o.name == "blob_dir")
    );
    // Removing the option the focus is in.
    e.focus(&format!("{base}.env"));
    e.act(Action::FormRemoveOption);
    assert!(e.form().fields.iter().all(|f| !f.path.starts_with(base)));
    // A second service, then removing it again.
    e.act(Action::FormAddService);
    e.typed("pds-admin");
    e.act(Action::FormEditEnter);
    assert_eq!(e.form().title(), "pds · service pds-admin");
    e.act(Action::FormRemoveService);
    assert_eq!(e.form().title(), "pds · service pds");
}

#[test]
fn a_secret_looking_value_is_refused_with_the_reason() {
    let mut e = pds_form(100, 30, Action::ServiceForm);
    e.retype(
        "services.pds.options.log_level.env",
        "LOG_LEVEL".len(),
        "ADMIN_PASSWORD",
    );
    let i = e.field("services.pds.options.log_level.default");
    let p = e
        .form()
        .problem_of(i)
        .expect("a default of a *_PASSWORD variable is a secret");
    assert!(p.contains("credential"), "{p}");
}

#[test]
fn a_change_on_disk_shows_the_conflict_and_keeping_mine_merges() {
    // Another editor changes the description and the homepage meanwhile.
    let (mut e, file, disk) = description_edited_on_both_sides(
        110,
        34,
        &[("github.com/bluesky-social/pds", "example.org/pds")],
    );
    // The watcher's news of the same bytes the form read is no news.
    let base = e.form().draft.base_bytes().to_vec();
    crate::tui::update::form_save::on_file_changed(&mut e.app, &file, Some(&base));
    assert!(!e.form().changed_on_disk);
    crate::tui::update::form_save::on_file_changed(&mut e.app, &file, Some(disk.as_bytes()));
    assert!(e.form().changed_on_disk);
    e.act(Action::FormSave);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        disk,
        "never a silent overwrite"
    );
    let Some(Dialog::Conflict(c)) = &e.form().dialog else {
        panic!("no conflict view: {:?}", e.form().dialog);
    };
    let paths: Vec<&str> = c.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["description", "homepage"]);
    assert_eq!(c.choice, [Side::Mine, Side::Disk]);
    assert_eq!(
        c.fields[0].theirs,
        text("Personal data server hosting repositories (disk)")
    );
    e.act(Action::Confirm);
    let merged = std::fs::read_to_string(&file).unwrap();
    assert!(
        merged.contains("description = \"Personal data server hosting user repositories (mine)\""),
        "{merged}"
    );
    assert!(
        merged.contains("homepage = \"https://example.org/pds\""),
        "{merged}"
    );
    assert_eq!(e.form().dialog, None);
    assert!(!e.form().dirty());
}

#[test]
fn in_the_conflict_view_the_disk_can_win_or_the_form_reopens() {
    let (mut e, file, disk) = description_edited_on_both_sides(110, 34, &[]);
    e.act(Action::FormSave);
    e.act(Action::FormTakeDisk);
    e.act(Action::Confirm);
    // Taking the disk's only value leaves nothing to write.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), disk);
    // Re-open: a new conflict, then the form shows the disk's file and no edits.
    e.edit("homepage", "/x");
    std::fs::write(&file, disk.replace("\"MIT\"", "\"ISC\"")).unwrap();
    e.act(Action::FormSave);
    assert!(matches!(e.form().dialog, Some(Dialog::Conflict(_))));
    e.act(Action::FormReopen);
    assert!(!e.form().dirty());
    assert_eq!(e.value("license"), FieldValue::List(vec!["ISC".into()]));
}

#[test]
fn several_services_ask_which_one() {
    let mut e = env(100, 30);
    // A second service on disk first.
    let file = e.file("bluesky-social/pds");
    let mut t = std::fs::read_to_string(&file).unwrap();
    t.push_str(
        "\n[services.pds-worker]\nexec = [\"pds\"]\nports = { http = 3999 }\ndatabase = \"none\"\n",
    );
    std::fs::write(&file, t).unwrap();
    e.select("pds");
    e.act(Action::ServiceForm);
    assert!(matches!(e.form().editing, Some(Editing::Service { .. })));
    e.typed("work");
    e.act(Action::FormEditEnter);
    assert_eq!(e.form().title(), "pds · service pds-worker");
}

#[test]
fn a_secret_file_field_takes_a_path_and_refuses_a_secret_with_the_reason() {
    let mut e = pds_form(100, 30, Action::ServiceForm);
    let path = "services.pds.options.admin_password.default";
    e.edit(path, "ghp_0123456789abcdefghijABCDEFGHIJ012345");
    let form = e.form();
    let (typed, why) = form.pending.get(path).expect("refused, kept pending");
    assert_eq!(*typed, text("ghp_0123456789abcdefghijABCDEFGHIJ012345"));
    assert!(why.contains("looks like a secret"), "{why}");
    assert!(
        !form.draft.render().contains("ghp_0123456789abcdefghij"),
        "the secret is not in the draft"
    );
    let file = e.file("bluesky-social/pds");
    let before = std::fs::read(&file).unwrap();
    e.act(Action::FormSave);
    assert_eq!(std::fs::read(&file).unwrap(), before, "nor in the file");
    // A path is taken (the validator then says a secret-file has no default).
    e.act(Action::FormEdit);
    for _ in 0..40 {
        e.key(EditCode::Backspace);
    }
    e.typed("/run/secrets/pds-admin");
    e.act(Action::FormEditEnter);
    assert!(e.form().pending.is_empty());
    assert_eq!(e.value(path), text("/run/secrets/pds-admin"));
}

#[test]
fn a_save_marks_a_built_package_stale_and_asks_for_its_status_again() {
    use crate::jobs::{JobKind, Outcome, RunRecord};
    let mut e = env(100, 30);
    let record = RunRecord {
        kind: JobKind::Build,
        target: "packages.x86_64-linux.pds".into(),
        outcome: Outcome::Ok,
        failure: None,
        duration_secs: 3.0,
        finished_at: 1,
        drv_path: None,
        out_paths: Vec::new(),
        log_file: None,
        fingerprint: None,
    };
    e.app.statuses.insert(
        "pds".into(),
        crate::jobs::PackageStatus {
            last: record.clone(),
            last_build: Some(record.clone()),
            stale: false,
            cached_in: None,
            history: vec![record],
        },
    );
    e.select("pds");
    let index = e
        .app
        .catalog
        .packages
        .iter()
        .position(|p| p.name == "pds")
        .unwrap();
    assert_eq!(e.app.status(index), crate::tui::app::PackageStatus::Ok);
    e.act(Action::MetadataForm);
    e.edit("description", " too");
    let commands = update(&mut e.app, Action::FormSave);
    let Some(Command::SaveForm { package, draft }) = commands.into_iter().next() else {
        panic!("no save command");
    };
    let mut d = *draft;
    let result = d.save().map(|()| d);
    let after = on_feedback(&mut e.app, Feedback::FormSaved { package, result });
    assert_eq!(after, [Command::RefreshStatus(vec!["pds".into()])]);
    assert_eq!(e.app.status(index), crate::tui::app::PackageStatus::Stale);
}

#[test]
fn form_keys_are_remapped_from_the_config_and_help_lists_them() {
    use std::collections::BTreeMap;
    let keys = BTreeMap::from([(
        "form".to_owned(),
        BTreeMap::from([
            ("w".to_owned(), "form_save".to_owned()),
            ("ctrl-s".to_owned(), "none".to_owned()),
        ]),
    )]);
    let map = KeyMap::with_overrides(&keys, Path::new("config.toml")).unwrap();
    let key = |k| crate::tui::keymap::Key::parse(k).unwrap();
    assert_eq!(map.action(View::Form, &key("w")), Some(Action::FormSave));
    assert_eq!(map.action(View::Form, &key("ctrl-s")), None);
    // Still bound while typing into a field.
    assert_eq!(
        map.action(View::FormEdit, &key("ctrl-s")),
        Some(Action::FormSave)
    );
    let help = map.help_rows();
    let form = help.iter().find(|(v, _)| *v == View::Form).unwrap();
    assert!(
        form.1
            .iter()
            .any(|(k, a)| k == "w" && *a == Action::FormSave)
    );
    // In a form, `?` opens the help over it; closing the help returns to the form.
    let mut e = pds_form(100, 30, Action::MetadataForm);
    e.act(Action::Help);
    assert_eq!(e.app.view(), View::Help);
    e.act(Action::CloseOverlay);
    assert_eq!(e.app.view(), View::Form);
}
