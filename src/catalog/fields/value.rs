//! Values between the three forms they take: `toml::Value` (what the API hands out and takes),
//! `toml_edit` items (what the file is edited as), and TOML text (what messages show).

use super::path::FieldPath;

/// A value as TOML writes it inline: `"text"`, `10`, `["a", "b"]`, `{ a = 1 }`.
pub fn render_value(v: &toml::Value) -> String {
    to_edit(v, false).to_string().trim().to_string()
}

/// The toml_edit value for `v`. With `multiline`, a string holding a newline is written as a
/// `"""` string (long descriptions stay readable in the file).
pub fn to_edit(v: &toml::Value, multiline: bool) -> toml_edit::Value {
    match v {
        toml::Value::String(s) if multiline && s.contains('\n') => {
            multiline_string(s).unwrap_or_else(|| toml_edit::Value::from(s.as_str()))
        }
        toml::Value::String(s) => toml_edit::Value::from(s.as_str()),
        toml::Value::Integer(n) => toml_edit::Value::from(*n),
        toml::Value::Float(f) => toml_edit::Value::from(*f),
        toml::Value::Boolean(b) => toml_edit::Value::from(*b),
        toml::Value::Datetime(d) => toml_edit::Value::from(d.to_string()),
        toml::Value::Array(items) => {
            let mut a = toml_edit::Array::new();
            for item in items {
                a.push(to_edit(item, false));
            }
            toml_edit::Value::Array(a)
        }
        toml::Value::Table(t) => {
            let mut inline = toml_edit::InlineTable::new();
            for (k, item) in t {
                inline.insert(k, to_edit(item, false));
            }
            toml_edit::Value::InlineTable(inline)
        }
    }
}

/// `"""` + newline + the text with `\` and control characters escaped (and a `"` escaped where
/// it would end the string), parsed back to make sure it says exactly `s`.
fn multiline_string(s: &str) -> Option<toml_edit::Value> {
    let mut out = String::from("\"\"\"\n");
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' if i + 1 == chars.len() || out.ends_with("\"\"") => out.push_str("\\\""),
            '\n' | '\t' | '"' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\"\"\"");
    let parsed: toml_edit::Value = out.parse().ok()?;
    (parsed.as_str() == Some(s)).then_some(parsed)
}

/// The plain value of a toml_edit item (None for an array of tables or nothing).
pub fn from_item(item: &toml_edit::Item) -> Option<toml::Value> {
    match item {
        toml_edit::Item::None | toml_edit::Item::ArrayOfTables(_) => None,
        toml_edit::Item::Value(v) => Some(from_edit(v)),
        toml_edit::Item::Table(t) => Some(toml::Value::Table(
            t.iter()
                .filter_map(|(k, i)| Some((k.to_string(), from_item(i)?)))
                .collect(),
        )),
    }
}

fn from_edit(v: &toml_edit::Value) -> toml::Value {
    match v {
        toml_edit::Value::String(s) => toml::Value::String(s.value().clone()),
        toml_edit::Value::Integer(n) => toml::Value::Integer(*n.value()),
        toml_edit::Value::Float(f) => toml::Value::Float(*f.value()),
        toml_edit::Value::Boolean(b) => toml::Value::Boolean(*b.value()),
        toml_edit::Value::Datetime(d) => toml::Value::String(d.value().to_string()),
        toml_edit::Value::Array(a) => toml::Value::Array(a.iter().map(from_edit).collect()),
        toml_edit::Value::InlineTable(t) => toml::Value::Table(
            t.iter()
                .map(|(k, v)| (k.to_string(), from_edit(v)))
                .collect(),
        ),
    }
}

/// The value at `path` of a plain table.
pub fn lookup<'a>(table: &'a toml::Table, path: &FieldPath) -> Option<&'a toml::Value> {
    let (first, rest) = path.keys().split_first()?;
    let mut v = table.get(first)?;
    for key in rest {
        v = v.as_table()?.get(key)?;
    }
    Some(v)
}

/// Every leaf where `a` and `b` differ: tables are walked, anything else (arrays included) is
/// compared whole. Each entry is (path, value in `a`, value in `b`), in key order.
pub fn diff_values(
    a: &toml::Table,
    b: &toml::Table,
) -> Vec<(FieldPath, Option<toml::Value>, Option<toml::Value>)> {
    let mut out = Vec::new();
    diff_into(&FieldPath::new::<String>([]), Some(a), Some(b), &mut out);
    out
}

fn diff_into(
    at: &FieldPath,
    a: Option<&toml::Table>,
    b: Option<&toml::Table>,
    out: &mut Vec<(FieldPath, Option<toml::Value>, Option<toml::Value>)>,
) {
    let empty = toml::Table::new();
    let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = at.child(key);
        match (a.get(key), b.get(key)) {
            (x, y) if x == y => {}
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                diff_into(&path, Some(x), Some(y), out);
            }
            (Some(toml::Value::Table(x)), None) => diff_into(&path, Some(x), None, out),
            (None, Some(toml::Value::Table(y))) => diff_into(&path, None, Some(y), out),
            (x, y) => out.push((path, x.cloned(), y.cloned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_strings_round_trip_exactly() {
        for s in [
            "one\ntwo",
            "ends in a quote\"",
            "three \"\"\" quotes\nand a \\ backslash",
            "tab\tand\u{7}bell\n",
            "\n",
        ] {
            let v = to_edit(&toml::Value::String(s.into()), true);
            assert_eq!(v.as_str(), Some(s), "{v}");
            let doc: toml_edit::DocumentMut = format!("x = {v}").parse().unwrap();
            assert_eq!(doc["x"].as_str(), Some(s));
        }
        let v = to_edit(&toml::Value::String("a\nb".into()), true);
        assert!(v.to_string().starts_with("\"\"\"\n"), "{v}");
    }

    #[test]
    fn diff_walks_tables_and_compares_arrays_whole() {
        let a: toml::Table = toml::from_str("x = 1\n[s]\nl = [1]\nk = 'a'\n").unwrap();
        let b: toml::Table = toml::from_str("x = 1\n[s]\nl = [1, 2]\nn = true\n").unwrap();
        let d: Vec<String> = diff_values(&a, &b)
            .iter()
            .map(|(p, x, y)| format!("{p}: {x:?} -> {y:?}"))
            .collect();
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("s.k: Some"), "{d:?}");
        assert!(d[1].starts_with("s.l: Some"), "{d:?}");
        assert!(d[2].starts_with("s.n: None"), "{d:?}");
    }
}
