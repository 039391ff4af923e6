//! The toolchains a package may pin in `[build]` (`go`, `nodejs`, `pnpm`, `rust`) and the nixpkgs
//! attributes each version means. This is the Rust half of one table; the Nix half is
//! `catalog/lib/toolchains.nix`, and `tests/toolchains.rs` keeps the two equal.

use serde::Serialize;

use super::model::Builder;

/// A Go version: the toolchain and the `buildGoModule` variant built with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoToolchain {
    pub version: &'static str,
    pub toolchain: &'static str,
    pub builder: &'static str,
}

const fn go(version: &'static str, toolchain: &'static str, builder: &'static str) -> GoToolchain {
    GoToolchain {
        version,
        toolchain,
        builder,
    }
}

pub const GO: &[GoToolchain] = &[
    go("1.25", "go_1_25", "buildGo125Module"),
    go("1.26", "go_1_26", "buildGo126Module"),
    go("1.27", "go_1_27", "buildGo127Module"),
];

/// Node.js major version -> nixpkgs attribute.
pub const NODEJS: &[(&str, &str)] = &[
    ("20", "nodejs_20"),
    ("22", "nodejs_22"),
    ("24", "nodejs_24"),
    ("26", "nodejs_26"),
];

/// pnpm major version -> nixpkgs attribute.
pub const PNPM: &[(&str, &str)] = &[
    ("9", "pnpm_9"),
    ("10", "pnpm_10"),
    ("11", "pnpm_11"),
    ("12", "pnpm_12"),
];

/// Minimum rustc versions (MAJOR.MINOR) a package may ask for. nixpkgs has one `rustc`, so this
/// is not an attribute: the Nix side asserts `lib.versionAtLeast rustc.version`.
pub const RUST: &[&str] = &[
    "1.80", "1.81", "1.82", "1.83", "1.84", "1.85", "1.86", "1.87", "1.88", "1.89", "1.90", "1.91",
    "1.92", "1.93", "1.94", "1.95",
];

/// One of the four `[build]` toolchain fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Go,
    Nodejs,
    Pnpm,
    Rust,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Go, Kind::Nodejs, Kind::Pnpm, Kind::Rust];

    /// The key in `[build]`.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Go => "go",
            Kind::Nodejs => "nodejs",
            Kind::Pnpm => "pnpm",
            Kind::Rust => "rust",
        }
    }

    /// The versions the table knows, oldest first.
    pub fn versions(self) -> Vec<&'static str> {
        match self {
            Kind::Go => GO.iter().map(|g| g.version).collect(),
            Kind::Nodejs => NODEJS.iter().map(|n| n.0).collect(),
            Kind::Pnpm => PNPM.iter().map(|n| n.0).collect(),
            Kind::Rust => RUST.to_vec(),
        }
    }

    /// The builders that read this field (`catalog/lib/packaging.nix`).
    pub fn builders(self) -> &'static [Builder] {
        match self {
            Kind::Go => &[Builder::GoModule],
            Kind::Nodejs => &[Builder::PnpmWorkspace, Builder::NpmPackage],
            Kind::Pnpm => &[Builder::PnpmWorkspace],
            Kind::Rust => &[Builder::RustWorkspace, Builder::RustPackage],
        }
    }

    /// The nixpkgs attributes `version` selects, or None when the table does not know it.
    pub fn attributes(self, version: &str) -> Option<Vec<&'static str>> {
        match self {
            Kind::Go => GO
                .iter()
                .find(|g| g.version == version)
                .map(|g| vec![g.toolchain, g.builder]),
            Kind::Nodejs => lookup(NODEJS, version).map(|a| vec![a]),
            Kind::Pnpm => lookup(PNPM, version).map(|a| vec![a]),
            Kind::Rust => RUST.contains(&version).then(|| vec!["rustc"]),
        }
    }
}

fn lookup(table: &[(&str, &'static str)], version: &str) -> Option<&'static str> {
    table.iter().find(|(v, _)| *v == version).map(|(_, a)| *a)
}

/// The toolchain versions a package pins; None keeps nixpkgs' default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Toolchains {
    pub go: Option<String>,
    pub nodejs: Option<String>,
    pub pnpm: Option<String>,
    /// A minimum, not a pin.
    pub rust: Option<String>,
}

impl Toolchains {
    pub fn get(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Go => self.go.as_deref(),
            Kind::Nodejs => self.nodejs.as_deref(),
            Kind::Pnpm => self.pnpm.as_deref(),
            Kind::Rust => self.rust.as_deref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        Kind::ALL.iter().all(|k| self.get(*k).is_none())
    }

    /// One phrase per pinned toolchain, e.g. `go 1.26 (go_1_26, buildGo126Module)` or
    /// `rust >= 1.86 (rustc)`, for `atwb show` and the detail pane.
    pub fn summary(&self) -> Vec<String> {
        Kind::ALL
            .iter()
            .filter_map(|&k| {
                let v = self.get(k)?;
                let attrs = k.attributes(v).unwrap_or_default().join(", ");
                let at_least = if k == Kind::Rust { ">= " } else { "" };
                Some(format!("{} {at_least}{v} ({attrs})", k.key()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_the_nixpkgs_naming() {
        // nixpkgs names versioned attributes by the version with dots as underscores, and the Go
        // builder by the version without dots.
        for g in GO {
            let flat = g.version.replace('.', "_");
            assert_eq!(g.toolchain, format!("go_{flat}"));
            assert_eq!(
                g.builder,
                format!("buildGo{}Module", g.version.replace('.', ""))
            );
        }
        for (v, a) in NODEJS {
            assert_eq!(*a, format!("nodejs_{v}"));
        }
        for (v, a) in PNPM {
            assert_eq!(*a, format!("pnpm_{v}"));
        }
        assert_eq!(
            Kind::Go.attributes("1.26"),
            Some(vec!["go_1_26", "buildGo126Module"])
        );
        assert_eq!(Kind::Go.attributes("1.24"), None);
        assert_eq!(Kind::Rust.attributes("1.86"), Some(vec!["rustc"]));
    }

    #[test]
    fn summary_names_version_and_attributes() {
        let t = Toolchains {
            go: Some("1.26".into()),
            rust: Some("1.86".into()),
            ..Default::default()
        };
        assert_eq!(
            t.summary(),
            [
                "go 1.26 (go_1_26, buildGo126Module)",
                "rust >= 1.86 (rustc)"
            ]
        );
        assert!(!t.is_empty() && Toolchains::default().is_empty());
    }
}
