//! One line of advice per error class: what to do next, beside what went wrong. The class says
//! what happened; the hint adds what only the caller knows (the flake the job used, the names
//! that do exist, the package to fix), so it is computed from a [`Context`].

use std::path::{Path, PathBuf};

use super::classify::ErrorClass;
use super::command::Installable;

/// Nearest names offered for a missing attribute.
const NEAREST: usize = 3;

/// What the caller knows beyond the log. Everything is optional: a saved log has none of it.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The directory of the flake the job built from (a local flake ref).
    pub flake_dir: Option<PathBuf>,
    /// The package the job was for (`atwb fix NAME`).
    pub package: Option<String>,
    /// Names that exist (the catalog's packages), for "did you mean".
    pub names: Vec<String>,
}

impl Context {
    /// For a job building `installable` for `package`; the flake directory when its ref is
    /// local (`./dir`, `/dir`, `path:/dir`, `git+file:///dir`).
    pub fn for_job(installable: &Installable, package: &str, names: Vec<String>) -> Context {
        Context {
            flake_dir: local_flake_dir(&installable.flake),
            package: Some(package.to_string()),
            names,
        }
    }
}

fn local_flake_dir(flake: &str) -> Option<PathBuf> {
    let no_query = flake.split(['?', '#']).next().unwrap_or(flake);
    let path = ["git+file://", "path:", "git+file:"]
        .iter()
        .find_map(|p| no_query.strip_prefix(p))
        .unwrap_or(no_query);
    let local = path.starts_with('/') || path.starts_with('.') || !path.contains(':');
    (local && !path.is_empty()).then(|| PathBuf::from(path))
}

/// The hint for `class`, if there is advice to give.
pub fn hint(class: &ErrorClass, ctx: &Context) -> Option<String> {
    match class {
        ErrorClass::FetchFailed { .. } => Some(fetch_hint(ctx.flake_dir.as_deref())),
        ErrorClass::HashMismatch { .. } => Some(match &ctx.package {
            Some(p) => format!("press f (TUI) or run `atwb fix {p}` to write the got hash"),
            None => "press f (TUI) or run `atwb fix NAME` to write the got hash".to_string(),
        }),
        ErrorClass::MissingAttribute { attribute } => Some(missing_hint(attribute, &ctx.names)),
        ErrorClass::EvalError {
            file,
            line,
            column,
            evaluating,
            ..
        } => Some(match (file, line, column) {
            (Some(f), Some(l), Some(c)) => {
                format!("the error is at {}:{l}:{c}", shown_file(f, ctx))
            }
            _ => match evaluating.as_deref().and_then(|e| e.split_once(" (while ")) {
                Some((at, words)) => {
                    let (f, pos) = split_position(at);
                    format!(
                        "nix gave no position; it failed while {} at {}{pos}: the value given \
                         there is where to look",
                        words.strip_suffix(')').unwrap_or(words),
                        shown_file(f, ctx)
                    )
                }
                None => "nix gave no position; rerun with --show-trace to see where".to_string(),
            },
        }),
        ErrorClass::NixNotInstalled => {
            Some("install Nix 2.8 or later, or put it on PATH".to_string())
        }
        _ => None,
    }
}

/// `f` as the flake's own file when it is a store copy of one (see [`local_source`]).
fn shown_file(f: &str, ctx: &Context) -> String {
    ctx.flake_dir
        .as_deref()
        .and_then(|d| local_source(f, d))
        .map_or_else(|| f.to_string(), |p| p.display().to_string())
}

/// `FILE:L:C` into `FILE` and `:L:C`.
fn split_position(at: &str) -> (&str, &str) {
    let mut cut = at.len();
    for _ in 0..2 {
        match at[..cut].rfind(':') {
            Some(i)
                if at[i + 1..]
                    .split(':')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok()) =>
            {
                cut = i;
            }
            _ => return (at, ""),
        }
    }
    (&at[..cut], &at[cut..])
}

/// Offline builds fail here first: a flake without `flake.lock` must fetch its inputs to
/// resolve them, even when they are in the store.
fn fetch_hint(flake_dir: Option<&Path>) -> String {
    let remedies = "run `nix flake lock` on a connected machine, set `[jobs] flake` to a locked \
                    flake, or configure a substituter that has the source";
    match flake_dir {
        Some(dir) if dir.join("flake.lock").is_file() => format!(
            "{} has a flake.lock, so a source or substitute was unreachable: check the network, \
             or configure a substituter that has it",
            dir.display()
        ),
        Some(dir) => format!("{} has no flake.lock: {remedies}", dir.display()),
        None => format!("check the network; if the flake has no flake.lock, {remedies}"),
    }
}

/// The attribute's last component compared with `names`: the [`NEAREST`] closest.
fn missing_hint(attribute: &str, names: &[String]) -> String {
    let last = attribute.rsplit('.').next().unwrap_or(attribute);
    let nearest = nearest(last, names);
    if nearest.is_empty() {
        format!("`{attribute}` does not exist")
    } else {
        format!(
            "`{attribute}` does not exist; nearest: {}",
            nearest.join(", ")
        )
    }
}

/// The file in the flake's own directory that an evaluation error's store path is a copy of:
/// nix evaluates a local flake from `/nix/store/HASH-source/`, a copy of the flake directory
/// (a path flake) or of its git repository (a git flake, maybe with `?dir=`), which is not the
/// file a maintainer opens. Tried from the flake directory up to its repository root; None when
/// no such file exists there (a file of another input, nixpkgs say).
fn local_source(store_file: &str, flake_dir: &Path) -> Option<PathBuf> {
    let rest = store_file.strip_prefix("/nix/store/")?;
    let (name, rel) = rest.split_once('/')?;
    if !name.ends_with("-source") || rel.is_empty() || rel.split('/').any(|c| c == "..") {
        return None;
    }
    let dir = std::path::absolute(flake_dir).ok()?;
    // Outside a git repository only the flake directory itself: a parent's file of the same
    // name would be a guess.
    let root = dir.ancestors().position(|d| d.join(".git").exists());
    dir.ancestors()
        .take(root.map_or(1, |r| r + 1))
        .map(|d| d.join(rel))
        .find(|c| c.is_file())
}

/// Up to [`NEAREST`] names closest to `word` (Jaro-Winkler, at least 0.7), best first.
pub fn nearest<'a>(word: &str, names: &'a [String]) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .map(|n| (strsim::jaro_winkler(word, n), n.as_str()))
        .filter(|(s, n)| *s >= 0.7 && *n != word)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(NEAREST).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn nearest_names_are_ranked_and_bounded() {
        let all = names(&["pds", "pdsadmin", "bsky-pds", "relay", "plc", "jetstream"]);
        assert_eq!(nearest("pdss", &all)[0], "pds");
        assert!(!nearest("pdss", &all).contains(&"jetstream"));
        assert!(nearest("zzzzzz", &all).is_empty());
        let hint = missing_hint("packages.x86_64-linux.relya", &all);
        assert!(hint.contains("nearest: relay"), "{hint}");
    }

    #[test]
    fn fetch_hint_says_whether_the_flake_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let h = fetch_hint(Some(dir.path()));
        assert!(
            h.contains("has no flake.lock") && h.contains("nix flake lock"),
            "{h}"
        );
        std::fs::write(dir.path().join("flake.lock"), "{}").unwrap();
        let h = fetch_hint(Some(dir.path()));
        assert!(
            h.contains("has a flake.lock") && !h.contains("no flake.lock"),
            "{h}"
        );
    }

    #[test]
    fn local_flake_refs_give_a_directory() {
        let dir = |f: &str| local_flake_dir(f).map(|p| p.display().to_string());
        assert_eq!(dir("/srv/nur").as_deref(), Some("/srv/nur"));
        assert_eq!(dir("path:/srv/nur?rev=1").as_deref(), Some("/srv/nur"));
        assert_eq!(dir("git+file:///srv/nur").as_deref(), Some("/srv/nur"));
        assert_eq!(dir("./tests/x").as_deref(), Some("./tests/x"));
        assert_eq!(dir("github:NixOS/nixpkgs"), None);
    }

    #[test]
    fn an_evaluation_error_in_the_flake_points_at_the_local_file() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        let flake = repo.path().join("sub");
        std::fs::create_dir(&flake).unwrap();
        std::fs::write(flake.join("flake.nix"), "{}").unwrap();
        std::fs::write(repo.path().join("lib.nix"), "{}").unwrap();
        let store = "/nix/store/pgc3c75a6x0i6912xz1y0x62kjpk3sl7-source";
        // A path flake's copy is the flake directory; a git flake's is the repository.
        assert_eq!(
            local_source(&format!("{store}/flake.nix"), &flake),
            Some(flake.join("flake.nix"))
        );
        assert_eq!(
            local_source(&format!("{store}/sub/flake.nix"), &flake),
            Some(flake.join("flake.nix"))
        );
        assert_eq!(
            local_source(&format!("{store}/lib.nix"), &flake),
            Some(repo.path().join("lib.nix"))
        );
        // Another input's file, a non-source store path, an escape: left as nix printed them.
        assert_eq!(local_source(&format!("{store}/pkgs/top.nix"), &flake), None);
        assert_eq!(local_source("/nix/store/x-foo/flake.nix", &flake), None);
        assert_eq!(
            local_source(&format!("{store}/../etc/passwd"), &flake),
            None
        );
        let ctx = Context {
            flake_dir: Some(flake.clone()),
            ..Context::default()
        };
        let class = ErrorClass::EvalError {
            message: "m".into(),
            file: Some(format!("{store}/flake.nix")),
            line: Some(41),
            column: Some(35),
            evaluating: None,
        };
        let h = hint(&class, &ctx).unwrap();
        assert_eq!(
            h,
            format!(
                "the error is at {}:41:35",
                flake.join("flake.nix").display()
            )
        );
        // No position, only the frame that forced a derivation's attribute (Lix).
        let class = ErrorClass::EvalError {
            message: "m".into(),
            file: None,
            line: None,
            column: None,
            evaluating: Some(format!(
                "{store}/flake.nix:12:9 (while evaluating attribute 'args' of derivation 'x')"
            )),
        };
        assert_eq!(
            hint(&class, &ctx).unwrap(),
            format!(
                "nix gave no position; it failed while evaluating attribute 'args' of \
                 derivation 'x' at {}:12:9: the value given there is where to look",
                flake.join("flake.nix").display()
            )
        );
    }

    #[test]
    fn hash_mismatch_names_the_fix() {
        let class = ErrorClass::HashMismatch {
            drv: "/nix/store/x-a.drv".into(),
            specified: "s".into(),
            got: "g".into(),
            confirmed: true,
        };
        let ctx = Context {
            package: Some("pds".into()),
            ..Context::default()
        };
        assert!(hint(&class, &ctx).unwrap().contains("atwb fix pds"));
    }
}
