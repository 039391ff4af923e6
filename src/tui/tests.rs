//! Snapshot tests of the views on `TestBackend`, against `tests/fixtures/tui-catalog`.
//! Update after an intended change with `INSTA_UPDATE=always cargo test --lib tui::tests`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::action::Action;
use super::app::{App, Row};
use super::keymap::KeyMap;
use super::update::update;
use super::views;

fn fixture_app(width: u16, height: u16) -> App {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
    let loaded = crate::catalog::load(&root).expect("fixture catalog loads");
    assert!(
        loaded.diagnostics.is_empty(),
        "fixture must be valid: {:?}",
        loaded.diagnostics
    );
    let mut app = App::new(
        loaded.catalog,
        "tests/fixtures/tui-catalog/".into(),
        0,
        KeyMap::default(),
    );
    update(&mut app, Action::Resize { width, height });
    app
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t
}

fn select(app: &mut App, name: &str) {
    let pos = app
        .rows
        .iter()
        .position(
            |r| matches!(r, Row::Package { index } if app.catalog.packages[*index].name == name),
        )
        .unwrap_or_else(|| panic!("{name} is not in the tree"));
    app.selected = pos;
}

#[test]
fn main_screen() {
    let app = fixture_app(120, 30);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn search_highlights_matched_characters() {
    let mut app = fixture_app(120, 30);
    update(&mut app, Action::Search);
    for c in "cnstl".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    let t = render(&app);
    insta::assert_snapshot!(t.backend());

    // The tree line `◌ constellation` highlights c, n, s, t, l of the name.
    let buf = t.backend().buffer();
    let y = (0..app.height)
        .find(|&y| row_text(buf, y).contains("◌ constellation"))
        .unwrap();
    let line = row_text(buf, y);
    let x0 = line.chars().position(|c| c == '◌').unwrap() as u16 + 2;
    let hl: String = (0..13u16)
        .filter(|&i| buf[(x0 + i, y)].modifier.contains(Modifier::UNDERLINED))
        .map(|i| buf[(x0 + i, y)].symbol().to_owned())
        .collect();
    assert_eq!(hl, "cnstl", "highlighted characters of the tree line");
    // `slingshot` matches nothing and is hidden.
    assert!(!(0..app.height).any(|y| row_text(buf, y).contains("slingshot")));
}

#[test]
fn help_overlay() {
    let mut app = fixture_app(100, 44);
    update(&mut app, Action::Help);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn detail_of_package_with_services_and_options() {
    let mut app = fixture_app(120, 40);
    select(&mut app, "pds");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn detail_of_workspace_member_with_two_options() {
    let mut app = fixture_app(120, 40);
    select(&mut app, "constellation");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn narrow_terminal_shows_one_pane() {
    let mut app = fixture_app(50, 16);
    insta::assert_snapshot!("narrow_tree", render(&app).backend());
    update(&mut app, Action::NextPane);
    insta::assert_snapshot!("narrow_detail", render(&app).backend());
}

#[test]
fn tier_and_category_filters_in_title_and_status() {
    let mut app = fixture_app(100, 16);
    update(&mut app, Action::FilterTier1);
    update(&mut app, Action::CycleCategory); // infrastructure
    insta::assert_snapshot!(render(&app).backend());
}

fn row_text(buf: &ratatui::buffer::Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

#[test]
fn detail_scrolls_exactly_to_its_last_wrapped_line() {
    // Narrow enough that the long lines wrap; Bottom must land with `status` as the last line.
    let mut app = fixture_app(80, 12);
    select(&mut app, "pds");
    update(&mut app, Action::NextPane);
    update(&mut app, Action::Bottom);
    let t = render(&app);
    let buf = t.backend().buffer();
    let last_inner_row = app.height - 3; // title bar, bottom border, status bar
    assert!(
        row_text(buf, last_inner_row).contains("status    ◌ never built"),
        "{}",
        t.backend()
    );
    update(&mut app, Action::MoveDown);
    assert_eq!(
        render(&app).backend().buffer(),
        buf,
        "already at the bottom"
    );
}
