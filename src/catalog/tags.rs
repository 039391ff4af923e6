//! Which tag is a package's "newest": by version order of the names (remote refs carry no
//! dates), in the shape of the package's own tags. Shared by `atwb outdated` and `atwb bump`.

use std::collections::BTreeMap;

/// A tag's version parts: the text before its first digit (`v`, `@atproto/pds@`), the numbers,
/// and whether anything after them marks a pre-release (`-rc1`, `-beta.2`).
#[derive(Debug, PartialEq, Eq)]
struct TagVersion<'a> {
    prefix: &'a str,
    numbers: Vec<u64>,
    prerelease: bool,
}

fn parse_tag(tag: &str) -> Option<TagVersion<'_>> {
    let start = tag.find(|c: char| c.is_ascii_digit())?;
    let (prefix, rest) = tag.split_at(start);
    let end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    let numbers = rest[..end]
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect();
    let tail = rest[end..].to_ascii_lowercase();
    let prerelease = ["rc", "alpha", "beta", "pre", "dev", "nightly", "canary"]
        .iter()
        .any(|m| tail.contains(m));
    Some(TagVersion {
        prefix,
        numbers,
        prerelease,
    })
}

/// The newest release tag a package pinned at `version` follows, by version order of the
/// names (the refs carry no dates). In a monorepo that tags each package (`@atproto/pds@0.4.1`)
/// only tags shaped like the one matching `version` count; pre-releases count only when there
/// is nothing else.
pub fn newest_tag<'t>(tags: &'t BTreeMap<String, String>, version: &str) -> Option<&'t str> {
    let parsed: Vec<(&str, TagVersion)> = tags
        .keys()
        .filter_map(|t| parse_tag(t).map(|v| (t.as_str(), v)))
        .collect();
    let shape = parsed
        .iter()
        .find(|(t, v)| t.ends_with(version) && !v.numbers.is_empty())
        .map(|(_, v)| v.prefix);
    let candidates = parsed
        .iter()
        .filter(|(_, v)| shape.is_none_or(|p| v.prefix == p));
    let best = |pre: bool| {
        candidates
            .clone()
            .filter(|(_, v)| v.prerelease == pre)
            .max_by(|(a, x), (b, y)| x.numbers.cmp(&y.numbers).then(a.cmp(b)))
            .map(|(t, _)| *t)
    };
    best(false).or_else(|| best(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|n| ((*n).to_string(), String::new()))
            .collect()
    }

    #[test]
    fn newest_is_by_version_not_by_name() {
        let t = tags(&["v0.9.0", "v0.10.0", "v0.10.1-rc1", "nightly"]);
        assert_eq!(newest_tag(&t, "0-unstable-2024-01-01"), Some("v0.10.0"));
        assert_eq!(
            newest_tag(&tags(&["v2.0.0-rc1"]), "1.0"),
            Some("v2.0.0-rc1")
        );
        assert_eq!(newest_tag(&tags(&["latest"]), "1.0"), None);
    }

    #[test]
    fn a_monorepo_follows_the_shape_of_its_own_tag() {
        let t = tags(&[
            "@atproto/api@0.13.0",
            "@atproto/pds@0.4.1",
            "@atproto/pds@0.4.10",
        ]);
        assert_eq!(newest_tag(&t, "0.4.1"), Some("@atproto/pds@0.4.10"));
    }
}
