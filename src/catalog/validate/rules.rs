//! Rules about single values (names, hashes, revs, descriptions, versions, exec placeholders).
//! Pure functions: they know nothing about files or spans, so they are easy to test and reuse
//! (the scaffolder and the edit forms can call them before anything reaches disk).

/// What is wrong with a value and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// How to fix it; every problem says.
    pub hint: String,
}

impl Problem {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Length of an SRI sha256 hash: `sha256-` plus 44 base64 characters ending in `=`.
pub const SRI_SHA256_LEN: usize = 51;

/// Nix's `lib.fakeHash`: a placeholder that can never match. `deps_hash = "unknown"` becomes this
/// in Nix, so it is what nix reports as `specified:` on the first build.
pub const FAKE_HASH: &str = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

const NIX32_ALPHABET: &str = "0123456789abcdfghijklmnpqrsvwxyz";

/// Names of packages, services and options: `[a-z0-9][a-z0-9._+-]*` (what Nix attribute names,
/// systemd unit names and store paths all accept without quoting surprises).
pub fn name(value: &str) -> Result<(), Problem> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._+-".contains(c));
    if first_ok && rest_ok {
        return Ok(());
    }
    if value.is_empty() {
        return Err(Problem::new(
            "is empty",
            "names match [a-z0-9][a-z0-9._+-]*",
        ));
    }
    Err(Problem::new(
        format!("`{value}` is not a valid name: names match [a-z0-9][a-z0-9._+-]*"),
        format!(
            "use lowercase letters, digits and . _ + -, e.g. `{}`",
            suggest_name(value)
        ),
    ))
}

fn suggest_name(value: &str) -> String {
    let mapped: String = value
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._+-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(['.', '_', '+', '-']);
    if trimmed.is_empty() {
        "my-name".into()
    } else {
        trimmed.into()
    }
}

/// An SRI sha256 hash (`sha256-<44 base64 chars>`), as `fetchFromGitHub` and the builders' dependency
/// hashes expect.
pub fn sri_sha256(value: &str) -> Result<(), Problem> {
    let to_sri = |h: &str| {
        format!(
            "convert it with `nix hash to-sri --type sha256 {h}`; an SRI sha256 hash is {SRI_SHA256_LEN} characters: \
             `sha256-` followed by 44 base64 characters ending in `=`"
        )
    };
    if let Some(rest) = value.strip_prefix("sha256-") {
        if is_base64_sha256(rest) {
            return Ok(());
        }
        if is_nix32_sha256(rest) {
            return Err(Problem::new(
                "is a base32 (Nix) hash labelled `sha256-`, not an SRI hash",
                to_sri(rest),
            ));
        }
        if is_hex_sha256(rest) {
            return Err(Problem::new(
                "is a hex hash labelled `sha256-`, not an SRI hash",
                to_sri(rest),
            ));
        }
        return Err(Problem::new(
            format!(
                "is not a valid SRI sha256 hash ({} characters; expected {SRI_SHA256_LEN}: `sha256-` followed by 44 \
                 base64 characters ending in `=`)",
                value.chars().count()
            ),
            "copy the `got:` hash from a build's hash-mismatch error, or compute it with `nix hash path DIR`",
        ));
    }
    if let Some(rest) = value.strip_prefix("sha256:") {
        return Err(Problem::new(
            "is an old-style `sha256:` hash, not an SRI hash",
            to_sri(rest),
        ));
    }
    if is_nix32_sha256(value) || is_hex_sha256(value) {
        return Err(Problem::new(
            "is a bare hash without the `sha256-` SRI prefix",
            to_sri(value),
        ));
    }
    if let Some((algo, _)) = value
        .split_once('-')
        .filter(|(a, _)| ["sha1", "sha512", "md5"].contains(a))
    {
        return Err(Problem::new(
            format!("is a {algo} hash; the catalog uses sha256"),
            "recompute it with `nix hash path --type sha256 DIR` (or `nix hash to-sri --type sha256`)",
        ));
    }
    Err(Problem::new(
        format!("`{value}` is not an SRI sha256 hash"),
        format!(
            "write `sha256-` followed by 44 base64 characters ending in `=` ({SRI_SHA256_LEN} characters in all)"
        ),
    ))
}

fn is_base64_sha256(s: &str) -> bool {
    s.len() == 44
        && s.ends_with('=')
        && s[..43]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn is_nix32_sha256(s: &str) -> bool {
    s.len() == 52 && s.chars().all(|c| NIX32_ALPHABET.contains(c))
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The 32 bytes of a sha256 hash written as SRI (`sha256-<base64>`), nix base32 (52 chars) or
/// hex (64 chars), optionally prefixed `sha256:`; None when it is none of these. Lets two
/// spellings of one hash compare equal (nix prints `specified:` in SRI whatever the file holds).
pub fn sha256_digest(h: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if let Some(b64) = h.strip_prefix("sha256-") {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let digits: Vec<u32> = b64
            .trim_end_matches('=')
            .bytes()
            .map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32))
            .collect::<Option<_>>()?;
        if digits.len() != 43 {
            return None;
        }
        let (mut acc, mut bits, mut n) = (0u32, 0, 0);
        for d in digits {
            acc = (acc << 6) | d;
            bits += 6;
            if bits >= 8 && n < 32 {
                bits -= 8;
                out[n] = (acc >> bits) as u8;
                n += 1;
            }
            acc &= (1 << bits) - 1;
        }
        return Some(out);
    }
    let h = h.strip_prefix("sha256:").unwrap_or(h);
    if h.len() == 64 {
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        return Some(out);
    }
    if h.len() == 52 {
        for (n, c) in h.bytes().rev().enumerate() {
            let d = NIX32_ALPHABET.bytes().position(|a| a == c)? as u16;
            let (i, j) = (n * 5 / 8, n * 5 % 8);
            out[i] |= (d << j) as u8;
            if i + 1 < 32 {
                out[i + 1] |= (d >> (8 - j)) as u8;
            } else if d >> (8 - j) != 0 {
                return None;
            }
        }
        return Some(out);
    }
    None
}

/// A git revision: exactly 40 lowercase hex digits. `url` (when known) makes the hint runnable.
pub fn rev(value: &str, url: Option<&str>) -> Result<(), Problem> {
    let url = url.unwrap_or("<repository url>");
    let is_hex = !value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && value.len() == 40 {
        if value.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Problem::new(
                "must be lowercase hex",
                format!("write `{}`", value.to_lowercase()),
            ));
        }
        return Ok(());
    }
    if value.is_empty() {
        return Err(Problem::new(
            "is empty; pin a 40-hex commit",
            format!("find one with `git ls-remote {url} HEAD`"),
        ));
    }
    if is_hex && value.len() < 40 {
        return Err(Problem::new(
            format!(
                "`{value}` is a short rev ({} hex digits); pin the full 40-hex commit",
                value.len()
            ),
            format!("expand it with `git rev-parse {value}` in a clone of {url}"),
        ));
    }
    if value == "HEAD" {
        return Err(Problem::new(
            "`HEAD` moves with every push; pin a 40-hex commit",
            format!("find the current commit with `git ls-remote {url} HEAD`"),
        ));
    }
    let looks_like_tag = value.starts_with(|c: char| c.is_ascii_digit())
        || (value.starts_with('v') && value[1..].starts_with(|c: char| c.is_ascii_digit()))
        || value.starts_with("refs/tags/");
    if looks_like_tag {
        let tag = value.trim_start_matches("refs/tags/");
        return Err(Problem::new(
            format!(
                "`{value}` looks like a tag; tags can move, pin the 40-hex commit it points at"
            ),
            format!("find it with `git ls-remote {url} 'refs/tags/{tag}^{{}}'`"),
        ));
    }
    let branch = value.trim_start_matches("refs/heads/");
    Err(Problem::new(
        format!("`{value}` is not a commit (a branch name?); pin a 40-hex commit"),
        format!("find the branch's current commit with `git ls-remote {url} refs/heads/{branch}`"),
    ))
}

/// A nixpkgs-style version: starts with a digit, no spaces; `unstable` snapshots end in a date.
pub fn version(value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(Problem::new(
            "is empty",
            "write the upstream version, or `0-unstable-YYYY-MM-DD` for a snapshot",
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(Problem::new(
            "contains whitespace",
            "nixpkgs versions have no spaces",
        ));
    }
    if let Some(rest) = value
        .strip_prefix('v')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err(Problem::new(
            "starts with `v`; nixpkgs versions start with a digit",
            format!("write `{rest}`"),
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(Problem::new(
            format!("`{value}` does not start with a digit"),
            "nixpkgs versions start with a digit; an untagged snapshot is `0-unstable-YYYY-MM-DD`",
        ));
    }
    if let Some((_, date)) = value.split_once("-unstable-")
        && !is_date(date)
    {
        return Err(Problem::new(
            format!("the unstable date `{date}` is not YYYY-MM-DD"),
            "write `0-unstable-YYYY-MM-DD` (or `X.Y.Z-unstable-YYYY-MM-DD`) with the commit's date",
        ));
    }
    Ok(())
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
}

/// nixpkgs `meta.description` rules: one line, capitalised, no leading article, not starting with
/// the package name, no trailing period. Every broken rule is its own problem.
pub fn description(value: &str, package: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    if value.trim().is_empty() {
        problems.push(Problem::new(
            "is empty",
            "write one short line saying what the package is",
        ));
        return problems;
    }
    if value.contains('\n') {
        problems.push(Problem::new(
            "spans several lines; nixpkgs descriptions are one line",
            "keep one short line here and move the rest to `long_description`",
        ));
    }
    if value != value.trim() {
        problems.push(Problem::new(
            "has leading or trailing whitespace",
            format!("write `{}`", value.trim()),
        ));
    }
    let text = value.trim();
    if text.ends_with('.') && !text.ends_with("...") {
        problems.push(Problem::new(
            "ends with a period; nixpkgs descriptions do not",
            format!("write `{}`", text.trim_end_matches('.')),
        ));
    }
    let first_word = text.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    if ["a", "an", "the"].contains(&first_word.to_lowercase().as_str()) {
        let rest = text[first_word.len()..].trim_start();
        problems.push(Problem::new(
            format!("starts with the article `{first_word}`; nixpkgs descriptions do not"),
            format!("write `{}`", capitalise(rest)),
        ));
    } else if starts_with_name(text, package) {
        problems.push(Problem::new(
            format!(
                "starts with the package name `{package}`; the name is already shown beside it"
            ),
            "say what it is instead, e.g. `Personal data server for the AT Protocol`",
        ));
    } else if text.starts_with(|c: char| c.is_lowercase()) {
        problems.push(Problem::new(
            "does not start with a capital letter",
            format!("write `{}`", capitalise(text)),
        ));
    }
    problems
}

fn starts_with_name(text: &str, package: &str) -> bool {
    let lower = text.to_lowercase();
    lower.starts_with(package) && !lower[package.len()..].starts_with(|c: char| c.is_alphanumeric())
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A placeholder found in a service's `exec` argument or string option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder<'a> {
    DataDir,
    ListenAddress,
    Port(&'a str),
    Option(&'a str),
    DatabaseUrl,
    DatabasePath,
    /// `{kind}` or `{kind:NAME}` with a kind the module does not know (or a missing NAME).
    Unknown(&'a str),
    /// `{kind:NAME}` whose NAME has characters the module's pattern does not accept, so it would
    /// stay literal text.
    Unsubstituted(&'a str),
}

/// The placeholders the module substitutes (`catalog/lib/service-common.nix`).
pub const PLACEHOLDERS: [&str; 6] = [
    "data_dir",
    "listen_address",
    "port:NAME",
    "option:NAME",
    "database_url",
    "database_path",
];

/// Every placeholder in one string, found the way the Nix module finds them: the pattern
/// `{[a-z_]+(:[A-Za-z0-9_.-]+)?}`. Other braces (`{"a": 1}`, `{}`) are literal text.
pub fn placeholders(arg: &str) -> Vec<Placeholder<'_>> {
    let mut found = Vec::new();
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(['}', '{']) else {
            break;
        };
        if after.as_bytes()[close] == b'{' {
            rest = &after[close..];
            continue;
        }
        let inner = &after[..close];
        let (kind, arg) = inner
            .split_once(':')
            .map_or((inner, None), |(k, a)| (k, Some(a)));
        let kind_ok = !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        let arg_ok = arg.is_none_or(|a| {
            !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        });
        if kind_ok && !arg_ok && arg.is_some_and(|a| !a.is_empty()) {
            found.push(Placeholder::Unsubstituted(inner));
        } else if kind_ok && arg_ok {
            found.push(match (kind, arg) {
                ("data_dir", None) => Placeholder::DataDir,
                ("listen_address", None) => Placeholder::ListenAddress,
                ("database_url", None) => Placeholder::DatabaseUrl,
                ("database_path", None) => Placeholder::DatabasePath,
                ("port", Some(n)) => Placeholder::Port(n),
                ("option", Some(n)) => Placeholder::Option(n),
                _ => Placeholder::Unknown(inner),
            });
        }
        rest = &after[close + 1..];
    }
    found
}

/// An environment variable name a service reads: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_var(value: &str) -> Result<(), Problem> {
    let ok = value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            format!("`{value}` is not a valid environment variable name"),
            "use letters, digits and `_`, not starting with a digit, e.g. `PDS_HOSTNAME`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_SRI: &str = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn names() {
        for ok in ["pds", "rsky-pds", "a", "0x", "foo.bar_baz+1"] {
            assert_eq!(name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Pds", "-pds", "_x", "my pds", "pds/relay", "é"] {
            assert!(name(bad).is_err(), "{bad}");
        }
        assert!(name("My_PDS").unwrap_err().hint.contains("`my_pds`"));
    }

    #[test]
    fn sri_hashes() {
        assert_eq!(sri_sha256(GOOD_SRI), Ok(()));
        assert_eq!(GOOD_SRI.len(), SRI_SHA256_LEN);
        let nix32 = "sha256-0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
        let p = sri_sha256(nix32).unwrap_err();
        assert!(p.message.contains("base32"), "{p:?}");
        assert!(p.hint.contains("nix hash to-sri --type sha256 0mdqa9w1"));
        let hex = format!(
            "sha256-{}",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(sri_sha256(&hex).unwrap_err().message.contains("hex hash"));
        assert!(sri_sha256("sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73").is_err());
        assert!(
            sri_sha256("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73")
                .unwrap_err()
                .message
                .contains("bare")
        );
        assert!(
            sri_sha256("sha256-tooshort=")
                .unwrap_err()
                .message
                .contains("51")
        );
        assert!(
            sri_sha256("sha512-abc")
                .unwrap_err()
                .message
                .contains("sha512")
        );
        assert!(sri_sha256("unknown").is_err());
    }

    #[test]
    fn revs() {
        let full = "6f52fc2c707f2b0c6a3c3f3b1c5d6e7f8a9b0c1d";
        assert_eq!(rev(full, None), Ok(()));
        assert!(
            rev(&full.to_uppercase(), None)
                .unwrap_err()
                .message
                .contains("lowercase")
        );
        assert!(
            rev("6f52fc2", None)
                .unwrap_err()
                .message
                .contains("short rev (7")
        );
        assert!(
            rev("HEAD", Some("https://x/y"))
                .unwrap_err()
                .hint
                .contains("git ls-remote https://x/y HEAD")
        );
        assert!(rev("v1.2.3", None).unwrap_err().message.contains("tag"));
        assert!(rev("main", None).unwrap_err().message.contains("branch"));
        assert!(rev("", None).is_err());
        assert!(rev(&format!("{full}0"), None).is_err());
    }

    #[test]
    fn versions() {
        for ok in [
            "1.2.3",
            "0-unstable-2026-05-05",
            "0.4.0-unstable-2025-12-31",
            "2024.1",
        ] {
            assert_eq!(version(ok), Ok(()), "{ok}");
        }
        assert!(version("v1.2.3").unwrap_err().hint.contains("`1.2.3`"));
        assert!(version("latest").is_err());
        assert!(version("0-unstable-2026-13-01").is_err());
        assert!(version("0-unstable-20260505").is_err());
        assert!(version("1 2").is_err());
    }

    #[test]
    fn descriptions() {
        assert!(
            description("Global backlink index for the ATmosphere", "constellation").is_empty()
        );
        assert!(description("Relay...", "x").is_empty());
        let one = |d: &str, n: &str| {
            let p = description(d, n);
            assert_eq!(p.len(), 1, "{d}: {p:?}");
            p.into_iter().next().unwrap()
        };
        assert!(one("Backlink index.", "c").message.contains("period"));
        assert_eq!(one("A backlink index", "c").hint, "write `Backlink index`");
        assert!(one("The index", "c").message.contains("article `The`"));
        assert!(
            one("Constellation backlink index", "constellation")
                .message
                .contains("package name")
        );
        assert!(
            one("constellation: index", "constellation")
                .message
                .contains("package name")
        );
        assert!(one("backlink index", "c").message.contains("capital"));
        assert!(one("Backlink\nindex", "c").message.contains("one line"));
        assert!(one("", "c").message.contains("empty"));
        assert_eq!(description("a thing.", "c").len(), 2);
    }

    #[test]
    fn starts_with_name_needs_a_word_boundary() {
        assert!(!starts_with_name(
            "Constellations of things",
            "constellation"
        ));
        assert!(starts_with_name("Goat, the CLI", "goat"));
    }

    #[test]
    fn exec_placeholders() {
        use Placeholder::*;
        assert_eq!(
            placeholders("{listen_address}:{port:http}"),
            vec![ListenAddress, Port("http")]
        );
        assert_eq!(placeholders("--data={data_dir}/db"), vec![DataDir]);
        assert_eq!(
            placeholders("{option:jetstream}"),
            vec![Option("jetstream")]
        );
        assert_eq!(
            placeholders("{data_directory}"),
            vec![Unknown("data_directory")]
        );
        assert_eq!(placeholders(r#"{"a": 1}"#), vec![]);
        assert_eq!(placeholders("{}{{port:x}"), vec![Port("x")]);
        assert_eq!(placeholders("{unclosed"), vec![]);
        assert_eq!(
            placeholders("{database_url}?x={database_path}"),
            vec![DatabaseUrl, DatabasePath]
        );
        assert_eq!(placeholders("{port}"), vec![Unknown("port")]);
        assert_eq!(
            placeholders("{port:}"),
            vec![],
            "not the module's pattern: literal text"
        );
        assert_eq!(
            placeholders("{option:c++}"),
            vec![Unsubstituted("option:c++")]
        );
        assert_eq!(placeholders("{Port:x}"), vec![]);
    }

    #[test]
    fn env_vars() {
        assert_eq!(env_var("PDS_HOSTNAME"), Ok(()));
        assert_eq!(env_var("_x1"), Ok(()));
        assert!(env_var("1X").is_err());
        assert!(env_var("PDS-HOST").is_err());
    }
}
