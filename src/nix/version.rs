//! Which nix is installed, from `nix --version`, and what follows for the command lines atwb
//! builds. Pure: the caller runs `nix --version` and hands over what it printed.
//!
//! The one difference that matters today is how a `.drv` path names "all its outputs". Nix up to
//! 2.14 reads a plain `/nix/store/…drv` installable that way (2.8 refuses `drv^*`: "is not a
//! valid URL"). Since Nix 2.15 a plain `.drv` path is the store path of the `.drv` file itself:
//! `nix build X.drv` succeeds, prints `["X.drv"]` and builds nothing (checked with 2.26.3 and
//! 2.34.8), so `X.drv^*` is needed. Lix forked from Nix 2.18 and takes `^*` too.

/// A nix as `nix --version` names it: `nix (Nix) 2.34.8`, `nix (Lix, like Nix) 2.91.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NixVersion {
    /// Lix rather than Nix: its version numbers are its own (2.90 and later).
    pub lix: bool,
    pub major: u32,
    pub minor: u32,
}

/// How a derivation path is written so that `nix build` realises all its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrvOutputs {
    /// `/nix/store/…drv`: Nix before 2.15.
    PlainPath,
    /// `/nix/store/…drv^*`: Nix 2.15 and later, and Lix.
    AllOutputsSuffix,
    /// The version could not be told: the plain path (what old Nix needs), and a build that
    /// reports no output must not count as done (see `jobs::engine::result`).
    Unknown,
}

impl NixVersion {
    /// The first line of `nix --version`, or None when it does not look like one. Suffixes
    /// after the numbers (`2.16.0pre20230411_ef0b483`, `2.26.3+dfsg`) are ignored.
    pub fn parse(text: &str) -> Option<NixVersion> {
        let line = text.lines().next()?.trim();
        let rest = line.strip_prefix("nix ")?;
        let (product, numbers) = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')')?,
            None => ("Nix", rest),
        };
        let mut parts = numbers.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(NixVersion {
            lix: product.starts_with("Lix"),
            major,
            minor: minor.parse().ok()?,
        })
    }

    pub fn drv_outputs(self) -> DrvOutputs {
        if self.lix || (self.major, self.minor) >= (2, 15) {
            DrvOutputs::AllOutputsSuffix
        } else {
            DrvOutputs::PlainPath
        }
    }
}

/// What `nix --version` printed (None: it could not be run) into the drv syntax to use.
pub fn drv_outputs_of(version_output: Option<&str>) -> DrvOutputs {
    version_output
        .and_then(NixVersion::parse)
        .map_or(DrvOutputs::Unknown, NixVersion::drv_outputs)
}

/// The installable that builds every output of `drv`.
pub fn drv_installable(drv: &str, outputs: DrvOutputs) -> String {
    match outputs {
        DrvOutputs::AllOutputsSuffix => format!("{drv}^*"),
        DrvOutputs::PlainPath | DrvOutputs::Unknown => drv.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_nix_and_lix_print_them() {
        let v = |t| NixVersion::parse(t).map(|v| (v.lix, v.major, v.minor));
        // As printed by the nix 2.8.0, 2.26.3 and 2.34.8 this was checked with.
        assert_eq!(v("nix (Nix) 2.8.0\n"), Some((false, 2, 8)));
        assert_eq!(v("nix (Nix) 2.26.3"), Some((false, 2, 26)));
        assert_eq!(v("nix (Nix) 2.34.8"), Some((false, 2, 34)));
        assert_eq!(v("nix (Lix, like Nix) 2.91.1"), Some((true, 2, 91)));
        assert_eq!(
            v("nix (Nix) 2.16.0pre20230411_ef0b483"),
            Some((false, 2, 16))
        );
        assert_eq!(v("nix 2.3.16"), Some((false, 2, 3)));
        for bad in ["", "command not found", "nix (Nix)", "nix (Nix) two"] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_drv_syntax_follows_the_version() {
        use DrvOutputs::{AllOutputsSuffix, PlainPath, Unknown};
        let of = |t: &str| drv_outputs_of(Some(t));
        assert_eq!(of("nix (Nix) 2.8.0"), PlainPath);
        assert_eq!(of("nix (Nix) 2.14.1"), PlainPath);
        assert_eq!(of("nix (Nix) 2.15.0"), AllOutputsSuffix);
        assert_eq!(of("nix (Nix) 2.34.8"), AllOutputsSuffix);
        assert_eq!(of("nix (Lix, like Nix) 2.91.1"), AllOutputsSuffix);
        assert_eq!(of("something else"), Unknown);
        assert_eq!(drv_outputs_of(None), Unknown);
        let drv = "/nix/store/x-ok.drv";
        assert_eq!(
            drv_installable(drv, AllOutputsSuffix),
            "/nix/store/x-ok.drv^*"
        );
        assert_eq!(drv_installable(drv, PlainPath), drv);
        assert_eq!(drv_installable(drv, Unknown), drv);
    }
}
