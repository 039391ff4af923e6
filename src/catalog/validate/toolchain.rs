//! `[build]` toolchain fields (`go`, `nodejs`, `pnpm`, `rust`): each a version from the table in
//! `catalog/toolchains.rs`, and only for the builder that reads it.

use super::doc::{Doc, Table, Value};
use super::rules::Problem;
use crate::catalog::model::Builder;
use crate::catalog::toolchains::{Kind, Toolchains};
use crate::search::did_you_mean;

/// The toolchain fields of `[build]`; `builder` is None when it was invalid (then only the
/// versions are checked).
pub(super) fn read_toolchains(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    builder: Option<Builder>,
) -> Option<Toolchains> {
    let mut out = Toolchains::default();
    let mut ok = true;
    for kind in Kind::ALL {
        let Some(v) = t.get(kind.key()) else {
            continue;
        };
        let field = t.field(kind.key());
        let Some(version) = doc.as_str(v, &field) else {
            ok = false;
            continue;
        };
        let mut problems = Vec::new();
        if let Some(b) = builder.filter(|b| !kind.builders().contains(b)) {
            problems.push(wrong_builder(kind, b));
        }
        if kind.attributes(&version).is_none() {
            problems.push(unknown_version(kind, &version));
        }
        ok &= problems.is_empty();
        report(doc, v, &field, problems);
        let slot = match kind {
            Kind::Go => &mut out.go,
            Kind::Nodejs => &mut out.nodejs,
            Kind::Pnpm => &mut out.pnpm,
            Kind::Rust => &mut out.rust,
        };
        *slot = Some(version);
    }
    ok.then_some(out)
}

fn report(doc: &mut Doc<'_>, v: &Value<'_>, field: &str, problems: Vec<Problem>) {
    for p in problems {
        doc.problem(v.span().range(), field, p);
    }
}

fn wrong_builder(kind: Kind, builder: Builder) -> Problem {
    let readers: Vec<&str> = kind.builders().iter().map(|b| b.as_str()).collect();
    let own: Vec<&str> = Kind::ALL
        .iter()
        .filter(|k| k.builders().contains(&builder))
        .map(|k| k.key())
        .collect();
    let instead = if own.is_empty() {
        format!("{} pins no toolchain", builder.as_str())
    } else {
        format!("{} reads {}", builder.as_str(), own.join(" and "))
    };
    Problem::new(
        format!(
            "`{}` is only read by the {} builder; this package uses {}",
            kind.key(),
            readers.join(" and "),
            builder.as_str()
        ),
        format!("remove `{}` ({instead})", kind.key()),
    )
}

fn unknown_version(kind: Kind, version: &str) -> Problem {
    let versions = kind.versions();
    let known = versions.join(", ");
    let what = match kind {
        Kind::Rust => "minimum rustc version",
        _ => "version",
    };
    let message = format!(
        "`{version}` is not a {} {what} the catalog knows (nixpkgs has: {known})",
        kind.key()
    );
    // A patch level or an attribute name is a near miss worth naming exactly.
    let near = versions
        .iter()
        .find(|v| {
            version.starts_with(&format!("{v}."))
                || kind
                    .attributes(v)
                    .is_some_and(|attrs| attrs.contains(&version))
        })
        .copied();
    let table_note = "a version missing here needs a row in src/catalog/toolchains.rs and catalog/lib/toolchains.nix";
    let hint = match (near, did_you_mean(version, versions.iter().copied())) {
        (Some(v), _) => format!(
            "did you mean `{v}`? write {} = \"{v}\" (the nixpkgs attributes follow from it)",
            kind.key()
        ),
        (None, Some(v)) => format!("did you mean `{v}`? ({table_note})"),
        (None, None) => format!("use one of {known} ({table_note})"),
    };
    Problem::new(message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_name_the_table_entry() {
        let hint = |k, v| unknown_version(k, v).hint;
        assert!(hint(Kind::Go, "1.26.6").contains("`1.26`"), "patch level");
        assert!(hint(Kind::Go, "go_1_26").contains("`1.26`"), "attribute");
        assert!(hint(Kind::Pnpm, "pnpm_11").contains("`11`"));
        assert!(hint(Kind::Nodejs, "22.4.1").contains("`22`"));
        assert!(hint(Kind::Go, "1.2").contains("did you mean"));
        assert!(hint(Kind::Go, "2.0.0").contains("use one of 1.25, 1.26, 1.27"));
        assert!(
            unknown_version(Kind::Pnpm, "8")
                .message
                .contains("9, 10, 11, 12")
        );
    }

    #[test]
    fn wrong_builder_says_what_the_builder_reads() {
        let p = wrong_builder(Kind::Go, Builder::RustWorkspace);
        assert!(p.message.contains("only read by the go-module builder"));
        assert_eq!(p.hint, "remove `go` (rust-workspace reads rust)");
        let p = wrong_builder(Kind::Pnpm, Builder::NpmPackage);
        assert!(p.hint.contains("npm-package reads nodejs"));
        let p = wrong_builder(Kind::Nodejs, Builder::StaticSite);
        assert!(p.hint.contains("static-site pins no toolchain"));
    }
}
