//! The set-up the form tests share: a real copy of the TUI fixture catalog in a temp dir, an
//! `App` on it, and actions whose commands are performed here as effects would (synchronously,
//! the results fed back), with short ways to open a form, move to a field and type into it.

use std::path::{Path, PathBuf};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::super::{EditCode, EditKey, FieldValue, Form, Row};
use crate::tui::action::{Action, Command, Feedback};
use crate::tui::app::{App, Overlay};
use crate::tui::keymap::KeyMap;
use crate::tui::update::{on_feedback, update};
use crate::tui::views;

pub(super) struct Env {
    _dir: tempfile::TempDir,
    pub(super) root: PathBuf,
    pub(super) app: App,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The app on a fresh copy of the fixture catalog, in a `width`x`height` terminal.
pub(super) fn env(width: u16, height: u16) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-catalog");
    let root = dir.path().join("catalog");
    copy_dir(&fixture, &root);
    let loaded = crate::catalog::load(&root).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let mut app = App::new(loaded.catalog, "catalog/".into(), 0, KeyMap::default());
    app.statuses_loaded = true;
    update(&mut app, Action::Resize { width, height });
    Env {
        _dir: dir,
        root,
        app,
    }
}

/// [`env`] with `pds` selected and the form `open` (`MetadataForm` or `ServiceForm`) on it.
pub(super) fn pds_form(width: u16, height: u16, open: Action) -> Env {
    let mut e = env(width, height);
    e.select("pds");
    e.act(open);
    e
}

/// The pds metadata form with " (mine)" typed after its description, and the file changed
/// on disk meanwhile as another editor would: its description, then each `(from, to)` of
/// `also` replaced. Returns the form, the file and what is on disk now.
pub(super) fn description_edited_on_both_sides(
    width: u16,
    height: u16,
    also: &[(&str, &str)],
) -> (Env, PathBuf, String) {
    let mut e = pds_form(width, height, Action::MetadataForm);
    let file = e.file("bluesky-social/pds");
    e.edit("description", " (mine)");
    let mut disk = std::fs::read_to_string(&file).unwrap().replace(
        "hosting user repositories\"",
        "hosting repositories (disk)\"",
    );
    for (from, to) in also {
        disk = disk.replace(from, to);
    }
    std::fs::write(&file, &disk).unwrap();
    (e, file, disk)
}

impl Env {
    pub(super) fn file(&self, rel: &str) -> PathBuf {
        self.root.join("pkgs").join(rel).join("package.toml")
    }

    pub(super) fn select(&mut self, name: &str) {
        let app = &mut self.app;
        app.selected = app
            .rows
            .iter()
            .position(|r| {
                matches!(r, crate::tui::app::Row::Package { index }
                    if app.catalog.packages[*index].name == name)
            })
            .unwrap();
    }

    /// One action, its commands performed as effects would.
    pub(super) fn act(&mut self, action: Action) {
        let commands = update(&mut self.app, action);
        self.perform(commands);
    }

    fn perform(&mut self, commands: Vec<Command>) {
        for c in commands {
            let feedback = match c {
                Command::OpenForm {
                    package,
                    path,
                    kind,
                } => Feedback::FormOpened {
                    package,
                    kind,
                    result: super::super::Draft::read(
                        &path,
                        super::super::Draft::context(&self.app.catalog, &path),
                    ),
                },
                Command::SaveForm { package, draft } => {
                    let mut d = *draft;
                    let result = d.save().map(|()| d);
                    Feedback::FormSaved { package, result }
                }
                _ => continue,
            };
            let more = on_feedback(&mut self.app, feedback);
            self.perform(more);
        }
    }

    pub(super) fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.act(Action::FormKey(EditKey::char(c)));
        }
    }

    pub(super) fn key(&mut self, code: EditCode) {
        self.act(Action::FormKey(EditKey::plain(code)));
    }

    /// Focus on the field at `path`, edit it, type `text` (after what is there) and enter it.
    pub(super) fn edit(&mut self, path: &str, text: &str) {
        self.focus(path);
        self.act(Action::FormEdit);
        self.typed(text);
        self.act(Action::FormEditEnter);
    }

    /// [`edit`](Env::edit), erasing `erase` characters before typing.
    pub(super) fn retype(&mut self, path: &str, erase: usize, text: &str) {
        self.focus(path);
        self.act(Action::FormEdit);
        for _ in 0..erase {
            self.key(EditCode::Backspace);
        }
        self.typed(text);
        self.act(Action::FormEditEnter);
    }

    pub(super) fn form(&self) -> &Form {
        match self.app.overlays.last() {
            Some(Overlay::Form(f)) => f,
            other => panic!("no form on top: {other:?}"),
        }
    }

    /// The index in the form's fields of the field at `path`.
    pub(super) fn field(&self, path: &str) -> usize {
        self.form()
            .fields
            .iter()
            .position(|f| f.path == path)
            .unwrap()
    }

    /// Moves the focus to the row of the field at `path`.
    pub(super) fn focus(&mut self, path: &str) {
        let i = self.field(path);
        let form = self.form();
        let row = form.rows.iter().position(|r| *r == Row::Field(i)).unwrap();
        let here = form.focus;
        let (action, n) = if row >= here {
            (Action::MoveDown, row - here)
        } else {
            (Action::MoveUp, here - row)
        };
        for _ in 0..n {
            self.act(action);
        }
        assert_eq!(self.form().focus, row);
    }

    pub(super) fn value(&self, path: &str) -> FieldValue {
        self.form().fields[self.field(path)].value.clone()
    }

    pub(super) fn render(&self) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(self.app.width, self.app.height)).unwrap();
        t.draw(|f| views::draw(f, &self.app)).unwrap();
        t
    }
}

/// The lines of `new` that differ from `old` (same line count expected).
pub(super) fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    assert_eq!(old.lines().count(), new.lines().count(), "{new}");
    old.lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

pub(super) fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}
