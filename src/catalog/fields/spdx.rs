//! SPDX license identifiers the license pick list offers (a fact list: the ids only, the
//! licenses packages in a NUR plausibly carry; the full list is at spdx.org/licenses). An id not
//! listed here is still accepted by the validator when it has SPDX's shape; the list is what a
//! form offers and what a typo is matched against.

/// The ids, sorted as `sort` sorts ASCII (upper case first).
pub const LICENSE_IDS: &[&str] = &[
    "0BSD",
    "AFL-3.0",
    "AGPL-1.0-only",
    "AGPL-1.0-or-later",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.0",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-2.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-2-Clause-Patent",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSD-4-Clause",
    "BSL-1.0",
    "BUSL-1.1",
    "BlueOak-1.0.0",
    "CAL-1.0",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CECILL-2.1",
    "CPAL-1.0",
    "ECL-2.0",
    "EFL-2.0",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.1",
    "EUPL-1.2",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "LPPL-1.3c",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "MPL-2.0-no-copyleft-exception",
    "MS-PL",
    "MS-RL",
    "MirOS",
    "MulanPSL-2.0",
    "NCSA",
    "NOASSERTION",
    "ODbL-1.0",
    "OFL-1.1",
    "OSL-3.0",
    "OpenSSL",
    "PostgreSQL",
    "Python-2.0",
    "Ruby",
    "SSPL-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "zlib-acknowledgement",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_have_spdx_shape() {
        let mut seen = std::collections::BTreeSet::new();
        for id in LICENSE_IDS {
            assert!(seen.insert(id.to_ascii_lowercase()), "{id} twice");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b)),
                "{id}"
            );
        }
    }
}
