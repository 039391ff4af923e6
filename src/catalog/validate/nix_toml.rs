//! TOML that our parser accepts but Nix's `builtins.fromTOML` does not. Nix 2.8 reads TOML 1.0
//! (toml11) and has no dates; the parser here reads TOML 1.1. Checked against the real Nix 2.8
//! (`tests/loader.rs` runs it on the corpus): dates, newlines or a trailing comma inside an inline
//! table, and the `\e` / `\xHH` string escapes all fail in `fromTOML`.

use super::rules::Problem;

/// What is wrong, for Nix, with the source text of one inline table (`{ ... }`), nested ones
/// included: a line break outside strings and arrays, or a comma right before `}`.
pub fn inline_table(text: &str) -> Vec<Problem> {
    let bytes = text.as_bytes();
    let mut open: Vec<u8> = Vec::new();
    let mut last_significant = 0u8;
    let (mut newline, mut trailing_comma) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' => {
                i = skip_string(bytes, i);
                last_significant = b;
                continue;
            }
            b'{' | b'[' => open.push(b),
            b'}' => {
                trailing_comma |= last_significant == b',';
                open.pop();
            }
            b']' => {
                open.pop();
            }
            // A comment can only end with a line break, so it is covered by the newline case.
            b'\n' if open.last() == Some(&b'{') => newline = true,
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            last_significant = b;
        }
        i += 1;
    }
    let mut problems = Vec::new();
    if newline {
        problems.push(Problem::new(
            "inline table spans several lines (TOML 1.1); Nix's builtins.fromTOML reads TOML 1.0 and rejects it",
            "write the inline table on one line, or as its own [section]",
        ));
    }
    if trailing_comma {
        problems.push(Problem::new(
            "inline table ends with a comma (TOML 1.1); Nix's builtins.fromTOML reads TOML 1.0 and rejects it",
            "remove the comma before `}`",
        ));
    }
    problems
}

/// Index just past the string starting at `start` (basic, literal, or their multi-line forms).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let triple = bytes[start..].starts_with(&[quote, quote, quote]);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        if quote == b'"' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote && (!triple || bytes[i..].starts_with(&[quote, quote, quote])) {
            return i + if triple { 3 } else { 1 };
        }
        i += 1;
    }
    bytes.len()
}

/// The TOML 1.1 escapes `\e` and `\xHH` in the source text of one basic string value.
pub fn string_escapes(raw: &str) -> Option<Problem> {
    if !raw.starts_with('"') || !raw.contains('\\') {
        return None;
    }
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            let fix = match bytes[i + 1] {
                b'e' => Some("write \\u001b for the escape character".to_string()),
                b'x' => {
                    let hex = raw.get(i + 2..i + 4).unwrap_or("HH");
                    Some(format!("write \\u00{hex} instead"))
                }
                _ => None,
            };
            if let Some(hint) = fix {
                let escape = &raw[i..(i + 2).min(raw.len())];
                return Some(Problem::new(
                    format!(
                        "`{escape}` is a TOML 1.1 escape; Nix's builtins.fromTOML reads TOML 1.0 and rejects it"
                    ),
                    hint,
                ));
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_tables() {
        assert!(inline_table("{ a = 1, b = \"x\" }").is_empty());
        assert!(
            inline_table("{ a = [\n  1,\n  2,\n] }").is_empty(),
            "arrays may span lines and end with a comma"
        );
        assert!(
            inline_table("{ a = \"\"\"x\ny\"\"\" }").is_empty(),
            "a multi-line string is one value"
        );
        assert!(inline_table("{ a = \"}\", b = '{' }").is_empty());
        let p = inline_table("{ a = 1,\n  b = 2 }");
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("several lines"));
        let p = inline_table("{ a = 1, }");
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("ends with a comma"));
        assert_eq!(inline_table("{ a = { b = 1, },\n}").len(), 2);
        assert!(inline_table("{ a = \"x,\" }").is_empty());
    }

    #[test]
    fn escapes() {
        assert_eq!(string_escapes(r#""plain""#), None);
        assert_eq!(string_escapes(r#""tab\tand \u001b""#), None);
        assert_eq!(
            string_escapes(r#""back\\e""#),
            None,
            "an escaped backslash then a letter e"
        );
        assert_eq!(
            string_escapes(r"'literal \e'"),
            None,
            "literal strings have no escapes"
        );
        let p = string_escapes(r#""colour \e[1m""#).unwrap();
        assert!(p.message.starts_with("`\\e` is a TOML 1.1 escape"));
        assert_eq!(
            string_escapes(r#""\x41""#).unwrap().hint,
            "write \\u0041 instead"
        );
    }
}
