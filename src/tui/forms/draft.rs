//! The one place the forms meet the catalog's field layer: which fields a form shows, their
//! values, validation, structural edits and the save. Everything here is a thin adapter; the
//! rules themselves are the catalog's (`catalog::validate`), never repeated in the UI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, Value};

use crate::catalog::validate::{self, PackageFile};

/// Which form: a package's metadata, or the options of one of its services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Metadata,
    Service(String),
}

/// What kind of editor a field gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    MultiLineText,
    /// One of these values (a pick list with type-to-filter).
    Enum(Vec<String>),
    Integer {
        min: i64,
        max: i64,
    },
    Port,
    Bool,
    /// A list of strings; `choices` makes each item a pick (license ids).
    List {
        choices: Option<Vec<String>>,
    },
    Path,
    /// The path of a file holding a secret, never the secret itself.
    SecretFile,
}

/// A field's value as the form edits it. Numbers stay text while typed, so `30` on the way to
/// `3000` is a value the validator can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Absent,
    Text(String),
    Bool(bool),
    List(Vec<String>),
}

impl FieldValue {
    /// As one line for rows and the conflict view.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Absent => "—".into(),
            FieldValue::Text(t) => t.replace('\n', "⏎"),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::List(items) => format!("[{}]", items.join(", ")),
        }
    }
}

/// One row's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDesc {
    /// Dotted path in the file (`services.pds.ports.http`).
    pub path: String,
    pub label: String,
    pub kind: FieldKind,
    pub value: FieldValue,
    /// The option section the field belongs to (service form), for the section headers.
    pub section: Option<String>,
}

/// A field the file and the form disagree on after the file changed on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictField {
    pub path: String,
    pub label: String,
    pub base: FieldValue,
    pub ours: FieldValue,
    pub theirs: FieldValue,
}

/// Why a save did not happen.
#[derive(Debug, Clone)]
pub enum SaveError {
    /// The file changed on disk since the form read it: `disk` is what it holds now.
    Conflict {
        disk: Box<Draft>,
    },
    Failed(String),
}

/// An edited `package.toml`: the document, and the fingerprint of the bytes it was read from.
#[derive(Debug, Clone)]
pub struct Draft {
    pub path: PathBuf,
    doc: DocumentMut,
    read: Vec<u8>,
}

const SPDX: &str = include_str!("spdx_ids.txt");

/// SPDX license ids offered by the license pick list (the common ones; the validator accepts any
/// well-formed id, typed in with the filter when it is not in the list).
pub fn spdx_ids() -> Vec<String> {
    SPDX.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Draft {
    pub fn read(path: &Path) -> Result<Draft, String> {
        let read = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let text = std::str::from_utf8(&read)
            .map_err(|e| format!("{} is not UTF-8: {e}", path.display()))?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
        Ok(Draft {
            path: path.into(),
            doc,
            read,
        })
    }

    pub fn render(&self) -> String {
        self.doc.to_string()
    }

    /// Whether the document differs from the bytes it was read from.
    pub fn changed(&self) -> bool {
        self.render().as_bytes() != self.read.as_slice()
    }

    fn item(&self, path: &str) -> Option<&Item> {
        let mut item = self.doc.as_item();
        for key in path.split('.') {
            item = item.get(key)?;
        }
        Some(item)
    }

    /// The value at `path` as the form shows it.
    pub fn value(&self, path: &str) -> FieldValue {
        match self.item(path).and_then(Item::as_value) {
            None => FieldValue::Absent,
            Some(Value::String(s)) => FieldValue::Text(s.value().clone()),
            Some(Value::Integer(i)) => FieldValue::Text(i.value().to_string()),
            Some(Value::Boolean(b)) => FieldValue::Bool(*b.value()),
            Some(Value::Array(a)) => FieldValue::List(
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
            ),
            Some(other) => FieldValue::Text(other.to_string().trim().to_owned()),
        }
    }

    /// The service names, in file order.
    pub fn services(&self) -> Vec<String> {
        self.doc
            .get("services")
            .and_then(Item::as_table_like)
            .map(|t| t.iter().map(|(k, _)| k.to_owned()).collect())
            .unwrap_or_default()
    }

    fn table(&self, path: &str) -> Option<&dyn toml_edit::TableLike> {
        self.item(path).and_then(Item::as_table_like)
    }

    /// The rows of a form, in the order they are shown.
    pub fn fields(&self, kind: &FormKind) -> Vec<FieldDesc> {
        match kind {
            FormKind::Metadata => self.metadata_fields(),
            FormKind::Service(s) => self.service_fields(s),
        }
    }

    fn desc(&self, path: String, label: &str, kind: FieldKind, section: Option<&str>) -> FieldDesc {
        FieldDesc {
            value: self.value(&path),
            path,
            label: label.to_owned(),
            kind,
            section: section.map(str::to_owned),
        }
    }

    fn metadata_fields(&self) -> Vec<FieldDesc> {
        use FieldKind as K;
        let rows: Vec<(&str, &str, FieldKind)> = vec![
            ("version", "version", K::Text),
            ("tier", "tier", K::Enum(strings(&["1", "2", "3"]))),
            (
                "category",
                "category",
                K::Enum(strings(&[
                    "infrastructure",
                    "application",
                    "utility",
                    "library",
                ])),
            ),
            ("description", "description", K::Text),
            ("long_description", "long description", K::MultiLineText),
            ("homepage", "homepage", K::Text),
            (
                "license",
                "license",
                K::List {
                    choices: Some(spdx_ids()),
                },
            ),
            ("maintainers", "maintainers", K::List { choices: None }),
            ("platforms", "platforms", K::List { choices: None }),
            ("main_program", "main program", K::Text),
            (
                "build.builder",
                "builder",
                K::Enum(
                    crate::catalog::Builder::ALL
                        .iter()
                        .map(|b| b.as_str().to_owned())
                        .collect(),
                ),
            ),
        ];
        rows.into_iter()
            .map(|(p, l, k)| self.desc(p.to_owned(), l, k, None))
            .collect()
    }

    fn service_fields(&self, service: &str) -> Vec<FieldDesc> {
        use FieldKind as K;
        let base = format!("services.{service}");
        let mut out = vec![self.desc(
            format!("{base}.exec"),
            "exec",
            K::List { choices: None },
            None,
        )];
        if let Some(ports) = self.table(&format!("{base}.ports")) {
            for (name, _) in ports.iter() {
                out.push(self.desc(
                    format!("{base}.ports.{name}"),
                    &format!("port {name}"),
                    K::Port,
                    None,
                ));
            }
        }
        out.push(self.desc(
            format!("{base}.public_ports"),
            "public ports",
            K::List { choices: None },
            None,
        ));
        out.push(self.desc(
            format!("{base}.fixed_listener"),
            "fixed listener",
            K::Bool,
            None,
        ));
        let db = strings(&["none", "postgresql", "sqlite", "rocksdb"]);
        out.push(self.desc(format!("{base}.database"), "database", K::Enum(db), None));
        out.push(self.desc(format!("{base}.health_path"), "health path", K::Path, None));
        out.push(self.desc(format!("{base}.jit"), "jit", K::Bool, None));
        for option in self.options(service) {
            out.extend(self.option_fields(service, &option));
        }
        out
    }

    /// The option names of `service`, in file order.
    pub fn options(&self, service: &str) -> Vec<String> {
        self.table(&format!("services.{service}.options"))
            .map(|t| t.iter().map(|(k, _)| k.to_owned()).collect())
            .unwrap_or_default()
    }

    fn option_fields(&self, service: &str, option: &str) -> Vec<FieldDesc> {
        use FieldKind as K;
        let base = format!("services.{service}.options.{option}");
        let section = Some(option);
        let ty = match self.value(&format!("{base}.type")) {
            FieldValue::Text(t) => t,
            _ => String::new(),
        };
        let types = strings(&[
            "str",
            "int",
            "port",
            "bool",
            "enum",
            "path",
            "secret-file",
            "list",
        ]);
        let mut out = vec![self.desc(format!("{base}.type"), "type", K::Enum(types), section)];
        let values = match self.value(&format!("{base}.values")) {
            FieldValue::List(v) => v,
            _ => Vec::new(),
        };
        let default_kind = match ty.as_str() {
            "int" => Some(K::Integer {
                min: i64::MIN,
                max: i64::MAX,
            }),
            "port" => Some(K::Port),
            "bool" => Some(K::Bool),
            "enum" => Some(K::Enum(values)),
            "path" => Some(K::Path),
            "list" => Some(K::List { choices: None }),
            "secret-file" => None,
            _ => Some(K::Text),
        };
        if let Some(k) = default_kind {
            out.push(self.desc(format!("{base}.default"), "default", k, section));
        }
        out.push(self.desc(
            format!("{base}.description"),
            "description",
            K::Text,
            section,
        ));
        out.push(self.desc(format!("{base}.env"), "env", K::Text, section));
        if ty == "enum" {
            out.push(self.desc(
                format!("{base}.values"),
                "values",
                K::List { choices: None },
                section,
            ));
        }
        if ty == "secret-file" {
            out.push(self.desc(
                format!("{base}.example"),
                "example file",
                K::SecretFile,
                section,
            ));
        }
        out
    }

    /// Writes `value` at `path` as the field's kind asks (a number as an integer when it is one),
    /// keeping the key's comments. Absent removes the key.
    pub fn set(&mut self, path: &str, kind: &FieldKind, value: &FieldValue) -> Result<(), String> {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let table = self.table_mut(parent)?;
        let new: Value = match value {
            FieldValue::Absent => {
                table.remove(key);
                return Ok(());
            }
            FieldValue::Bool(b) => (*b).into(),
            FieldValue::List(items) => items.iter().map(String::as_str).collect::<Array>().into(),
            FieldValue::Text(t) => match kind {
                FieldKind::Integer { .. } | FieldKind::Port => match t.parse::<i64>() {
                    Ok(n) => n.into(),
                    Err(_) => t.as_str().into(),
                },
                FieldKind::Enum(_) if path == "tier" => match t.parse::<i64>() {
                    Ok(n) => n.into(),
                    Err(_) => t.as_str().into(),
                },
                _ => t.as_str().into(),
            },
        };
        set_keeping_decor(table, key, new);
        Ok(())
    }

    fn table_mut(&mut self, path: &str) -> Result<&mut dyn toml_edit::TableLike, String> {
        let mut table = self.doc.as_table_mut() as &mut dyn toml_edit::TableLike;
        if path.is_empty() {
            return Ok(table);
        }
        for part in path.split('.') {
            table = table
                .get_mut(part)
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| format!("there is no [{path}] table"))?;
        }
        Ok(table)
    }

    /// A new option `name` of `service` (a `str` with a description to fill in).
    pub fn add_option(&mut self, service: &str, name: &str) -> Result<(), String> {
        let svc = self.table_mut(&format!("services.{service}"))?;
        if svc.get("options").is_none() {
            let mut t = Table::new();
            t.set_implicit(true);
            svc.insert("options", Item::Table(t));
        }
        let options = self.table_mut(&format!("services.{service}.options"))?;
        if options.contains_key(name) {
            return Err(format!("service {service} already has an option `{name}`"));
        }
        let mut t = Table::new();
        t.insert("type", toml_edit::value("str"));
        t.insert("description", toml_edit::value(""));
        options.insert(name, Item::Table(t));
        Ok(())
    }

    pub fn remove_option(&mut self, service: &str, name: &str) -> Result<(), String> {
        let options = self.table_mut(&format!("services.{service}.options"))?;
        options
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| format!("service {service} has no option `{name}`"))
    }

    /// A new service `name` running the package's main program.
    pub fn add_service(&mut self, name: &str) -> Result<(), String> {
        let program = match self.value("main_program") {
            FieldValue::Text(p) => p,
            _ => name.to_owned(),
        };
        if self.doc.get("services").is_none() {
            let mut t = Table::new();
            t.set_implicit(true);
            self.doc.insert("services", Item::Table(t));
        }
        let services = self.table_mut("services")?;
        if services.contains_key(name) {
            return Err(format!("there is already a service `{name}`"));
        }
        let mut t = Table::new();
        t.insert(
            "exec",
            toml_edit::value(Array::from_iter([program.as_str()])),
        );
        t.insert("database", toml_edit::value("none"));
        services.insert(name, Item::Table(t));
        Ok(())
    }

    pub fn remove_service(&mut self, name: &str) -> Result<(), String> {
        self.table_mut("services")?
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| format!("there is no service `{name}`"))
    }

    /// Problems of the edited document per field path, in the validator's own words (message,
    /// then its hint). Problems not tied to a field are under "".
    pub fn problems(&self) -> BTreeMap<String, String> {
        let text = self.render();
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let folder = dir.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        let org = dir
            .parent()
            .and_then(Path::file_name)
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let checked = validate::check(&PackageFile {
            file: &self.path,
            dir,
            org,
            folder,
            text: &text,
            extra_files: crate::catalog::ExtraFiles {
                package_nix: dir.join("package.nix").is_file(),
                module_nix: dir.join("module.nix").is_file(),
                test_nix: dir.join("test.nix").is_file(),
            },
        });
        let mut out = BTreeMap::new();
        for d in checked.diagnostics {
            let text = match &d.hint {
                Some(h) => format!("{} (hint: {h})", d.message),
                None => d.message.clone(),
            };
            out.entry(d.field).or_insert(text);
        }
        out
    }

    /// Writes the document atomically, refusing (with what the disk holds now) when the file
    /// changed since it was read.
    pub fn save(&mut self) -> Result<(), SaveError> {
        let now = std::fs::read(&self.path)
            .map_err(|e| SaveError::Failed(format!("reading {}: {e}", self.path.display())))?;
        if now != self.read {
            let disk = Draft::read(&self.path).map_err(SaveError::Failed)?;
            return Err(SaveError::Conflict {
                disk: Box::new(disk),
            });
        }
        let text = self.render();
        crate::catalog::edit::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| SaveError::Failed(e.to_string()))?;
        self.read = text.into_bytes();
        Ok(())
    }

    /// This document rebased on `disk`: it will be saved over what the disk holds now.
    pub fn rebase_on(&mut self, disk: &Draft) {
        self.read.clone_from(&disk.read);
    }
}

fn set_keeping_decor(table: &mut dyn toml_edit::TableLike, key: &str, mut new: Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        _ => {
            table.insert(key, Item::Value(new));
        }
    }
}

/// Two drafts are equal when they hold the same text read from the same bytes of the same file.
impl PartialEq for Draft {
    fn eq(&self, other: &Draft) -> bool {
        self.path == other.path && self.read == other.read && self.render() == other.render()
    }
}

impl Eq for Draft {}
