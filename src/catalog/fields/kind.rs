//! [`FieldKind`]: what a field holds, so an editor can be picked and typed text read. Reading
//! text for a kind ([`parse_input`]) and checking a value's shape ([`check_kind`]) are the only
//! rules here; every rule about what a value means is the catalog validator's.

use serde::Serialize;

use crate::catalog::validate::rules::Problem;
use crate::catalog::validate::secrets::looks_like_secret;

/// One value of a pick list and how it is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub value: toml::Value,
    /// What the list shows, e.g. `2 ecosystem service` for tier 2.
    pub label: String,
}

impl Choice {
    /// A string choice shown as itself.
    pub fn text(s: &str) -> Choice {
        Choice {
            value: toml::Value::String(s.to_string()),
            label: s.to_string(),
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Free text over several lines (written as a `"""` string when it has a newline).
    MultiLineText,
    /// One of `choices` (a pick list). `open`: other values are allowed too, the choices are
    /// suggestions (licenses: any SPDX id, the common ones offered).
    Enum {
        choices: Vec<Choice>,
        open: bool,
    },
    /// An integer in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// A port number, 1-65535.
    Port,
    Bool,
    /// A list whose items are of the inner kind (add, remove, reorder).
    List {
        item: Box<FieldKind>,
    },
    /// A table of names to values of the inner kind (`ports`, `env`); its entries are fields too.
    Map {
        value: Box<FieldKind>,
    },
    /// A path (text that is a path only, never a secret itself).
    Path,
    /// The path of a file holding a secret: a path only; a value that looks like a secret
    /// itself is refused with the reason.
    SecretFile,
    /// Any TOML value, edited as TOML text (`smoke`, which is a list or `false`; hardening values).
    Toml,
}

impl FieldKind {
    pub fn list_of(item: FieldKind) -> FieldKind {
        FieldKind::List {
            item: Box::new(item),
        }
    }

    pub fn map_of(value: FieldKind) -> FieldKind {
        FieldKind::Map {
            value: Box::new(value),
        }
    }

    /// A short name for messages (`an integer`, `a list`).
    pub fn describe(&self) -> String {
        match self {
            FieldKind::Text | FieldKind::MultiLineText => "text".into(),
            FieldKind::Enum { choices, .. } => format!(
                "one of {}",
                choices
                    .iter()
                    .map(|c| plain(&c.value))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
            FieldKind::Integer { min, max } => format!("an integer from {min} to {max}"),
            FieldKind::Port => "a port number (1-65535)".into(),
            FieldKind::Bool => "true or false".into(),
            FieldKind::List { .. } => "a list (TOML, e.g. [\"a\", \"b\"])".into(),
            FieldKind::Map { .. } => "a table (TOML, e.g. { a = \"b\" })".into(),
            FieldKind::Path => "a path".into(),
            FieldKind::SecretFile => "the path of a file holding the secret".into(),
            FieldKind::Toml => "a TOML value".into(),
        }
    }
}

/// A value as a person would type it: strings without quotes, the rest as TOML.
pub fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => super::value::render_value(other),
    }
}

fn problem(kind: &FieldKind, text: &str) -> Problem {
    Problem::new(
        format!("`{text}` is not {}", kind.describe()),
        match kind {
            FieldKind::Integer { .. } | FieldKind::Port => "write digits only, e.g. 8080".into(),
            FieldKind::Bool => "write true or false".to_string(),
            FieldKind::List { .. } => "write a TOML array, e.g. '[\"a\", \"b\"]'".into(),
            FieldKind::Enum { choices, .. } => {
                crate::search::did_you_mean(text, choices.iter().map(|c| c.label.as_str()))
                    .map_or_else(
                        || format!("use one of: {}", kind.describe()),
                        |m| format!("did you mean `{m}`?"),
                    )
            }
            _ => "write it as TOML, e.g. \"text\", 10, true or [\"a\"]".into(),
        },
    )
}

/// Read text typed for a field of `kind` into a value: text as it is (no quotes needed),
/// numbers and booleans as written, a pick list's value by its value or label, lists and TOML values as TOML (`["a", "b"]`); for a list of
/// text, a bare word that is not TOML becomes a one-item list. The value is then checked with
/// [`check_kind`].
pub fn parse_input(kind: &FieldKind, text: &str) -> Result<toml::Value, Problem> {
    let value = match kind {
        FieldKind::Text | FieldKind::MultiLineText | FieldKind::Path | FieldKind::SecretFile => {
            toml::Value::String(text.to_string())
        }
        FieldKind::Integer { .. } | FieldKind::Port => text
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| problem(kind, text))?,
        FieldKind::Bool => match text.trim() {
            "true" => toml::Value::Boolean(true),
            "false" => toml::Value::Boolean(false),
            _ => return Err(problem(kind, text)),
        },
        // A value that is no choice is read as what it looks like; the validator then says
        // what is allowed, in its own words (with its did-you-mean).
        FieldKind::Enum { choices, .. } => choices
            .iter()
            .find(|c| plain(&c.value) == text.trim() || c.label == text.trim())
            .map_or_else(
                || match text.trim().parse::<i64>() {
                    Ok(n) if choices.iter().any(|c| c.value.is_integer()) => {
                        toml::Value::Integer(n)
                    }
                    _ => toml::Value::String(text.trim().to_string()),
                },
                |c| c.value.clone(),
            ),
        FieldKind::List { item } => match parse_toml_value(text) {
            Ok(v) => v,
            // A bare word for a list of text is a one-item list (`atwb set x license MIT`).
            Err(_) if is_text_like(item) && !text.trim_start().starts_with('[') => {
                toml::Value::Array(vec![toml::Value::String(text.trim().to_string())])
            }
            Err(_) => return Err(problem(kind, text)),
        },
        FieldKind::Map { .. } | FieldKind::Toml => {
            parse_toml_value(text).map_err(|_| problem(kind, text))?
        }
    };
    check_kind(kind, &value)?;
    Ok(value)
}

fn is_text_like(kind: &FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Text | FieldKind::Path | FieldKind::Enum { .. }
    )
}

/// A TOML value written on its own (`[1, 2]`, `"x"`, `{ a = 1 }`).
pub fn parse_toml_value(text: &str) -> Result<toml::Value, toml::de::Error> {
    #[derive(serde::Deserialize)]
    struct Wrap {
        v: toml::Value,
    }
    toml::from_str::<Wrap>(&format!("v = {text}")).map(|w| w.v)
}

/// Whether `value` has the shape of `kind` (for values built by a form rather than typed):
/// its TOML type, each list item's, and for a path or secret file that it is not a secret
/// itself. What a value may be beyond its type (an enum's choices, a port's range) is the
/// validator's to say, in its own words: [`validate_field`](super::validate_field).
pub fn check_kind(kind: &FieldKind, value: &toml::Value) -> Result<(), Problem> {
    let wrong = || problem(kind, &plain(value));
    match (kind, value) {
        (FieldKind::Text | FieldKind::MultiLineText, toml::Value::String(_)) => Ok(()),
        (FieldKind::Path, toml::Value::String(s)) => secret_problem(s, false),
        (FieldKind::SecretFile, toml::Value::String(s)) => secret_problem(s, true),
        (FieldKind::Integer { min, max }, toml::Value::Integer(n)) => {
            if (min..=max).contains(&n) {
                Ok(())
            } else {
                Err(Problem::new(
                    format!("{n} is out of range"),
                    format!("use an integer from {min} to {max}"),
                ))
            }
        }
        (FieldKind::Port, toml::Value::Integer(_)) => Ok(()),
        (FieldKind::Bool, toml::Value::Boolean(_)) => Ok(()),
        (FieldKind::Enum { choices, .. }, v) => {
            let same_type = choices
                .first()
                .is_none_or(|c| c.value.type_str() == v.type_str());
            if same_type { Ok(()) } else { Err(wrong()) }
        }
        (FieldKind::List { item }, toml::Value::Array(items)) => {
            items.iter().try_for_each(|i| check_kind(item, i))
        }
        (FieldKind::Map { value: inner }, toml::Value::Table(t)) => {
            t.values().try_for_each(|v| check_kind(inner, v))
        }
        (FieldKind::Toml, _) => Ok(()),
        _ => Err(wrong()),
    }
}

/// A path field refuses text that is a secret rather than the path of one.
fn secret_problem(s: &str, secret_file: bool) -> Result<(), Problem> {
    let Some(reason) = looks_like_secret(s) else {
        return Ok(());
    };
    let what = if secret_file {
        "this field takes the path of the file holding the secret"
    } else {
        "this field takes a path"
    };
    Err(Problem::new(
        format!("the value looks like a secret itself ({reason}): {what}, never the secret"),
        "write a path such as /run/secrets/<name> and put the secret in that file, outside the Nix store",
    ))
}
