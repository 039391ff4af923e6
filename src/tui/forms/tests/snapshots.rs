//! Snapshots of the forms on `TestBackend`: the metadata form, the service form with an inline
//! error, the conflict view, a pick list and the multi-line editor.
//! Update after an intended change with `INSTA_UPDATE=always cargo test --lib tui::forms`.

use super::support::{description_edited_on_both_sides, pds_form};
use crate::tui::action::Action;
use crate::tui::keymap::View;

#[test]
fn snapshot_metadata_form() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    e.focus("description");
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_service_form_with_an_inline_error() {
    let mut e = pds_form(100, 34, Action::ServiceForm);
    e.retype("services.pds.health_path", "/xrpc/_health".len(), "xrpc");
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_conflict_view() {
    let (mut e, _, _) = description_edited_on_both_sides(110, 34, &[]);
    e.act(Action::FormSave);
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_license_pick_list_filtered_by_typing() {
    let mut e = pds_form(100, 30, Action::MetadataForm);
    e.focus("license");
    e.act(Action::FormAddItem);
    e.typed("gpl-3");
    insta::assert_snapshot!(e.render().backend());
}

#[test]
fn snapshot_multi_line_editor_in_place() {
    let mut e = pds_form(100, 24, Action::MetadataForm);
    e.focus("long_description");
    e.act(Action::FormEdit);
    e.act(Action::FormEditEnter);
    e.typed("Second line.");
    assert_eq!(e.app.view(), View::FormEdit, "enter is a newline here");
    insta::assert_snapshot!(e.render().backend());
}
