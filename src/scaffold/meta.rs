//! The package's metadata: where the source is hosted (from the URL), the description and
//! homepage (manifest, else README), the license (manifest's SPDX expression, else the license
//! files' texts), the org, and the category.

use super::license;
use super::proposal::{Part, Reasons};
use super::repo::CommitFiles;
use super::{Found, ManifestMeta};
use crate::catalog::validate::rules;

/// `github`/`tangled` with owner and repo, or `git` with the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosted {
    pub host: &'static str,
    pub owner: Option<String>,
    pub repo: Option<String>,
    pub url: Option<String>,
}

impl Hosted {
    /// The project's web page, when the host has one.
    pub fn web(&self) -> Option<String> {
        match (self.host, &self.owner, &self.repo) {
            ("github", Some(o), Some(r)) => Some(format!("https://github.com/{o}/{r}")),
            ("tangled", Some(o), Some(r)) => Some(format!("https://tangled.org/{o}/{r}")),
            _ => self
                .url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        }
    }
}

/// Reads the host from a clone URL (`https://github.com/o/r.git`, `git@github.com:o/r`,
/// `https://tangled.org/@handle/repo`); a local repository without one is a `git` source of its
/// `file://` path.
pub fn hosted(url: Option<&str>, local: &std::path::Path) -> Hosted {
    let Some(url) = url else {
        return Hosted {
            host: "git",
            owner: None,
            repo: None,
            url: Some(format!("file://{}", local.display())),
        };
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("ssh://git@"))
        .or_else(|| url.strip_prefix("git@"))
        .unwrap_or("");
    let rest = rest.replacen(':', "/", usize::from(url.starts_with("git@")));
    let mut parts = rest.trim_end_matches('/').split('/');
    let (host, owner, repo) = (parts.next(), parts.next(), parts.next());
    let kind = match host {
        Some("github.com") => Some("github"),
        Some("tangled.org" | "tangled.sh") => Some("tangled"),
        _ => None,
    };
    if let (Some(kind), Some(o), Some(r), None) = (kind, owner, repo, parts.next()) {
        return Hosted {
            host: kind,
            owner: Some(o.trim_start_matches('@').to_string()),
            repo: Some(r.trim_end_matches(".git").to_string()),
            url: None,
        };
    }
    Hosted {
        host: "git",
        owner: None,
        repo: None,
        url: Some(url.to_string()),
    }
}

/// A lowercase kebab name (`At-Microcosm` -> `at-microcosm`), or None when nothing is left.
pub fn kebab(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if matches!(c, '-' | '_' | '.' | ' ') && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    rules::name(&out).is_ok().then_some(out)
}

/// The description, homepage and license, each with where it came from.
pub struct Meta {
    pub description: String,
    pub homepage: String,
    /// No manifest or host names one: the front end's guess, to be changed.
    pub homepage_guessed: bool,
    pub license: Vec<String>,
    pub reasons: Reasons,
}

pub fn read(files: &CommitFiles, found: &Found, hosted: &Hosted, name: &str) -> Meta {
    let mut reasons = Reasons::default();
    let manifests: &[ManifestMeta] = &found.manifests;
    let (description, why) = manifests
        .iter()
        .find_map(|m| m.description.clone().map(|d| (d, m.file.clone())))
        .or_else(|| readme_line(files).map(|d| (d, "README.md".to_string())))
        .map_or_else(
            || (String::new(), "nothing found: write one".to_string()),
            |(d, file)| (tidy_description(&d, name), format!("from {file}")),
        );
    reasons.description = why;
    let (homepage, why) = manifests
        .iter()
        .find_map(|m| {
            m.homepage
                .clone()
                .filter(|h| h.starts_with("http"))
                .map(|h| (h, format!("from {}", m.file)))
        })
        .or_else(|| {
            hosted
                .web()
                .map(|w| (w, "the repository's web page".to_string()))
        })
        .unwrap_or_else(|| {
            (
                String::new(),
                "a guess (no manifest homepage, and the source has no web page): change it"
                    .to_string(),
            )
        });
    let homepage_guessed = homepage.is_empty();
    reasons.homepage = why;
    let (license, why) = licenses(files, manifests);
    reasons.license = why;
    Meta {
        description,
        homepage,
        homepage_guessed,
        license,
        reasons,
    }
}

fn licenses(files: &CommitFiles, manifests: &[ManifestMeta]) -> (Vec<String>, String) {
    if let Some(m) = manifests.iter().find(|m| m.license.is_some()) {
        let ids = license::split_expression(m.license.as_deref().unwrap_or_default());
        if !ids.is_empty() {
            return (ids, format!("SPDX expression in {}", m.file));
        }
    }
    let mut ids: Vec<String> = Vec::new();
    let mut read: Vec<String> = Vec::new();
    for (name, is_dir) in files.list("") {
        if is_dir || !license::is_license_file(&name) {
            continue;
        }
        if let Some(id) = files.read(&name).as_deref().and_then(license::identify) {
            read.push(name);
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
    }
    if ids.is_empty() {
        return (
            vec!["NOASSERTION".into()],
            "no license file with a known license text".into(),
        );
    }
    (ids, format!("text of {}", read.join(", ")))
}

/// The first paragraph line of the README that is prose (not a heading, badge or HTML).
fn readme_line(files: &CommitFiles) -> Option<String> {
    let text = ["README.md", "README", "readme.md", "README.txt"]
        .iter()
        .find_map(|f| files.read(f))?;
    text.lines()
        .map(str::trim)
        .find(|l| {
            l.len() > 10
                && !l.starts_with(['#', '!', '[', '<', '|', '`', '>', '-', '*', '='])
                && l.chars().any(char::is_alphabetic)
        })
        .map(|l| l.split(". ").next().unwrap_or(l).to_string())
}

/// Made to follow nixpkgs' description rules: one line, no leading article, no trailing
/// period, capitalised, not starting with the package name.
pub fn tidy_description(text: &str, name: &str) -> String {
    // Upstream text: no control character survives (it would reach terminals and the file).
    let first = text.lines().next().unwrap_or("");
    let mut t: String = first.chars().filter(|c| !c.is_control()).collect();
    t = t.trim().to_string();
    for _ in 0..2 {
        let lower = t.to_lowercase();
        if let Some(rest) = lower.strip_prefix(name)
            && !rest.starts_with(|c: char| c.is_alphanumeric())
        {
            t = t[name.len()..]
                .trim_start_matches([' ', ':', '-', ','])
                .to_string();
            let l = t.to_lowercase();
            for verb in ["is ", "are "] {
                if l.starts_with(verb) {
                    t = t[verb.len()..].to_string();
                }
            }
        }
        let first = t.split_whitespace().next().unwrap_or("").to_lowercase();
        if ["a", "an", "the"].contains(&first.as_str()) {
            t = t[first.len()..].trim_start().to_string();
        }
    }
    let t = t.trim_end_matches('.').trim().to_string();
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => t,
    }
}

/// `infrastructure` for services, `utility` for programs, `library` otherwise, `application`
/// for front ends.
pub fn category(parts: &[Part]) -> &'static str {
    use crate::catalog::model::Builder;
    if parts.iter().any(|p| p.service.is_some()) {
        "infrastructure"
    } else if parts
        .iter()
        .all(|p| matches!(p.builder, Builder::DenoApp | Builder::StaticSite))
    {
        "application"
    } else if parts.iter().any(|p| !p.programs.is_empty()) {
        "utility"
    } else {
        "application"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_from_urls() {
        let h = hosted(
            Some("https://github.com/At-Microcosm/microcosm-rs.git"),
            std::path::Path::new("/x"),
        );
        assert_eq!(
            (h.host, h.repo.as_deref()),
            ("github", Some("microcosm-rs"))
        );
        let t = hosted(
            Some("https://tangled.org/@microcosm.blue/microcosm-rs"),
            std::path::Path::new("/x"),
        );
        assert_eq!(
            (t.host, t.owner.as_deref()),
            ("tangled", Some("microcosm.blue"))
        );
        let s = hosted(Some("git@github.com:o/r.git"), std::path::Path::new("/x"));
        assert_eq!((s.host, s.owner.as_deref()), ("github", Some("o")));
        let g = hosted(Some("file:///srv/r"), std::path::Path::new("/x"));
        assert_eq!((g.host, g.url.as_deref()), ("git", Some("file:///srv/r")));
        assert_eq!(kebab("At_Microcosm"), Some("at-microcosm".into()));
        assert_eq!(kebab(".tmpAB"), Some("tmpab".into()));
    }

    #[test]
    fn descriptions_follow_the_rules() {
        assert_eq!(
            tidy_description("alpha is a tiny relay.", "alpha"),
            "Tiny relay"
        );
        assert_eq!(tidy_description("The PLC tools", "x"), "PLC tools");
        assert!(rules::description(&tidy_description("an app.", "x"), "x").is_empty());
    }
}
