//! Limits on nesting, checked before anything recursive sees a file. The TOML parser recurses
//! once per level of arrays and inline tables, and walks over parsed values recurse once per
//! level of keys and values. On the small stack of a worker thread (the TUI reloads on one) a
//! few dozen levels overflow it, and a stack overflow aborts the whole program: no unwinding, no
//! diagnostic, the terminal left in raw mode. A real package needs about seven levels
//! (`services.<name>.options.<option>.default = [[...]]`), so the limits are far above any
//! package and far below what a small stack can hold.

use std::ops::Range;

use toml_spanner::{Item, Table};

/// Arrays and inline tables open at once inside one value, counted in the text before parsing.
pub const MAX_VALUE_NESTING: usize = 16;
/// Levels of the parsed document: each table (from a header, a dotted key or an inline table),
/// array and value below the top level counts one.
pub const MAX_DEPTH: usize = 32;

/// Byte offset of the first `[` or `{` that opens more than [`MAX_VALUE_NESTING`] levels inside a
/// value. Strings and comments are skipped as TOML lexes them, and a `[` at the start of a line
/// outside any value is a table header, not an array; the parser (which stops at its first error)
/// therefore never nests deeper than what is counted here.
pub fn value_nesting(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                i = skip_string(b, i);
                line_start = false;
                continue;
            }
            b'#' => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                continue;
            }
            b'\n' => line_start = true,
            b' ' | b'\t' | b'\r' => {}
            b'[' if depth == 0 && line_start => {
                i = skip_header(b, i);
                line_start = false;
                continue;
            }
            c @ (b'[' | b'{' | b']' | b'}') => {
                if c == b'[' || c == b'{' {
                    depth += 1;
                    if depth > MAX_VALUE_NESTING {
                        return Some(i);
                    }
                } else {
                    depth = depth.saturating_sub(1);
                }
                line_start = false;
            }
            _ => line_start = false,
        }
        i += 1;
    }
    None
}

/// Index just past the string starting at `start`: basic or literal, single- or multi-line. A
/// single-line string ends at the line's end at the latest (where the parser reports it).
fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let escapes = quote == b'"';
    if b[start..].starts_with(&[quote; 3]) {
        let mut i = start + 3;
        while i < b.len() {
            if escapes && b[i] == b'\\' {
                i += 2;
            } else if b[i..].starts_with(&[quote; 3]) {
                // Up to two more quotes belong to the string (`""""` ends with a quote in it).
                i += 3;
                let mut extra = 0;
                while extra < 2 && b.get(i) == Some(&quote) {
                    i += 1;
                    extra += 1;
                }
                return i;
            } else {
                i += 1;
            }
        }
        return b.len();
    }
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if escapes => i += 2,
            b'\n' => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Index just past a table header (`[a.b]`, `[[a]]`) starting at `start`; quoted keys are skipped.
fn skip_header(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if b.get(i) == Some(&b'[') {
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => i = skip_string(b, i),
            b']' => {
                i += 1;
                if b.get(i) == Some(&b']') {
                    i += 1;
                }
                return i;
            }
            b'\n' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The first place (in file order) where the parsed document goes deeper than [`MAX_DEPTH`].
pub struct TooDeep {
    /// The key (or array element) one level too deep.
    pub span: Range<usize>,
    /// Dotted path to it, `MAX_DEPTH + 1` parts at most.
    pub field: String,
}

/// Walk the document with an explicit stack (the walk itself must not recurse) and find where it
/// goes deeper than [`MAX_DEPTH`]; nothing below that point is visited.
pub fn too_deep(root: &Table<'_>) -> Option<TooDeep> {
    // Every key seen, as (parent node, name), so the path of a deep one can be rebuilt.
    let mut nodes: Vec<(usize, &str)> = Vec::new();
    let mut stack: Vec<(&Item<'_>, usize, usize, Range<usize>)> = Vec::new();
    for (key, value) in root {
        nodes.push((usize::MAX, key.name));
        stack.push((value, 1, nodes.len() - 1, key.span.range()));
    }
    let mut first: Option<(Range<usize>, usize)> = None;
    while let Some((item, depth, node, span)) = stack.pop() {
        if depth > MAX_DEPTH {
            if first.as_ref().is_none_or(|(s, _)| span.start < s.start) {
                first = Some((span, node));
            }
            continue;
        }
        if let Some(table) = item.as_table() {
            for (key, value) in table {
                nodes.push((node, key.name));
                stack.push((value, depth + 1, nodes.len() - 1, key.span.range()));
            }
        } else if let Some(array) = item.as_array() {
            for value in array {
                stack.push((value, depth + 1, node, value.span().range()));
            }
        }
    }
    let (span, mut node) = first?;
    let mut parts = Vec::new();
    while node != usize::MAX {
        parts.push(nodes[node].1);
        node = nodes[node].0;
    }
    parts.reverse();
    Some(TooDeep {
        span,
        field: parts.join("."),
    })
}

/// A field name for a message: a path of thousands of parts (a hostile dotted key) is shown by
/// its first parts and its length.
pub fn short_field(field: String) -> String {
    const SHOWN: usize = 8;
    let parts = field.split('.').count();
    if parts <= MAX_DEPTH + 1 {
        return field;
    }
    let head: Vec<&str> = field.split('.').take(SHOWN).collect();
    format!("{}.… ({parts} parts)", head.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!("x = {}{}\n", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn value_nesting_counts_arrays_and_inline_tables_inside_values() {
        assert_eq!(value_nesting(&nested(MAX_VALUE_NESTING)), None);
        assert_eq!(
            value_nesting(&nested(MAX_VALUE_NESTING + 1)),
            Some(4 + MAX_VALUE_NESTING)
        );
        let inline = format!("x = {}1{}", "{a=".repeat(17), "}".repeat(17));
        assert!(value_nesting(&inline).is_some());
        // Depth is per value: many shallow values are fine.
        assert_eq!(value_nesting(&nested(10).repeat(100)), None);
        // A multi-line array keeps its depth across lines; a `[` at a line start inside it is
        // an array, not a header.
        let multi = format!("x = [\n{}\n{}]", "[".repeat(16), "]".repeat(16));
        assert!(value_nesting(&multi).is_some());
    }

    #[test]
    fn value_nesting_skips_strings_comments_and_headers() {
        let deep = "[".repeat(100);
        for text in [
            format!("# {deep}\n"),
            format!("x = \"{deep}\"\n"),
            format!("x = '{deep}'\n"),
            format!("x = \"\"\"\n{deep}\n\"\"\"\n"),
            format!("x = '''\n{deep}'''\n"),
            format!("x = \"\\\"{deep}\"\n"),
            format!("x = \"\"\"a\"\"\"\"\ny = '{deep}'\n"),
            format!("[\"{deep}\"]\n[[a.\"{deep}\"]]\n"),
        ] {
            assert_eq!(value_nesting(&text), None, "{text:?}");
        }
        // A single-line string ends at the line's end, as the parser reads it.
        assert!(value_nesting(&format!("x = \"open\ny = {deep}")).is_some());
    }

    fn parse_depth(text: &str) -> Option<(String, usize)> {
        let arena = toml_spanner::Arena::new();
        let doc = toml_spanner::parse(text, &arena).unwrap();
        too_deep(doc.table()).map(|d| (d.field, d.span.start))
    }

    #[test]
    fn too_deep_finds_the_first_key_past_the_limit() {
        let ok = format!("{} = 1\n", vec!["a"; MAX_DEPTH].join("."));
        assert_eq!(parse_depth(&ok), None);
        let long = format!("x = 1\n{} = 1\n", vec!["a"; 40].join("."));
        let (field, at) = parse_depth(&long).unwrap();
        assert_eq!(field, vec!["a"; MAX_DEPTH + 1].join("."));
        assert_eq!(at, 6 + 2 * MAX_DEPTH, "the 33rd part");
        let header = format!("[{}]\nx = 1\n", vec!["b"; 10_000].join("."));
        assert_eq!(parse_depth(&header).unwrap().1, 1 + 2 * MAX_DEPTH);
        // Arrays and inline tables count as levels too.
        let mixed = format!("[{}]\nx = [[{{ y = [1] }}]]\n", vec!["c"; 28].join("."));
        assert_eq!(
            parse_depth(&mixed).unwrap().0,
            format!("{}.x.y", vec!["c"; 28].join("."))
        );
    }

    #[test]
    fn long_fields_are_shortened() {
        assert_eq!(short_field("a.b".into()), "a.b");
        let long = vec!["a"; 30_000].join(".");
        assert_eq!(short_field(long), "a.a.a.a.a.a.a.a.… (30000 parts)");
    }
}
