//! Option `example` and `example_generate`: the sample values the VM tests use. An option
//! without a default needs an example of its type (a URL for URL options); a secret-file option
//! may name the package's own program that writes a sample file.

use toml_spanner::Kind;

use super::doc::{self, Doc, Table, Value};
use super::rules::{self, Placeholder, Problem};
use crate::catalog::model::OptionType;

/// The option being read, as far as it is known.
pub(super) struct OptionShape<'a> {
    pub name: &'a str,
    /// None when `type` itself was invalid (reported elsewhere).
    pub ty: Option<OptionType>,
    pub values: &'a [String],
}

/// `example`: Some(None) when absent and not needed, None when reported.
pub(super) fn read_example(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    o: &OptionShape<'_>,
) -> Option<Option<toml::Value>> {
    let Some(ty) = o.ty else {
        return Some(None);
    };
    let v = match (t.get("example"), ty) {
        (Some(v), OptionType::SecretFile) => {
            let p = Problem::new(
                "a secret-file option has no example value: a sample secret would be in the store",
                "remove `example`; the VM test writes the file with `example_generate = [\"program\", ...]` \
                 (a program of the package), or with random text when there is none",
            );
            doc.problem(v.span().range(), t.field("example"), p);
            return None;
        }
        (None, OptionType::SecretFile) => return Some(None),
        (None, _) if t.get("default").is_some() => return Some(None),
        (None, _) => {
            let p = Problem::new(
                "option has no default and no example",
                format!(
                    "add `example = {}` (a value of type {} the VM test sets), or a `default`",
                    sample(o.name, ty),
                    ty.as_str()
                ),
            );
            doc.problem(t.span.clone(), t.field("example"), p);
            return None;
        }
        (Some(v), _) => v,
    };
    match example_problem(v, o, ty) {
        Some(p) => {
            doc.problem(v.span().range(), t.field("example"), p);
            None
        }
        None => Some(to_toml(v)),
    }
}

/// A sample example for the hint, shaped like the option.
fn sample(name: &str, ty: OptionType) -> &'static str {
    match ty {
        _ if is_url_option(name) && name.contains("database") => {
            "\"postgresql:///atproto?host=/run/postgresql\""
        }
        _ if is_url_option(name) => "\"https://example.com\"",
        OptionType::Str => "\"text\"",
        OptionType::Path => "\"/var/lib/example/file\"",
        OptionType::Int => "10",
        OptionType::Port => "8080",
        OptionType::Bool => "true",
        OptionType::List => "[\"a\", \"b\"]",
        OptionType::Enum => "\"<one of values>\"",
        OptionType::SecretFile => "(none)",
    }
}

/// Options named like URLs (`did_plc_url`, `relay-urls`) get URL-shaped examples.
fn is_url_option(name: &str) -> bool {
    name.split(['_', '-', '.'])
        .any(|w| matches!(w, "url" | "urls" | "uri"))
}

fn example_problem(v: &Value<'_>, o: &OptionShape<'_>, ty: OptionType) -> Option<Problem> {
    let expected = match ty {
        OptionType::Str | OptionType::Path | OptionType::Enum => Kind::String,
        OptionType::Int | OptionType::Port => Kind::Integer,
        OptionType::Bool => Kind::Boolean,
        OptionType::List => Kind::Array,
        OptionType::SecretFile => unreachable!("handled by the caller"),
    };
    if v.kind() != expected {
        return Some(Problem::new(
            format!(
                "example is {}, but the option's type is {}",
                doc::kind(v),
                ty.as_str()
            ),
            format!("write e.g. example = {}", sample(o.name, ty)),
        ));
    }
    let strings: Vec<&str> = match v.as_array() {
        Some(items) => {
            if let Some(bad) = items.iter().find(|i| i.as_str().is_none()) {
                return Some(Problem::new(
                    format!(
                        "example holds {}; a list option is a list of strings",
                        doc::kind(bad)
                    ),
                    "quote every element: example = [\"a\", \"b\"]",
                ));
            }
            items.iter().filter_map(|i| i.as_str()).collect()
        }
        None => v.as_str().into_iter().collect(),
    };
    match ty {
        OptionType::Port => {
            let n = v.as_i64().unwrap_or(0);
            (!(1..=65535).contains(&n)).then(|| {
                Problem::new(
                    format!("example port {n} is out of range"),
                    "ports are 1-65535",
                )
            })
        }
        OptionType::Path if !strings[0].starts_with('/') => Some(Problem::new(
            format!(
                "example `{}` is not an absolute path (the module's type is strMatching \"/.*\")",
                strings[0]
            ),
            "write an absolute path, e.g. example = \"/var/lib/example/key\"",
        )),
        OptionType::Enum if !o.values.iter().any(|x| x == strings[0]) => Some(Problem::new(
            format!("example `{}` is not one of the enum's values", strings[0]),
            format!("use one of: {}", o.values.join(", ")),
        )),
        _ if is_url_option(o.name) => strings.iter().find(|s| !s.contains("://")).map(|s| {
            Problem::new(
                format!(
                    "example `{s}` is not a URL, but the option is one (`{}`)",
                    o.name
                ),
                "write a full URL the VM test can use, e.g. example = \"http://localhost:2583\"",
            )
        }),
        _ => None,
    }
}

/// The plain value of an example that passed `example_problem` (scalars and string lists).
fn to_toml(v: &Value<'_>) -> Option<toml::Value> {
    Some(match v.kind() {
        Kind::String => toml::Value::String(v.as_str()?.to_string()),
        Kind::Integer => toml::Value::Integer(v.as_i64()?),
        Kind::Boolean => toml::Value::Boolean(v.as_bool()?),
        Kind::Array => toml::Value::Array(
            v.as_array()?
                .iter()
                .filter_map(|i| i.as_str().map(|s| toml::Value::String(s.into())))
                .collect(),
        ),
        _ => return None,
    })
}

/// `example_generate`: only for secret-file options; a program of the package plus arguments,
/// where `{file}` is the only placeholder.
pub(super) fn read_generate(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    ty: Option<OptionType>,
) -> Option<Vec<String>> {
    let Some(v) = t.get("example_generate") else {
        return Some(Vec::new());
    };
    let field = t.field("example_generate");
    if let Some(ty) = ty.filter(|t| *t != OptionType::SecretFile) {
        let p = Problem::new(
            format!(
                "`example_generate` is only read for secret-file options (this option is \"{}\")",
                ty.as_str()
            ),
            "remove it and write `example = <value>` instead",
        );
        doc.problem(v.span().range(), field, p);
        return None;
    }
    let argv = doc.as_str_list(v, &field)?;
    let problem = if argv.first().is_none_or(|p| p.is_empty() || p.contains('/')) {
        Some(Problem::new(
            "must start with a program of the package (its name in $out/bin, no path)",
            "write e.g. example_generate = [\"cocoon\", \"create-rotation-key\"]",
        ))
    } else {
        argv.iter()
            .flat_map(|a| rules::placeholders(a))
            .find(|p| *p != Placeholder::Unknown("file"))
            .map(|_| {
                Problem::new(
                    "only `{file}` (the path of the file to create) is substituted in example_generate",
                    "write the other values literally; without {file} the program's stdout becomes the file",
                )
            })
    };
    match problem {
        Some(p) => {
            doc.problem(v.span().range(), field, p);
            None
        }
        None => Some(argv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_options_are_named_so() {
        for yes in ["did_plc_url", "database-url", "relay_urls", "url"] {
            assert!(is_url_option(yes), "{yes}");
        }
        for no in ["curl_flags", "hostname", "urlencode", "relays"] {
            assert!(!is_url_option(no), "{no}");
        }
    }
}
