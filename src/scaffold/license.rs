//! SPDX ids from license files. A small matcher over the normalised text (lowercase words,
//! punctuation and line breaks ignored) of the licenses upstream projects use, each recognised
//! by phrases only its own text has; the full license texts are not shipped.
//!
//! The GPL family's texts are the same for "only" and "or later" (the choice is made in each
//! source file's notice), so a text alone gives `-only`; a manifest that says otherwise wins.

/// Phrases that identify a license when all of them are in the text, most specific first.
const RULES: &[(&str, &[&str])] = &[
    (
        "AGPL-3.0-only",
        &["gnu affero general public license", "version 3"],
    ),
    (
        "LGPL-3.0-only",
        &["gnu lesser general public license", "version 3"],
    ),
    (
        "LGPL-2.1-only",
        &["gnu lesser general public license", "version 2 1"],
    ),
    (
        "GPL-3.0-only",
        &["gnu general public license", "version 3 29 june 2007"],
    ),
    (
        "GPL-2.0-only",
        &["gnu general public license", "version 2 june 1991"],
    ),
    ("MPL-2.0", &["mozilla public license version 2 0"]),
    (
        "Apache-2.0",
        &[
            "apache license",
            "version 2 0",
            "terms and conditions for use reproduction and distribution",
        ],
    ),
    (
        "Apache-2.0",
        &["licensed under the apache license version 2 0"],
    ),
    (
        "MIT",
        &["permission is hereby granted free of charge to any person obtaining a copy"],
    ),
    (
        "ISC",
        &[
            "permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted provided that the above copyright notice and this permission notice appear in all copies",
        ],
    ),
    (
        "0BSD",
        &[
            "permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted",
        ],
    ),
    (
        "BSD-3-Clause",
        &[
            "redistribution and use in source and binary forms with or without modification are permitted",
            "neither the name of",
        ],
    ),
    (
        "BSD-3-Clause",
        &[
            "redistribution and use in source and binary forms with or without modification are permitted",
            "may be used to endorse or promote products derived from this software",
        ],
    ),
    (
        "BSD-2-Clause",
        &[
            "redistribution and use in source and binary forms with or without modification are permitted",
        ],
    ),
    (
        "Unlicense",
        &["this is free and unencumbered software released into the public domain"],
    ),
    ("BSL-1.0", &["boost software license version 1 0"]),
    (
        "Zlib",
        &[
            "this software is provided as is without any express or implied warranty in no event will the authors be held liable",
            "the origin of this software must not be misrepresented",
        ],
    ),
];

/// Lowercase words separated by single spaces.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_string()
}

/// The SPDX id of one license file's text, if it is one of the known licenses.
pub fn identify(text: &str) -> Option<&'static str> {
    let norm = normalise(text);
    RULES
        .iter()
        .find(|(_, phrases)| phrases.iter().all(|p| norm.contains(p)))
        .map(|(id, _)| *id)
}

/// Whether a file name is a license file (`LICENSE`, `LICENSE-MIT`, `COPYING.md`, ...).
pub fn is_license_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let stem = upper.split('.').next().unwrap_or("");
    ["LICENSE", "LICENCE", "COPYING", "UNLICENSE"]
        .iter()
        .any(|p| {
            stem == *p || stem.starts_with(&format!("{p}-")) || stem.starts_with(&format!("{p}_"))
        })
}

/// An SPDX expression from a manifest (`MIT OR Apache-2.0`, `(MIT AND Zlib)`, `MIT/Apache-2.0`)
/// as a list of ids, the way the catalog writes mixed licensing.
pub fn split_expression(expr: &str) -> Vec<String> {
    expr.split(|c: char| c.is_whitespace() || "()/".contains(c))
        .filter(|t| !t.is_empty() && !matches!(*t, "OR" | "AND" | "WITH" | "or" | "and"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_phrases_identify_and_others_do_not() {
        let mit = "Permission is hereby granted, free of charge, to any person obtaining a copy\nof this software";
        assert_eq!(identify(mit), Some("MIT"));
        let bsd2 = "Redistribution and use in source and binary forms, with or without\nmodification, are permitted provided that";
        assert_eq!(identify(bsd2), Some("BSD-2-Clause"));
        let bsd3 = format!("{bsd2} ... Neither the name of the copyright holder nor");
        assert_eq!(identify(&bsd3), Some("BSD-3-Clause"));
        assert_eq!(identify("All rights reserved."), None);
        assert!(is_license_file("LICENSE-APACHE"));
        assert!(is_license_file("COPYING.md"));
        assert!(!is_license_file("LICENSES_THIRD_PARTY"));
        assert_eq!(split_expression("MIT OR Apache-2.0"), ["MIT", "Apache-2.0"]);
        assert_eq!(split_expression("(MIT/Apache-2.0)"), ["MIT", "Apache-2.0"]);
    }
}
