//! Checks of the `[jobs]` strings that nix would otherwise reject later, mid-build, with no word
//! of atwb's config: substituter URLs, the `builders` string and the flake reference. Each
//! problem names `file:line`, the field, what is wrong and how to write it.

use serde::Deserialize;
use toml::Spanned;

use super::Config;
use super::builders::Entry;

/// The `[jobs]` values checked here, with their places in the text.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Spans {
    jobs: JobsSpans,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JobsSpans {
    builders: Option<Spanned<String>>,
    flake: Option<Spanned<String>>,
    substituters: Option<Vec<Spanned<String>>>,
}

/// One problem: where, which field, what, and the hint.
struct Problem {
    offset: usize,
    field: String,
    message: String,
    hint: &'static str,
}

/// Every problem of `text` (already parsed into `config`), one per paragraph; Ok when none.
pub(super) fn check(config: &Config, text: &str) -> anyhow::Result<()> {
    let Ok(spans) = toml::from_str::<Spans>(text) else {
        return Ok(()); // The typed parse, which succeeded, is the judge of shapes.
    };
    let mut problems = Vec::new();
    for (i, s) in spans.jobs.substituters.iter().flatten().enumerate() {
        if let Err(message) = check_substituter(s.get_ref()) {
            problems.push(Problem {
                offset: s.span().start,
                field: format!("jobs.substituters[{i}]"),
                message,
                hint: "a binary cache URL, e.g. \"https://cache.nixos.org\" or \"file:///var/cache/nix\"",
            });
        }
    }
    if let Some(b) = &spans.jobs.builders {
        for (at, message) in check_builders(b.get_ref()) {
            problems.push(Problem {
                offset: string_start(text, b.span().start) + at,
                field: "jobs.builders".into(),
                message,
                hint: "nix's builders syntax: \"ssh://user@host x86_64-linux /path/key 4 1\", entries separated by ';' (`man nix.conf`, builders)",
            });
        }
    }
    if let Some(f) = &spans.jobs.flake
        && let Err(message) = check_flake_ref(f.get_ref())
    {
        problems.push(Problem {
            offset: f.span().start,
            field: "jobs.flake".into(),
            message,
            hint: "an absolute path (\"/home/me/atproto-nur\"), \"git+file:///path\" or \"github:owner/repo\", without '#'",
        });
    }
    if problems.is_empty() {
        return Ok(());
    }
    let text: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}: {}\n  hint: {}",
                config.locate(p.offset..p.offset),
                p.field,
                p.message,
                p.hint
            )
        })
        .collect();
    anyhow::bail!("{}", text.join("\n"))
}

/// Where the value of the string literal at `start` begins: after its quote, or after `"""`
/// and the newline TOML drops right after it (exact for strings without escapes).
fn string_start(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        let after = start + 3;
        match &text[after..] {
            r if r.starts_with("\r\n") => after + 2,
            r if r.starts_with('\n') => after + 1,
            _ => after,
        }
    } else {
        start + 1
    }
}

/// The store URIs nix knows as substituters; only http(s) and file ones can be asked about
/// narinfos by atwb, but the others are valid.
fn check_substituter(s: &str) -> Result<(), String> {
    if matches!(s, "daemon" | "local" | "auto") {
        return Ok(());
    }
    let url = url::Url::parse(s).map_err(|e| format!("{s:?} is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_none_or(str::is_empty) => {
            Err(format!("{s:?} has no host"))
        }
        "http" | "https" | "file" | "s3" | "ssh" | "ssh-ng" | "daemon" | "local" | "unix" => Ok(()),
        other => Err(format!(
            "{s:?}: nix has no store type {other:?} (http, https, file, s3, ssh, ssh-ng)"
        )),
    }
}

/// Problems of a `builders` string, each with its byte offset in the string.
fn check_builders(s: &str) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for (offset, entry) in super::builders::entries(s) {
        // `@FILE`: nix reads those entries when it builds; the file is not atwb's config.
        let Entry::Machine(entry) = entry else {
            continue;
        };
        let fields: Vec<&str> = entry.split_whitespace().collect();
        let mut bad = |m: String| problems.push((offset, format!("{entry:?}: {m}")));
        if fields.len() > 8 {
            bad(format!("{} fields; a builder has at most 8", fields.len()));
            continue;
        }
        let uri = fields[0];
        if uri.contains("://") {
            match url::Url::parse(uri) {
                Ok(u) if matches!(u.scheme(), "ssh" | "ssh-ng") => {}
                Ok(u) => bad(format!(
                    "builder scheme {:?}: nix builds remotely over ssh:// or ssh-ng://",
                    u.scheme()
                )),
                Err(e) => bad(format!("{uri:?} is not a URL ({e})")),
            }
        }
        if let Some(systems) = fields.get(1).filter(|f| **f != "-") {
            for sys in systems.split(',') {
                if !sys.contains('-') || sys.starts_with('-') || sys.ends_with('-') {
                    bad(format!("{sys:?} is not a system (like x86_64-linux)"));
                }
            }
        }
        for (i, what) in [(3, "max jobs"), (4, "speed factor")] {
            if let Some(v) = fields.get(i).filter(|f| **f != "-")
                && v.parse::<u32>().is_err()
            {
                bad(format!("field {} ({what}) is {v:?}, not a number", i + 1));
            }
        }
    }
    problems
}

/// A flake reference atwb can append `#attr` to and run anywhere.
fn check_flake_ref(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("is empty".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("{s:?} contains white space"));
    }
    if s.contains('#') {
        return Err(format!(
            "{s:?} has an attribute ('#'); atwb adds the attribute of each package itself"
        ));
    }
    let path = s.strip_prefix("path:").unwrap_or(s);
    // Whether the directory exists is not checked: a config may name a checkout of another
    // machine, and nix's own error says it well enough.
    if path.starts_with('/') {
        return Ok(());
    }
    if path.starts_with('.') || path.starts_with('~') {
        return Err(format!(
            "{s:?} is a relative path, which would depend on the directory atwb runs in (and '~' is not expanded)"
        ));
    }
    let known = [
        "git+file:",
        "git+https:",
        "git+http:",
        "git+ssh:",
        "git:",
        "github:",
        "gitlab:",
        "sourcehut:",
        "hg+https:",
        "hg+http:",
        "hg+file:",
        "tarball+",
        "file+",
        "https:",
        "http:",
        "flake:",
    ];
    if known.iter().any(|k| s.starts_with(k)) {
        return Ok(());
    }
    let registry_id = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
    if registry_id {
        return Ok(());
    }
    Err(format!("{s:?} is not a flake reference nix understands"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", Config::parse(text).unwrap_err())
    }

    #[test]
    fn bad_substituters_builders_and_flakes_name_their_line() {
        let e = err("[jobs]\nsubstituters = [\n  \"https://ok.example\",\n  \"htp:/x y\",\n]\n");
        assert!(
            e.contains("config.toml:4: jobs.substituters[1]") && e.contains("hint:"),
            "{e}"
        );
        let e = err("[jobs]\n\nbuilders = \"ssh://b x86_64-linux - many 1\"\n");
        assert!(
            e.contains("config.toml:3: jobs.builders") && e.contains("max jobs"),
            "{e}"
        );
        let e =
            err("[jobs]\nbuilders = \"\"\"\nssh://a x86_64-linux\nhttp://b x86_64-linux\n\"\"\"\n");
        assert!(
            e.contains("config.toml:4: jobs.builders") && e.contains("ssh://"),
            "{e}"
        );
        let e = err("[jobs]\nflake = \"/repo#packages\"\n");
        assert!(
            e.contains("config.toml:2: jobs.flake") && e.contains("'#'"),
            "{e}"
        );
        assert!(err("[jobs]\nflake = \"./here\"\n").contains("relative"));
    }

    #[test]
    fn good_values_pass() {
        let text = "[jobs]\nsubstituters = [\"https://cache.nixos.org/\", \"file:///tmp/c\", \"daemon\"]\n\
                    builders = \"ssh://u@b x86_64-linux,aarch64-linux /k 4 2 big-parallel - -; ssh-ng://c\"\n\
                    flake = \"github:atproto-nix/nur\"\n";
        Config::parse(text).unwrap();
        Config::parse("[jobs]\nbuilders = \"\"\nflake = \"/tmp\"\n").unwrap();
        Config::parse("[jobs]\nbuilders = \"@/etc/nix/machines\"\nflake = \"nur\"\n").unwrap();
        // A comment runs to the entry's end, as nix reads it (not fields 3 and 4).
        Config::parse("[jobs]\nbuilders = \"ssh://b x86_64-linux # fast one\"\n").unwrap();
    }

    #[test]
    fn entries_beside_a_machines_file_are_still_checked() {
        let e = err("[jobs]\nbuilders = \"@/etc/nix/machines; http://b x86_64-linux\"\n");
        assert!(
            e.contains("config.toml:2: jobs.builders") && e.contains("\"http://b x86_64-linux\""),
            "{e}"
        );
    }
}
