//! Snapshots of the forms on `TestBackend`: the metadata form, the service form with an inline
//! error, the conflict view, a pick list and the multi-line editor.
//! Update after an intended change with `INSTA_UPDATE=always cargo test --lib tui::forms`.

use super::env;
use crate::tui::action::Action;
use crate::tui::forms::EditCode;
use crate::tui::keymap::View;

#[test]
fn snapshot_metadata_form() {
    let mut e = env(100, 30);
    e.select("pds");
    e.act(Action::MetadataForm);
    e.focus("description");
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_service_form_with_an_inline_error() {
    let mut e = env(100, 34);
    e.select("pds");
    e.act(Action::ServiceForm);
    e.focus("services.pds.health_path");
    e.act(Action::FormEdit);
    for _ in 0.."/xrpc/_health".len() {
        e.key(EditCode::Backspace);
    }
    e.typed("xrpc");
    e.act(Action::FormEditEnter);
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_conflict_view() {
    let mut e = env(110, 34);
    let file = e.file("bluesky-social/pds");
    e.select("pds");
    e.act(Action::MetadataForm);
    e.focus("description");
    e.act(Action::FormEdit);
    e.typed(" (mine)");
    e.act(Action::FormEditEnter);
    let disk = std::fs::read_to_string(&file).unwrap().replace(
        "hosting user repositories\"",
        "hosting repositories (disk)\"",
    );
    std::fs::write(&file, disk).unwrap();
    e.act(Action::FormSave);
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_license_pick_list_filtered_by_typing() {
    let mut e = env(100, 30);
    e.select("pds");
    e.act(Action::MetadataForm);
    e.focus("license");
    e.act(Action::FormAddItem);
    e.typed("gpl-3");
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_multi_line_editor_in_place() {
    let mut e = env(100, 24);
    e.select("pds");
    e.act(Action::MetadataForm);
    e.focus("long_description");
    e.act(Action::FormEdit);
    e.act(Action::FormEditEnter);
    e.typed("Second line.");
    assert_eq!(e.app.view(), View::FormEdit, "enter is a newline here");
    insta::assert_snapshot!(e.render().backend());
}
