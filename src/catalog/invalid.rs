//! A package folder whose files did not load. It is kept, not dropped, so that the front ends
//! can still show it (its folder name, its org, its tier when the file says so) with its
//! diagnostics, and let the user open it at the first error.

use std::path::PathBuf;

use serde::Serialize;

use super::diagnostic::Diagnostic;
use super::model::{Category, Tier};

/// One `pkgs/<org>/<folder>/` whose `package.toml` has errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidPackage {
    /// The folder name (what `name` must be once the file loads).
    pub name: String,
    /// The org folder.
    pub org: String,
    pub dir: PathBuf,
    /// `dir/package.toml`, which may be missing (one of the diagnostics then says so).
    pub file: PathBuf,
    /// What the file says, read leniently (None when even that fails).
    pub tier: Option<Tier>,
    pub category: Option<Category>,
    /// Sorted by line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// One of the diagnostics comes from a rule over the whole catalog (global names, services,
    /// shared workspaces, ports): fixing it may change other packages too.
    pub catalog_wide: bool,
}

impl InvalidPackage {
    /// The first diagnostic that points at a line (what `E` opens the editor at).
    pub fn first_line(&self) -> Option<usize> {
        self.diagnostics
            .iter()
            .filter(|d| d.file == self.file && d.line > 0)
            .map(|d| d.line)
            .min()
    }
}

/// The search matches an invalid package by its folder and org, as it would a valid one.
impl crate::search::Searchable for InvalidPackage {
    fn name(&self) -> &str {
        &self.name
    }
    fn org(&self) -> &str {
        &self.org
    }
    fn description(&self) -> &'static str {
        ""
    }
    fn services(&self) -> impl Iterator<Item = &str> {
        std::iter::empty()
    }
}

/// `tier` and `category` of a file that failed validation: from its parsed top level when it
/// parses, else from a plain `tier = N` / `category = "..."` line above the first table (a
/// syntax error further down must not hide where the package belongs in the tree).
pub fn lenient_placement(text: &str) -> (Option<Tier>, Option<Category>) {
    // The parser recurses per nesting level: a hostile file is bounded first, as the validator
    // bounds it (too deep: only the plain lines are read).
    let parseable = super::validate::depth::value_nesting(text).is_none();
    let arena = toml_spanner::Arena::new();
    if parseable && let Ok(doc) = toml_spanner::parse(text, &arena) {
        let table = doc.table();
        let tier = table
            .get("tier")
            .and_then(toml_spanner::Item::as_i64)
            .and_then(|n| u8::try_from(n).ok())
            .and_then(|n| Tier::try_from(n).ok());
        let category = table
            .get("category")
            .and_then(|v| v.as_str())
            .and_then(category_named);
        return (tier, category);
    }
    let (mut tier, mut category) = (None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.split('#').next().unwrap_or_default().trim();
        match key.trim() {
            "tier" => {
                tier = value
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| Tier::try_from(n).ok());
            }
            "category" => category = category_named(value.trim_matches('"')),
            _ => {}
        }
    }
    (tier, category)
}

fn category_named(name: &str) -> Option<Category> {
    Category::ALL.into_iter().find(|c| c.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_from_a_parsed_file_and_from_a_broken_one() {
        assert_eq!(
            lenient_placement("name = \"x\"\ntier = 2\ncategory = \"utility\"\nbogus = 1\n"),
            (Some(Tier::Ecosystem), Some(Category::Utility))
        );
        // A syntax error below: the lines above the first table still place it.
        assert_eq!(
            lenient_placement("tier = 3 # note\ncategory = \"library\"\n[source]\nrev = \n"),
            (Some(Tier::Specialized), Some(Category::Library))
        );
        assert_eq!(lenient_placement("tier = 7\n"), (None, None));
        assert_eq!(lenient_placement("[x]\ntier = 1\n= broken"), (None, None));
        assert_eq!(lenient_placement(""), (None, None));
        // Nesting deep enough to overflow the parser's stack is not parsed.
        let deep = format!(
            "tier = 2\nx = {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(lenient_placement(&deep), (Some(Tier::Ecosystem), None));
    }
}
