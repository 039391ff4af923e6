//! Validation of one parsed `package.toml` into a [`Package`]. Every problem becomes a
//! [`Diagnostic`]; reading goes on after a problem so one run reports all of them. Rules that need
//! the whole catalog (duplicate names, workspace groups) live in `load/crosscheck.rs`.

mod depth;
mod doc;
mod nix_toml;
pub(crate) mod rules;
mod sections;
mod service;
mod syntax;
// Rules for the fields the NixOS-readiness work added ([check], toolchains, examples, ports,
// secrets), one file each.
mod checks;
mod examples;
mod ports;
pub(crate) mod secrets;
mod toolchain;

use std::collections::BTreeMap;
use std::path::Path;

use self::doc::{Doc, Field, Table, Value};
use self::rules::Problem;
use self::sections::{read_build, read_source};
use super::diagnostic::Diagnostic;
use super::model::{AtprotoMeta, Category, ExtraFiles, Package, Tier};
use crate::search::did_you_mean;

pub use self::ports::catalog_port_clashes;

const TOP_KEYS: &[&str] = &[
    "name",
    "version",
    "tier",
    "category",
    "description",
    "long_description",
    "homepage",
    "license",
    "maintainers",
    "platforms",
    "main_program",
    "source",
    "build",
    "atproto",
    "services",
    "check",
];
const SOURCE_KEYS: &[&str] = &[
    "host",
    "owner",
    "repo",
    "url",
    "rev",
    "hash",
    "submodules",
    "verified",
    "provenance",
];
const BUILD_KEYS: &[&str] = &[
    "language",
    "builder",
    "workspace",
    "members",
    "sub_packages",
    "workspaces",
    "source_root",
    "deps_hash",
    "build_inputs",
    "native_build_inputs",
    "env",
    "go",
    "nodejs",
    "pnpm",
    "rust",
];
const ATPROTO_KEYS: &[&str] = &["services", "protocols", "dependencies"];

/// Where keys of the top-level sections belong, for "`rev` belongs in [source]" hints.
const SECTIONS: &[(&str, &[&str])] = &[
    ("the top level", TOP_KEYS),
    ("[source]", SOURCE_KEYS),
    ("[build]", BUILD_KEYS),
    ("[atproto]", ATPROTO_KEYS),
    ("a [services.<name>] section", service::SERVICE_KEYS),
    ("[check]", checks::CHECK_KEYS),
];

/// One `package.toml` to check, with what the file system says about it.
pub struct PackageFile<'a> {
    /// Path of `package.toml`, as diagnostics will print it.
    pub file: &'a Path,
    pub dir: &'a Path,
    /// The org folder (`pkgs/<org>/`).
    pub org: &'a str,
    /// The package folder (`pkgs/<org>/<folder>/`), which `name` must equal.
    pub folder: &'a str,
    pub text: &'a str,
    pub extra_files: ExtraFiles,
}

/// The result of checking one file.
#[derive(Debug, Default)]
pub struct Checked {
    /// `None` when the file has any error.
    pub package: Option<Package>,
    pub diagnostics: Vec<Diagnostic>,
    pub anchors: Anchors,
}

/// Where catalog-wide diagnostics about this package point, as byte offsets into the file: they are
/// turned into line:column only when such a diagnostic is made, which is rare.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    pub name: usize,
    pub workspace: Option<usize>,
}

/// Byte offset of the key at `path` (e.g. `["services", "pds"]`) in a package file's text, for
/// diagnostics made after the parse tree is gone (catalog-wide checks, which are rare).
pub fn key_offset(text: &str, path: &[&str]) -> Option<usize> {
    if depth::value_nesting(text).is_some() {
        return None;
    }
    let arena = toml_spanner::Arena::new();
    let doc = toml_spanner::parse(text, &arena).ok()?;
    let mut table = doc.table();
    let (last, parents) = path.split_last()?;
    for key in parents {
        table = table.get(key)?.as_table()?;
    }
    let (key, _) = table.get_key_value(last)?;
    Some(key.span.start as usize)
}

/// Whether `text` nests arrays or inline tables deeper than the validator reads (parsing it
/// would recurse that deep): callers that parse package text themselves ask first.
pub fn too_nested(text: &str) -> bool {
    depth::value_nesting(text).is_some()
}

/// Parse and check one package file.
pub fn check(input: &PackageFile<'_>) -> Checked {
    let mut doc = Doc::new(input.file, input.text);
    let rejected = |doc: Doc<'_>| Checked {
        package: None,
        diagnostics: doc.diagnostics,
        anchors: Anchors::default(),
    };
    // Nesting is bounded before anything recursive runs: the parser recurses per array or inline
    // table, and the walks over the parsed values below (defaults, placeholders) per level.
    if let Some(at) = depth::value_nesting(input.text) {
        doc.report(
            at..at,
            "toml",
            format!(
                "arrays and inline tables nested more than {} deep: atwb does not read nesting this deep",
                depth::MAX_VALUE_NESTING
            ),
            "a package needs two or three levels here at most (a list of lists): flatten this value",
        );
        return rejected(doc);
    }
    // One arena per file: the parsed tree borrows the text and lives only while it is checked.
    let arena = toml_spanner::Arena::new();
    let parsed = match toml_spanner::parse(input.text, &arena) {
        Ok(parsed) => parsed,
        Err(first) => {
            syntax::report(&mut doc, input.text, &first);
            return rejected(doc);
        }
    };
    if let Some(deep) = depth::too_deep(parsed.table()) {
        doc.report(
            deep.span,
            deep.field,
            format!(
                "keys and values nested more than {} levels deep: atwb does not read nesting this deep",
                depth::MAX_DEPTH
            ),
            "a package needs about seven levels (services.<name>.options.<option>.default = [...]): \
             shorten this key or flatten its value",
        );
        return rejected(doc);
    }
    let root = Table {
        entries: parsed.table(),
        path: String::new(),
        span: 0..0,
    };
    doc.reject_unreadable_by_nix(root.entries);
    let mut anchors = Anchors::default();
    let package = read_package(&mut doc, &root, input, &mut anchors);
    let package = if doc.diagnostics.is_empty() {
        package
    } else {
        None
    };
    Checked {
        package,
        diagnostics: doc.diagnostics,
        anchors,
    }
}

fn read_package(
    doc: &mut Doc<'_>,
    root: &Table<'_, '_>,
    input: &PackageFile<'_>,
    anchors: &mut Anchors,
) -> Option<Package> {
    doc.unknown_keys(root, TOP_KEYS, SECTIONS);
    if let Err(p) = rules::name(input.org) {
        doc.report(0..0, "org", format!("org folder {}", p.message), p.hint);
    }

    let name = read_name(doc, root, input, anchors);
    let version = doc
        .req_str(root, "version")
        .filter(|v| accept(doc, root, "version", rules::version(v)));
    let tier = read_tier(doc, root);
    let category = doc
        .required(root, "category")
        .and_then(|v| one_of(doc, v, "category", &Category::ALL.map(|c| (c.as_str(), c))));
    let description = read_description(doc, root, name.as_deref().unwrap_or(input.folder));
    let long_description = doc
        .opt_str(root, "long_description")
        .map(Option::unwrap_or_default);
    let homepage = doc.req_str(root, "homepage").filter(|h| {
        let ok = h.starts_with("https://") || h.starts_with("http://");
        let p = Problem::new(
            format!("`{h}` is not a web address"),
            "write the project's page as https://...",
        );
        accept(doc, root, "homepage", if ok { Ok(()) } else { Err(p) })
    });
    let license = read_licenses(doc, root);
    let maintainers = doc.opt_str_list(root, "maintainers");
    let platforms = doc.opt_str_list(root, "platforms").filter(|ps| {
        let bad = ps.iter().find(|p| !is_platform(p));
        let p = bad.map(|b| {
            Problem::new(
                format!("`{b}` is not a Nix system"),
                "write systems like \"x86_64-linux\"",
            )
        });
        accept(doc, root, "platforms", p.map_or(Ok(()), Err))
    });
    let main_program = doc.opt_str(root, "main_program").filter(|m| {
        let bad = m
            .as_deref()
            .is_some_and(|m| m.is_empty() || m.contains('/'));
        let p = Problem::new(
            "must be a program name in the package's bin/",
            "write e.g. main_program = \"goat\"",
        );
        accept(doc, root, "main_program", if bad { Err(p) } else { Ok(()) })
    });

    let source = doc
        .required(root, "source")
        .and_then(|v| doc.as_table(v, "source"))
        .and_then(|t| read_source(doc, &t));
    let build = doc
        .required(root, "build")
        .and_then(|v| doc.as_table(v, "build"))
        .and_then(|t| read_build(doc, &t, anchors));
    let atproto = match root.get("atproto") {
        None => Some(AtprotoMeta::default()),
        Some(v) => doc
            .as_table(v, "atproto")
            .and_then(|t| read_atproto(doc, &t)),
    };
    let services = match root.get("services") {
        None => Some(BTreeMap::new()),
        Some(v) => doc
            .as_table(v, "services")
            .and_then(|t| service::read_services(doc, &t)),
    };
    let check = checks::read_check(doc, root, &input.extra_files);

    Some(Package {
        name: name?,
        org: input.org.to_string(),
        dir: input.dir.to_path_buf(),
        version: version?,
        tier: tier?,
        category: category?,
        description: description?,
        long_description: long_description?,
        homepage: homepage?,
        license: license?,
        maintainers: maintainers?,
        platforms: platforms?,
        main_program: main_program?,
        source: source?,
        build: build?,
        atproto: atproto?,
        services: services?,
        extra_files: input.extra_files.clone(),
        check: check?,
    })
}

/// The one-line description, under nixpkgs' meta rules (which need the package's name).
fn read_description(doc: &mut Doc<'_>, root: &Table<'_, '_>, package: &str) -> Option<String> {
    doc.req_str(root, "description").filter(|d| {
        let problems = rules::description(d, package);
        let ok = problems.is_empty();
        let span = root
            .get("description")
            .map(|v| v.span().range())
            .unwrap_or(0..0);
        for p in problems {
            doc.problem(span.clone(), "description", p);
        }
        ok
    })
}

/// Report `result` at `key` of `t`; true when it is fine.
pub(super) fn accept(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    key: &str,
    result: Result<(), Problem>,
) -> bool {
    match result {
        Ok(()) => true,
        Err(p) => {
            let span = t
                .get(key)
                .map(|v| v.span().range())
                .unwrap_or(t.span.clone());
            doc.problem(span, t.field(key), p);
            false
        }
    }
}

fn read_name(
    doc: &mut Doc<'_>,
    root: &Table<'_, '_>,
    input: &PackageFile<'_>,
    anchors: &mut Anchors,
) -> Option<String> {
    let v = doc.required(root, "name")?;
    anchors.name = v.span().range().start;
    let name = doc.as_str(v, "name")?;
    let mut ok = accept(doc, root, "name", rules::name(&name));
    if name != input.folder {
        ok = false;
        doc.report(
            v.span().range(),
            "name",
            format!("name `{name}` does not match its folder `{}`", input.folder),
            format!(
                "rename the folder to pkgs/{}/{name}/ or write name = \"{}\"",
                input.org, input.folder
            ),
        );
    }
    ok.then_some(name)
}

fn read_tier(doc: &mut Doc<'_>, root: &Table<'_, '_>) -> Option<Tier> {
    let v = doc.required(root, "tier")?;
    let n = doc.as_int(v, "tier")?;
    let tier = u8::try_from(n)
        .map_err(|_| n.to_string())
        .and_then(|n| Tier::try_from(n).map_err(|_| n.to_string()));
    match tier {
        Ok(t) => Some(t),
        Err(n) => {
            let hint = "use 1 (foundation), 2 (ecosystem service) or 3 (specialized)";
            doc.report(
                v.span().range(),
                "tier",
                format!("tier {n} is out of range"),
                hint,
            );
            None
        }
    }
}

fn read_licenses(doc: &mut Doc<'_>, root: &Table<'_, '_>) -> Option<Vec<String>> {
    let v = doc.required(root, "license")?;
    let licenses = doc.as_str_list(v, "license")?;
    let bad = licenses.iter().find(|l| {
        l.is_empty()
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b))
    });
    let problem = if licenses.is_empty() {
        Some(Problem::new(
            "is empty",
            "list the SPDX ids, or [\"NOASSERTION\"] when upstream states none",
        ))
    } else {
        bad.map(|b| {
            Problem::new(
                format!("`{b}` is not an SPDX id"),
                "write one SPDX id per entry, e.g. [\"MIT\", \"Apache-2.0\"]",
            )
        })
    };
    match problem {
        Some(p) => {
            doc.problem(v.span().range(), "license", p);
            None
        }
        None => Some(licenses),
    }
}

fn is_platform(p: &str) -> bool {
    let mut parts = p.split('-');
    let ok = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// A string that must be one of `options`, with a did-you-mean.
pub(super) fn one_of<'f, T: Copy>(
    doc: &mut Doc<'_>,
    v: &Value<'_>,
    field: impl Into<Field<'f>>,
    options: &[(&'static str, T)],
) -> Option<T> {
    let field = field.into();
    let s = doc.as_str(v, field)?;
    if let Some((_, t)) = options.iter().find(|(n, _)| *n == s) {
        return Some(*t);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let what = field.leaf();
    let hint = match did_you_mean(&s, names.iter().copied()) {
        Some(m) => format!("did you mean `{m}`?"),
        None => format!("use one of: {}", names.join(" | ")),
    };
    doc.report(
        v.span().range(),
        field,
        format!(
            "`{s}` is not a valid {what}; expected one of {}",
            names.join(" | ")
        ),
        hint,
    );
    None
}

fn read_atproto(doc: &mut Doc<'_>, t: &Table<'_, '_>) -> Option<AtprotoMeta> {
    doc.unknown_keys(t, ATPROTO_KEYS, SECTIONS);
    let services = doc.opt_str_list(t, "services");
    let protocols = doc.opt_str_list(t, "protocols");
    let dependencies = doc.opt_str_list(t, "dependencies");
    Some(AtprotoMeta {
        services: services?,
        protocols: protocols?,
        dependencies: dependencies?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::DepsHash;

    const MINIMAL: &str = r#"
name = "goat"
version = "0.1.0"
tier = 3
category = "utility"
description = "Command-line tool for the AT Protocol"
homepage = "https://github.com/bluesky-social/goat"
license = ["MIT"]

[source]
host = "github"
owner = "bluesky-social"
repo = "goat"
rev = "0123456789abcdef0123456789abcdef01234567"
hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
provenance = "unit test"

[build]
language = "go"
builder = "go-module"
deps_hash = "unknown"
"#;

    fn run(text: &str) -> Checked {
        check(&PackageFile {
            file: Path::new("pkgs/bluesky-social/goat/package.toml"),
            dir: Path::new("pkgs/bluesky-social/goat"),
            org: "bluesky-social",
            folder: "goat",
            text,
            extra_files: ExtraFiles::default(),
        })
    }

    fn messages(c: &Checked) -> Vec<String> {
        c.diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}: {}", d.line, d.column, d.field, d.message))
            .collect()
    }

    #[test]
    fn minimal_package_has_defaults() {
        let c = run(MINIMAL);
        assert!(c.diagnostics.is_empty(), "{:?}", messages(&c));
        let p = c.package.unwrap();
        assert_eq!(p.org, "bluesky-social");
        assert!(!p.source.verified && !p.source.submodules);
        assert_eq!(p.build.deps_hash, DepsHash::Unknown);
        assert!(p.services.is_empty() && p.maintainers.is_empty() && p.long_description.is_empty());
        assert_eq!(p.main_program, None);
    }

    #[test]
    fn every_problem_in_a_file_is_reported_and_the_package_left_out() {
        let text = MINIMAL
            .replace("tier = 3", "tier = 0")
            .replace("0123456789abcdef0123456789abcdef01234567", "main")
            .replace("\"go-module\"", "\"go\"");
        let c = run(&text);
        assert!(c.package.is_none());
        let m = messages(&c);
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(
            m[0].starts_with("4:8: tier: tier 0 is out of range"),
            "{m:?}"
        );
        assert!(m[1].starts_with("14:7: source.rev:"), "{m:?}");
        assert!(
            m[2].starts_with("20:11: build.builder: `go` is not a valid builder"),
            "{m:?}"
        );
    }

    #[test]
    fn all_syntax_errors_are_reported_in_order() {
        let text = MINIMAL
            .replace("tier = 3", "tier = ")
            .replace("license = [\"MIT\"]", "license = [\"MIT\"");
        let c = run(&text);
        let m = messages(&c);
        assert!(m.len() >= 2, "{m:?}");
        assert!(m.iter().all(|l| l.contains("TOML syntax error")), "{m:?}");
        assert!(
            m[0].starts_with("4:8: tier: TOML syntax error: the value is missing"),
            "{m:?}"
        );
        assert!(
            m[1].starts_with("10:1: license: TOML syntax error: missing comma"),
            "{m:?}"
        );
        let lines: Vec<usize> = c.diagnostics.iter().map(|d| d.line).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
        assert_eq!(lines[0], 4);
    }

    #[test]
    fn options_keep_file_order_and_anchors_point_at_keys() {
        let text = format!(
            "{MINIMAL}\n[services.goat-relay]\nexec = [\"goat\", \"--x={{option:zeta}}\", \"{{option:alpha}}\"]\n\
             [services.goat-relay.options.zeta]\ntype = \"int\"\ndefault = 1\ndescription = \"Z\"\n\
             [services.goat-relay.options.alpha]\ntype = \"bool\"\ndefault = false\ndescription = \"A\"\n"
        );
        let c = run(&text);
        assert!(c.diagnostics.is_empty(), "{:?}", messages(&c));
        let p = c.package.unwrap();
        let names: Vec<&str> = p.services["goat-relay"]
            .options
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, ["zeta", "alpha"]);
        let at = key_offset(&text, &["services", "goat-relay"]).unwrap();
        assert!(text[at..].starts_with("goat-relay]"));
        let at = key_offset(&text, &["services", "goat-relay", "options", "alpha"]).unwrap();
        assert!(text[at..].starts_with("alpha]"));
        assert_eq!(key_offset(&text, &["services", "nope"]), None);
        assert!(text[c.anchors.name..].starts_with("\"goat\""));
    }

    /// Many diagnostics in one file share one line index: building one per diagnostic (a scan
    /// from the start each time) made 40,000 unknown keys in one file take half a minute.
    #[test]
    fn one_line_index_per_file_however_many_diagnostics() {
        let keys: String = (0..2000).map(|i| format!("zq{i:05} = 1\n")).collect();
        let before = crate::catalog::position::builds_on_this_thread();
        let c = run(&format!("{keys}{MINIMAL}"));
        let builds = crate::catalog::position::builds_on_this_thread() - before;
        assert_eq!(c.diagnostics.len(), 2000, "{:?}", &messages(&c)[..3]);
        assert_eq!(builds, 1, "line indexes built for one file");
        assert_eq!(c.diagnostics[1999].line, 2000);
    }

    #[test]
    fn typo_is_reported_once_not_also_as_missing() {
        let c = run(&MINIMAL.replace("homepage =", "homepge ="));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("unknown key `homepge`"));
        assert_eq!(
            c.diagnostics[0].hint.as_deref(),
            Some("did you mean `homepage`?")
        );
    }
}
