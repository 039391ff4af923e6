//! Edits of the toml_edit document that keep everything else as it was: a changed value keeps
//! its key's comments and its own trailing comment, a removed key's comment lines move to the
//! next key, new keys go where the format lists them, new tables right after their siblings.

use serde::Serialize;
use toml_edit::{Array, DocumentMut, Item, Table, TableLike, Value};

use super::path::FieldPath;
use super::value::{from_item, to_edit};
use crate::catalog::model::OptionType;

/// An edit of the file's structure, beyond setting one field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Structural {
    /// A new `[services.<name>]` running `exec` (the program, then arguments).
    AddService {
        name: String,
        exec: Vec<String>,
    },
    /// Remove `[services.<name>]` with its options and hardening exceptions.
    RemoveService {
        name: String,
    },
    /// A new `[services.<service>.options.<name>]` of type `ty`.
    AddOption {
        service: String,
        name: String,
        ty: OptionType,
        description: String,
    },
    RemoveOption {
        service: String,
        name: String,
    },
    /// Insert `value` into the list at `list` before position `index` (at the end when
    /// `index` is its length); the list is created when absent.
    ListInsert {
        list: FieldPath,
        index: usize,
        value: toml::Value,
    },
    ListRemove {
        list: FieldPath,
        index: usize,
    },
    /// Move the item at `from` to position `to` (the others keep their order).
    ListMove {
        list: FieldPath,
        from: usize,
        to: usize,
    },
}

impl Structural {
    /// The table or list the edit is about.
    pub fn path(&self) -> FieldPath {
        match self {
            Structural::AddService { name, .. } | Structural::RemoveService { name } => {
                FieldPath::new(["services", name])
            }
            Structural::AddOption { service, name, .. }
            | Structural::RemoveOption { service, name } => {
                FieldPath::new(["services", service, "options", name])
            }
            Structural::ListInsert { list, .. }
            | Structural::ListRemove { list, .. }
            | Structural::ListMove { list, .. } => list.clone(),
        }
    }
}

/// A refused edit: message and hint.
pub type Refusal = (String, String);

fn refusal(message: impl Into<String>, hint: impl Into<String>) -> Refusal {
    (message.into(), hint.into())
}

/// The table-like item at `keys` (a `[table]`, an inline table or an implicit one).
fn table_at<'d>(doc: &'d DocumentMut, keys: &[String]) -> Option<&'d dyn TableLike> {
    let mut t: &dyn TableLike = doc.as_table();
    for key in keys {
        t = t.get(key)?.as_table_like()?;
    }
    Some(t)
}

fn table_at_mut<'d>(doc: &'d mut DocumentMut, keys: &[String]) -> Option<&'d mut dyn TableLike> {
    let mut t: &mut dyn TableLike = doc.as_table_mut();
    for key in keys {
        t = t.get_mut(key)?.as_table_like_mut()?;
    }
    Some(t)
}

/// The keys of the table at `path`, in file order.
pub fn table_keys(doc: &DocumentMut, path: &FieldPath) -> Vec<String> {
    table_at(doc, path.keys())
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

/// The table-like at `keys`, creating what is missing: a top-level section as a `[table]`,
/// anything deeper as an inline table (`ports = { http = 80 }`).
fn ensure_table<'d>(
    doc: &'d mut DocumentMut,
    keys: &[String],
) -> Result<&'d mut dyn TableLike, String> {
    let mut t: &mut dyn TableLike = doc.as_table_mut();
    for (depth, key) in keys.iter().enumerate() {
        if t.get(key).is_none() {
            let item = if depth == 0 {
                Item::Table(Table::new())
            } else {
                Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
            };
            t.insert(key, item);
        }
        t = t
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| format!("`{key}` is a value, not a table"))?;
    }
    Ok(t)
}

/// Set the value at `path`, keeping the decor (spacing, trailing comment) of the value it
/// replaces; an equal value is left exactly as written. `order` is the format's key order of
/// the parent table, where a new key is placed.
pub fn set_value(
    doc: &mut DocumentMut,
    path: &FieldPath,
    value: &toml::Value,
    multiline: bool,
    order: &[String],
) -> Result<(), String> {
    let (leaf, parents) = path.keys().split_last().ok_or("empty field path")?;
    let table = ensure_table(doc, parents)?;
    if let Some(item) = table.get_mut(leaf).filter(|i| !i.is_none()) {
        let Item::Value(old) = item else {
            return Err(format!("`{path}` is a table in the file, not a value"));
        };
        if from_item(&Item::Value(old.clone())).as_ref() != Some(value) {
            let mut new = to_edit(value, multiline);
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        return Ok(());
    }
    table.insert(leaf, Item::Value(to_edit(value, multiline)));
    // An inline table keeps insertion order; a standard one gets the format's order.
    if let Some(t) = plain_table_mut(doc, parents) {
        place_in_order(t, leaf, order);
    }
    Ok(())
}

/// Move the newly inserted `key` after the last key that comes before it in `order` (the
/// others keep their places).
fn place_in_order(table: &mut Table, key: &str, order: &[String]) {
    let Some(rank_of_new) = order.iter().position(|k| k == key) else {
        return;
    };
    let existing: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| k != key)
        .collect();
    let before = existing.iter().rposition(|k| {
        order
            .iter()
            .position(|o| o == k)
            .is_some_and(|r| r < rank_of_new)
    });
    let at = match before {
        Some(i) => i + 1,
        None if existing.iter().any(|k| order.contains(k)) => 0,
        None => existing.len(),
    };
    let mut wanted = existing;
    wanted.insert(at, key.to_string());
    let rank = |k: &str| wanted.iter().position(|w| w == k).unwrap_or(usize::MAX);
    table.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
}

/// The standard table (`[header]` or implicit) at `keys`; None when any is inline or missing.
fn plain_table_mut<'d>(doc: &'d mut DocumentMut, keys: &[String]) -> Option<&'d mut Table> {
    let mut t = doc.as_table_mut();
    for key in keys {
        t = t.get_mut(key)?.as_table_mut()?;
    }
    Some(t)
}

/// Remove the key at `path`; comment lines above it move to the key after it, so no comment
/// is lost. Nothing to do when it is not there.
pub fn unset(doc: &mut DocumentMut, path: &FieldPath) {
    let Some((leaf, parents)) = path.keys().split_last() else {
        return;
    };
    let Some(table) = table_at_mut(doc, parents) else {
        return;
    };
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let Some(i) = keys.iter().position(|k| k == leaf) else {
        return;
    };
    let comment = table
        .key_mut(leaf)
        .and_then(|k| {
            k.leaf_decor()
                .prefix()
                .and_then(|p| p.as_str())
                .map(str::to_string)
        })
        .filter(|p| p.contains('#'));
    table.remove(leaf);
    let Some(comment) = comment else {
        return;
    };
    if let Some(next) = keys.get(i + 1)
        && let Some(mut k) = table.key_mut(next)
    {
        let own = k
            .leaf_decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        k.leaf_decor_mut().set_prefix(format!("{comment}{own}"));
        return;
    }
    // The last key of a `[table]`: the comment lines stay under its header.
    if let Some(t) = plain_table_mut(doc, parents).filter(|t| !t.is_implicit()) {
        let header = t
            .decor()
            .suffix()
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string();
        let comment = comment.trim_end_matches('\n').trim_start_matches('\n');
        t.decor_mut().set_suffix(format!("{header}\n{comment}"));
    }
}

/// Apply a structural edit.
pub fn apply_structural(doc: &mut DocumentMut, s: &Structural) -> Result<(), Refusal> {
    match s {
        Structural::AddService { name, exec } => add_service(doc, name, exec),
        Structural::RemoveService { name } => remove_table(doc, &["services", name], "service"),
        Structural::AddOption {
            service,
            name,
            ty,
            description,
        } => add_option(doc, service, name, *ty, description),
        Structural::RemoveOption { service, name } => {
            remove_table(doc, &["services", service, "options", name], "option")
        }
        Structural::ListInsert { list, index, value } => {
            let a = array_at(doc, list, true)?;
            if *index > a.len() {
                return Err(out_of_range(list, *index, a.len()));
            }
            let mut v = to_edit(value, false);
            // Take the neighbour's layout, so a one-per-line list stays one per line.
            let like = a.get(*index).or_else(|| a.get(a.len().wrapping_sub(1)));
            if let Some(like) = like {
                *v.decor_mut() = like.decor().clone();
            }
            if *index == 0
                && !a.is_empty()
                && a.get(0)
                    .is_some_and(|f| f.decor().prefix().and_then(|p| p.as_str()) == Some(""))
            {
                // The old first item gets the separator space the first item does not have.
                if let Some(first) = a.get_mut(0) {
                    first.decor_mut().set_prefix(" ");
                }
            }
            a.insert_formatted(*index, v);
            Ok(())
        }
        Structural::ListRemove { list, index } => {
            let a = array_at(doc, list, false)?;
            if *index >= a.len() {
                return Err(out_of_range(list, *index, a.len()));
            }
            let decor = a.get(*index).map(|v| v.decor().clone());
            a.remove(*index);
            // The new first item takes the removed first item's layout (no leading space).
            if *index == 0
                && let (Some(decor), Some(first)) = (decor, a.get_mut(0))
            {
                let suffix = first.decor().suffix().cloned();
                *first.decor_mut() = decor;
                if let Some(s) = suffix {
                    first.decor_mut().set_suffix(s);
                }
            }
            Ok(())
        }
        Structural::ListMove { list, from, to } => {
            let a = array_at(doc, list, false)?;
            let n = a.len();
            if *from >= n || *to >= n {
                return Err(out_of_range(list, (*from).max(*to), n));
            }
            // Values move, the layout of each position stays.
            let decors: Vec<_> = a.iter().map(|v| v.decor().clone()).collect();
            let mut values: Vec<Value> = a.iter().cloned().collect();
            let moved = values.remove(*from);
            values.insert(*to, moved);
            for (i, (mut v, d)) in values.into_iter().zip(decors).enumerate() {
                *v.decor_mut() = d;
                a.replace_formatted(i, v);
            }
            Ok(())
        }
    }
}

fn out_of_range(list: &FieldPath, index: usize, len: usize) -> Refusal {
    refusal(
        format!("position {index} is outside the list ({len} items)"),
        format!("`{list}` has positions 0 to {}", len.saturating_sub(1)),
    )
}

fn array_at<'d>(
    doc: &'d mut DocumentMut,
    list: &FieldPath,
    create: bool,
) -> Result<&'d mut Array, Refusal> {
    let (leaf, parents) = list
        .keys()
        .split_last()
        .ok_or_else(|| refusal("empty field path", "name a list field"))?;
    let table = ensure_table(doc, parents).map_err(|m| refusal(m, "edit the file by hand"))?;
    if create && table.get(leaf).is_none() {
        table.insert(leaf, Item::Value(Value::Array(Array::new())));
    }
    table
        .get_mut(leaf)
        .and_then(Item::as_array_mut)
        .ok_or_else(|| {
            refusal(
                format!("`{list}` is not a list in the file"),
                "set it to a list first, e.g. []",
            )
        })
}

fn add_service(doc: &mut DocumentMut, name: &str, exec: &[String]) -> Result<(), Refusal> {
    let services = services_table(doc)?;
    if services.contains_key(name) {
        return Err(refusal(
            format!("service `{name}` already exists"),
            "choose another name",
        ));
    }
    let mut t = Table::new();
    let argv: Array = exec.iter().map(String::as_str).collect();
    t.insert("exec", Item::Value(Value::Array(argv)));
    services.insert(name, Item::Table(t));
    Ok(())
}

/// `services` as a table (created implicit: no `[services]` header of its own).
fn services_table(doc: &mut DocumentMut) -> Result<&mut Table, Refusal> {
    if doc.get("services").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert("services", Item::Table(t));
    }
    doc.get_mut("services")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            refusal(
                "`services` is not a table of [services.<name>] sections",
                "edit the file by hand",
            )
        })
}

fn add_option(
    doc: &mut DocumentMut,
    service: &str,
    name: &str,
    ty: OptionType,
    description: &str,
) -> Result<(), Refusal> {
    let services = services_table(doc)?;
    let svc = services
        .get_mut(service)
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            refusal(
                format!("there is no service `{service}`"),
                "add the service first",
            )
        })?;
    if svc.get("options").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        svc.insert("options", Item::Table(t));
    }
    let options = svc
        .get_mut("options")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            refusal(
                "`options` is not a table of [..options.<name>] sections",
                "edit the file by hand",
            )
        })?;
    if options.contains_key(name) {
        return Err(refusal(
            format!("option `{name}` already exists"),
            "choose another name",
        ));
    }
    let mut t = Table::new();
    t.insert("type", Item::Value(Value::from(ty.as_str())));
    t.insert("description", Item::Value(Value::from(description)));
    options.insert(name, Item::Table(t));
    Ok(())
}

fn remove_table(doc: &mut DocumentMut, keys: &[&str], what: &str) -> Result<(), Refusal> {
    let keys: Vec<String> = keys.iter().map(|k| (*k).to_string()).collect();
    let (leaf, parents) = keys.split_last().expect("non-empty");
    let table = table_at_mut(doc, parents);
    match table {
        Some(t) if t.contains_key(leaf) => {
            t.remove(leaf);
            Ok(())
        }
        _ => Err(refusal(
            format!("there is no {what} `{leaf}`"),
            format!("the {what}s are listed in the form"),
        )),
    }
}
