//! [`FieldPath`]: where a field sits in `package.toml`, as the keys leading to it.

use std::fmt;

use serde::{Serialize, Serializer};

/// The keys leading to a field, e.g. `["services", "bluesky-pds", "options", "pds_port",
/// "default"]`. Displayed (and parsed) as a TOML dotted key, with the validator's quoting, so
/// `path.to_string()` equals the `field` of the [`Diagnostic`](crate::catalog::Diagnostic)s
/// about it: `services.bluesky-pds.options.pds_port.default`, `build.env."A.B"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[must_use]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// A path from its keys.
    pub fn new<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> FieldPath {
        FieldPath(keys.into_iter().map(Into::into).collect())
    }

    /// Parse a dotted key as TOML writes it (`a.b`, `a."b.c"`). None when it is not one.
    pub fn parse(dotted: &str) -> Option<FieldPath> {
        let keys = toml_edit::Key::parse(dotted.trim()).ok()?;
        (!keys.is_empty()).then(|| FieldPath::new(keys.iter().map(toml_edit::Key::get)))
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// The last key (`default` of `services.x.options.y.default`).
    pub fn leaf(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }

    /// The path of the table holding this field (empty for a top-level field).
    pub fn parent(&self) -> FieldPath {
        FieldPath(self.0[..self.0.len().saturating_sub(1)].to_vec())
    }

    /// This path with `key` appended.
    pub fn child(&self, key: &str) -> FieldPath {
        let mut keys = self.0.clone();
        keys.push(key.to_string());
        FieldPath(keys)
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &FieldPath) -> bool {
        self.0.starts_with(&other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A key as the validator writes it in a field name: bare when it can be, else quoted.
fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        f.write_str(key)
    } else {
        write!(f, "{key:?}")
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write_key(f, key)?;
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_dotted_keys_as_the_validator_names_fields() {
        let p = FieldPath::parse("services.bluesky-pds.options.pds_port.default").unwrap();
        assert_eq!(p.keys().len(), 5);
        assert_eq!(p.leaf(), "default");
        assert_eq!(
            p.to_string(),
            "services.bluesky-pds.options.pds_port.default"
        );
        let q = FieldPath::parse("build.env.\"A.B\"").unwrap();
        assert_eq!(q.keys(), ["build", "env", "A.B"]);
        assert_eq!(q.to_string(), "build.env.\"A.B\"");
        assert!(FieldPath::parse("a..b").is_none());
        assert!(FieldPath::parse("").is_none());
        assert!(p.starts_with(&FieldPath::new(["services", "bluesky-pds"])));
        assert_eq!(p.parent().leaf(), "pds_port");
    }
}
