//! Credentials never inline: an option's `default` or `example` (and an `exec` argument) that
//! looks like a credential would be written into the unit's `Environment=` or `ExecStart=`, which
//! live in the world-readable Nix store. Secrets are `secret-file` options instead, whose files
//! systemd reads at start.

use super::doc::{Doc, Field, Value};
use super::rules::Problem;

/// Endings of environment variable names that hold a credential (after a `_`, or the whole name).
/// The same list as `credentialSuffixes` in catalog/lib/service-common.nix, which refuses such
/// values at evaluation.
pub const CREDENTIAL_SUFFIXES: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "KEY",
    "TOKEN",
    "PRIVATE_KEY_HEX",
    "CREDENTIALS",
];

/// The credential ending of `name` (an env var, or an option name read as one), if any.
pub fn credential_name(name: &str) -> Option<&'static str> {
    let upper: String = name
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    CREDENTIAL_SUFFIXES
        .iter()
        .filter(|s| upper == **s || upper.ends_with(&format!("_{s}")))
        .max_by_key(|s| s.len())
        .copied()
}

/// `scheme://user:password@host...` (or `scheme://:password@host`): the URL with its password
/// masked, for the message. A placeholder-free `user@host` has no password and is fine.
pub fn url_with_password(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (userinfo, host) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    if password.is_empty() {
        return None;
    }
    Some(format!(
        "{scheme}://{user}:***@{host}{}",
        &rest[authority_end..]
    ))
}

/// Token prefixes that name what a credential is (GitHub, GitLab, Slack, AWS, OpenAI-style keys).
const TOKEN_PREFIXES: &[(&str, &str)] = &[
    ("ghp_", "a GitHub personal access token"),
    ("gho_", "a GitHub OAuth token"),
    ("ghu_", "a GitHub user token"),
    ("ghs_", "a GitHub server token"),
    ("ghr_", "a GitHub refresh token"),
    ("github_pat_", "a GitHub fine-grained token"),
    ("glpat-", "a GitLab token"),
    ("xoxb-", "a Slack bot token"),
    ("xoxp-", "a Slack user token"),
    ("AKIA", "an AWS access key id"),
    ("sk-", "an API secret key"),
];

/// Why `s` looks like a secret itself rather than a path or a name: a PEM block, a known token
/// prefix, a JWT, or a long run of hex or base64 with high entropy. None when it does not.
/// Paths with a `/` and placeholder text (`{data_dir}/key`) are never long random runs, so
/// real paths pass.
pub fn looks_like_secret(s: &str) -> Option<String> {
    let t = s.trim();
    if t.contains("-----BEGIN") {
        return Some("it holds a PEM block (`-----BEGIN ...`), i.e. a key or certificate".into());
    }
    if let Some((_, what)) = TOKEN_PREFIXES
        .iter()
        .find(|(p, _)| t.starts_with(p) && t.len() >= p.len() + 16)
    {
        return Some(format!("it starts like {what}"));
    }
    if t.starts_with("eyJ") && t.split('.').count() == 3 && t.len() > 30 {
        return Some("it is a JSON web token".into());
    }
    // Store paths name a hash of their inputs, not a secret.
    if t.starts_with("/nix/store/") {
        return None;
    }
    let run = t
        .split(|c: char| !(c.is_ascii_alphanumeric() || "+=_-".contains(c)))
        .max_by_key(|w| w.len())
        .unwrap_or_default();
    if run.len() >= 32 && run.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("it holds {} hex digits, like a key", run.len()));
    }
    let mixed = run.bytes().any(|b| b.is_ascii_uppercase())
        && run.bytes().any(|b| b.is_ascii_lowercase())
        && run.bytes().any(|b| b.is_ascii_digit());
    if run.len() >= 24 && mixed && entropy_bits_per_char(run) >= 4.0 {
        return Some(format!(
            "it holds a {}-character random-looking string (high entropy), like a key or token",
            run.len()
        ));
    }
    None
}

/// Shannon entropy of the characters of `s`, in bits per character.
fn entropy_bits_per_char(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// What is wrong with one string value of an option whose variable is `name`.
fn string_problem(text: &str, key: &str, name: Option<&str>) -> Option<Problem> {
    if let Some(masked) = url_with_password(text) {
        return Some(Problem::new(
            format!(
                "{key} `{masked}` holds a password in a URL: it would be written into the world-readable Nix store"
            ),
            "take the password out of the URL: the user passes it in a `secret-file` option (or the database's \
             passwordFile), which systemd reads at start",
        ));
    }
    let ending = name.and_then(credential_name)?;
    if text.is_empty() {
        return None;
    }
    Some(Problem::new(
        format!(
            "`{}` ends in _{ending}, so {} {key} here is a credential, and it would be written into the \
             world-readable Nix store",
            name.unwrap_or_default(),
            if key.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            }
        ),
        format!(
            "make the option type = \"secret-file\" and remove the {key}: the user points it at a file outside \
             the store (services.atproto.<service>.secrets.<option>)"
        ),
    ))
}

/// Check an option's `default` or `example` (`key`); `name` is its env var, or the option's name
/// when it has none. True when it is fine.
pub(super) fn check_value(
    doc: &mut Doc<'_>,
    field: Field<'_>,
    key: &str,
    v: &Value<'_>,
    name: Option<&str>,
) -> bool {
    if let Some(items) = v.as_array() {
        let mut ok = true;
        for item in items {
            ok &= check_value(doc, field, key, item, name);
        }
        return ok;
    }
    let Some(problem) = v.as_str().and_then(|s| string_problem(s, key, name)) else {
        // Numbers and booleans are credentials too when the variable says so (a numeric PIN).
        let scalar = v.as_i64().is_some() || v.as_f64().is_some();
        if scalar && let Some(p) = string_problem(&doc.src[v.span().range()], key, name) {
            doc.problem(v.span().range(), field, p);
            return false;
        }
        return true;
    };
    doc.problem(v.span().range(), field, problem);
    false
}

/// A `path` option's `default` or `example` (`key`) that is a secret itself rather than the
/// path of one (a PEM block, a token): it would be in the store. True when it is fine.
pub(super) fn check_path_value(
    doc: &mut Doc<'_>,
    field: Field<'_>,
    key: &str,
    v: &Value<'_>,
) -> bool {
    let Some(reason) = v.as_str().and_then(looks_like_secret) else {
        return true;
    };
    doc.problem(
        v.span().range(),
        field,
        Problem::new(
            format!("the {key} looks like a secret itself ({reason}): a path option takes a path"),
            "write the path of a file outside the Nix store; a secret belongs in a `secret-file` option",
        ),
    );
    false
}

/// An `exec` argument with a password in a URL (the env-name rule does not apply to arguments).
pub(super) fn check_exec(doc: &mut Doc<'_>, field: Field<'_>, v: &Value<'_>) -> bool {
    let mut ok = true;
    for item in v.as_array().into_iter().flat_map(|a| a.iter()) {
        if let Some(p) = item
            .as_str()
            .and_then(url_with_password)
            .map(|masked| {
                Problem::new(
                    format!("argument `{masked}` holds a password in a URL: ExecStart= is in the world-readable Nix store"),
                    "pass the password through a `secret-file` option ({option:NAME} becomes the file's path) \
                     or the database's passwordFile",
                )
            })
        {
            doc.problem(item.span().range(), field, p);
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for (name, ending) in [
            ("PDS_JWT_SECRET", "SECRET"),
            ("PDS_ADMIN_PASSWORD", "PASSWORD"),
            ("PDS_ADMIN_PASS", "PASS"),
            ("RELAY_API_KEY", "KEY"),
            ("COLLECTIONS_ADMIN_TOKEN", "TOKEN"),
            (
                "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX",
                "PRIVATE_KEY_HEX",
            ),
            ("TOKEN", "TOKEN"),
            ("admin-password", "PASSWORD"),
        ] {
            assert_eq!(credential_name(name), Some(ending), "{name}");
        }
        for name in [
            "PDS_JWT_SECRET_FILE",
            "COCOON_ROTATION_KEY_PATH",
            "PDS_HOSTNAME",
            "KEYBOARD",
            "PASSTHROUGH",
            "MONKEY",
            "PDS_BYPASS",
        ] {
            assert_eq!(credential_name(name), None, "{name}");
        }
    }

    #[test]
    fn secrets_themselves_are_recognised_and_paths_are_not() {
        for secret in [
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
            "ghp_0123456789abcdefABCDEF0123456789abcd",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
            "3f2a9c1b7e4d8a6f0b5c2e9d1a7f3b8c",
            "q8Zt3Lp0Xw9Vr2Nk5Hs7Jd4Fb6Gm1Cy8",
            "c3VwZXJzZWNyZXRwYXNzd29yZDEyMzQ1Njc4OTA=",
        ] {
            assert!(looks_like_secret(secret).is_some(), "{secret}");
        }
        for path in [
            "/run/secrets/pds-jwt",
            "{data_dir}/signing.key",
            "/var/lib/atproto/knot/keys/server_ed25519",
            "secrets/admin-password.txt",
            "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x",
            "pds.example.com",
            "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX",
            "",
        ] {
            assert_eq!(looks_like_secret(path), None, "{path}");
        }
    }

    #[test]
    fn passwords_in_urls() {
        assert_eq!(
            url_with_password("postgres://u:pw@h/db").as_deref(),
            Some("postgres://u:***@h/db")
        );
        assert_eq!(
            url_with_password("redis://:hunter2@cache:6379").as_deref(),
            Some("redis://:***@cache:6379")
        );
        for fine in [
            "postgres://u@h/db",
            "postgres://u:@h/db",
            "https://plc.directory",
            "https://h/path?x=a:b@c",
            "postgresql:///atproto?host=/run/postgresql",
            "not a url",
        ] {
            assert_eq!(url_with_password(fine), None, "{fine}");
        }
    }

    #[test]
    fn string_problems_name_the_shape() {
        let p = string_problem("postgres://u:pw@h/db", "default", None).unwrap();
        assert!(p.message.contains("password in a URL"), "{p:?}");
        let p = string_problem("abc", "example", Some("X_TOKEN")).unwrap();
        assert!(p.message.contains("ends in _TOKEN"), "{p:?}");
        assert!(p.hint.contains("secret-file"));
        assert_eq!(string_problem("", "default", Some("X_TOKEN")), None);
        assert_eq!(string_problem("abc", "default", Some("X_NAME")), None);
    }
}
