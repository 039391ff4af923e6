//! Git's glob dialect (`wildmatch`), as `.gitattributes` patterns use it: `*`, `?`, `[...]` with
//! `!`/`^` negation, ranges and `[:class:]`, `\` escapes, and with `pathname` set, `*`/`?`/`[..]`
//! never match `/` while `**` between slashes matches any number of directories.
//!
//! The abort results are git's too: they cut the backtracking short (a `*` that cannot reach
//! the next `/` need not be retried by outer stars), which keeps patterns like `*a*a*a*b` linear.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Match,
    NoMatch,
    AbortAll,
    AbortToStarStar,
}

/// Whether `text` matches the git wildcard `pattern`.
pub fn wildmatch(pattern: &[u8], text: &[u8], pathname: bool) -> bool {
    dowild(pattern, text, pathname) == Res::Match
}

fn dowild(p: &[u8], t: &[u8], pathname: bool) -> Res {
    let (mut pi, mut ti) = (0usize, 0usize);
    while pi < p.len() {
        let pc = p[pi];
        if ti >= t.len() && pc != b'*' {
            return Res::AbortAll;
        }
        match pc {
            b'\\' => {
                // A trailing backslash compares as NUL, which no text byte equals.
                pi += 1;
                if p.get(pi) != t.get(ti) {
                    return Res::NoMatch;
                }
            }
            b'?' => {
                if pathname && t[ti] == b'/' {
                    return Res::NoMatch;
                }
            }
            b'*' => match star(p, pi, t, ti, pathname) {
                Star::Done(res) => return res,
                Star::SkipTo { pattern, text } => {
                    pi = pattern;
                    ti = text;
                }
            },
            b'[' => match class(p, pi, t[ti], pathname) {
                Some(end) => pi = end,
                None => return Res::NoMatch,
            },
            _ => {
                if pc != t[ti] {
                    return Res::NoMatch;
                }
            }
        }
        pi += 1;
        ti += 1;
    }
    if ti < t.len() {
        Res::NoMatch
    } else {
        Res::Match
    }
}

enum Star {
    Done(Res),
    /// `*/` matched up to the next slash: continue at these positions (both on the `/`).
    SkipTo {
        pattern: usize,
        text: usize,
    },
}

/// A run of stars at `p[pi]`, matched against `t[ti..]`.
fn star(p: &[u8], pi: usize, t: &[u8], ti: usize, pathname: bool) -> Star {
    let mut pi = pi + 1;
    let match_slash;
    if p.get(pi) == Some(&b'*') {
        let before = pi.checked_sub(2).map(|i| p[i]);
        while p.get(pi) == Some(&b'*') {
            pi += 1;
        }
        let at_dir_start = before.is_none() || before == Some(b'/');
        let next = p.get(pi).copied();
        let at_dir_end = next.is_none()
            || next == Some(b'/')
            || (next == Some(b'\\') && p.get(pi + 1) == Some(&b'/'));
        if at_dir_start && at_dir_end {
            // `**/` may match no directory at all: try the rest right here first.
            if next == Some(b'/') && dowild(&p[pi + 1..], &t[ti..], pathname) == Res::Match {
                return Star::Done(Res::Match);
            }
            match_slash = true;
        } else {
            match_slash = false;
        }
    } else {
        match_slash = !pathname;
    }
    if pi == p.len() {
        // A trailing `**` matches everything, a trailing `*` only what has no more slashes.
        if !match_slash && t[ti..].contains(&b'/') {
            return Star::Done(Res::AbortToStarStar);
        }
        return Star::Done(Res::Match);
    }
    if !match_slash && p[pi] == b'/' {
        return match t[ti..].iter().position(|&c| c == b'/') {
            Some(k) => Star::SkipTo {
                pattern: pi,
                text: ti + k,
            },
            None => Star::Done(Res::AbortAll),
        };
    }
    let mut ti = ti;
    while ti < t.len() {
        let res = dowild(&p[pi..], &t[ti..], pathname);
        if res != Res::NoMatch {
            if !match_slash || res != Res::AbortToStarStar {
                return Star::Done(res);
            }
        } else if !match_slash && t[ti] == b'/' {
            return Star::Done(Res::AbortToStarStar);
        }
        ti += 1;
    }
    Star::Done(Res::AbortAll)
}

/// A bracket expression starting at `p[start] == '['` against the byte `tc`: the index of its
/// closing `]` if `tc` is in the set, `None` if not (or if the expression is malformed, which git
/// treats as a failed match of the whole pattern).
fn class(p: &[u8], start: usize, tc: u8, pathname: bool) -> Option<usize> {
    let mut i = start + 1;
    let mut negated = false;
    if matches!(p.get(i), Some(b'!' | b'^')) {
        negated = true;
        i += 1;
    }
    let mut matched = false;
    let mut prev: Option<u8> = None;
    loop {
        let c = *p.get(i)?;
        let mut this = Some(c);
        if c == b'\\' {
            i += 1;
            let esc = *p.get(i)?;
            matched |= tc == esc;
            this = Some(esc);
        } else if c == b'-' && prev.is_some() && p.get(i + 1).is_some_and(|&n| n != b']') {
            i += 1;
            let mut hi = p[i];
            if hi == b'\\' {
                i += 1;
                hi = *p.get(i)?;
            }
            let lo = prev.unwrap_or(0);
            matched |= lo <= tc && tc <= hi;
            this = None;
        } else if c == b'[' && p.get(i + 1) == Some(&b':') {
            let name_start = i + 2;
            let close = name_start + p[name_start..].iter().position(|&x| x == b']')?;
            if close > name_start && p[close - 1] == b':' {
                matched |= in_named_class(&p[name_start..close - 1], tc)?;
                i = close;
                this = None;
            } else {
                // No `:]`: the `[` is an ordinary member.
                matched |= tc == b'[';
            }
        } else {
            matched |= tc == c;
        }
        prev = this;
        i += 1;
        if p.get(i) == Some(&b']') {
            break;
        }
    }
    if matched == negated || (pathname && tc == b'/') {
        return None;
    }
    Some(i)
}

/// `[:name:]`; `None` for an unknown class name (git aborts the match).
fn in_named_class(name: &[u8], c: u8) -> Option<bool> {
    Some(match name {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c.is_ascii_control(),
        b"digit" => c.is_ascii_digit(),
        b"graph" => c.is_ascii_graphic(),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"punct" => c.is_ascii_punctuation(),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::wildmatch;

    fn m(p: &str, t: &str) -> bool {
        wildmatch(p.as_bytes(), t.as_bytes(), true)
    }

    #[test]
    fn stars_respect_slashes_with_pathname() {
        assert!(m("*.log", "a.log"));
        assert!(!m("*.log", "d/a.log"));
        assert!(m("d/*.log", "d/a.log"));
        assert!(!m("d/*", "d/e/f"));
        assert!(m("d/**", "d/e/f"));
        assert!(m("**/f", "f"));
        assert!(m("**/f", "a/b/f"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(!m("a/**/b", "a/xb"));
        assert!(m("a**b", "axxb"));
        assert!(!m("a**b", "a/b"));
        assert!(m("*/b", "a/b"));
        assert!(!m("*/b", "a/c/b"));
        assert!(wildmatch(b"*", b"a/b", false));
    }

    #[test]
    fn classes_escapes_and_question_marks() {
        assert!(m("[abc].txt", "b.txt"));
        assert!(!m("[!abc].txt", "b.txt"));
        assert!(m("[^abc].txt", "d.txt"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("[[:digit:]]*", "7up"));
        assert!(!m("[[:bogus:]]", "a"));
        assert!(m("[[:x]", "["), "no `:]` makes `[` a member");
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("?", "a"));
        assert!(!m("?", "/"));
        assert!(!m("a?", "a"));
        assert!(!m("[/]", "/"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let text = "a".repeat(200);
        assert!(!m("*a*a*a*a*a*a*a*a*a*a*b", &text));
    }
}
