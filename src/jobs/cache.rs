//! Binary-cache status: whether the configured substituters already have a target's outputs,
//! asked as Nix asks, by `GET <substituter>/<hash>.narinfo`. All questions go out at once (a
//! bounded number in flight), each with a timeout; a substituter that does not answer is
//! reported as such and asked nothing more in that query, and nothing here ever delays a build
//! beyond the timeout.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// How long one narinfo request may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;

/// What the caches say about one target's outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CacheState {
    /// This substituter has every output.
    Cached { url: String },
    /// Every substituter answered and none has every output.
    NotCached,
    /// None had it, and at least one could not tell (did not answer, answered garbage, cannot
    /// be asked over HTTP): why.
    Unknown { why: String },
}

impl CacheState {
    pub fn cached_in(&self) -> Option<&str> {
        match self {
            CacheState::Cached { url } => Some(url),
            _ => None,
        }
    }

    /// For the detail pane and the CLI: `☁ cached (URL)`, `not cached`, `cache status unknown: …`.
    pub fn describe(&self) -> String {
        match self {
            CacheState::Cached { url } => format!("☁ cached ({url})"),
            CacheState::NotCached => "not in any binary cache".into(),
            CacheState::Unknown { why } => format!("cache status unknown: {why}"),
        }
    }
}

/// When the caches were asked about an evaluation's outputs, and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheAsked {
    /// Unix seconds.
    pub at: u64,
    pub substituters: Vec<String>,
}

/// One substituter's answer about one store path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Has,
    HasNot,
    /// No usable answer, and why.
    Unusable(String),
}

/// The hash part of `/nix/store/<hash>-name` (32 characters of Nix's base-32), if it is one.
pub fn hash_part(store_path: &str) -> Option<&str> {
    let base = store_path.rsplit('/').next()?;
    let hash = base.get(..32)?;
    let nix32 = |c: char| c.is_ascii_digit() || (c.is_ascii_lowercase() && !"eotu".contains(c));
    (base.as_bytes().get(32) == Some(&b'-') && hash.chars().all(nix32)).then_some(hash)
}

/// Ask `substituters` (in priority order) about each target's out paths; one state per target.
/// No substituters: every target is `Unknown`.
pub async fn query(
    targets: &[Vec<String>],
    substituters: &[String],
    timeout: Duration,
) -> Vec<CacheState> {
    if substituters.is_empty() {
        let why = CacheState::Unknown {
            why: "no substituters are configured".into(),
        };
        return vec![why; targets.len()];
    }
    let hashes: BTreeSet<&str> = targets
        .iter()
        .flatten()
        .filter_map(|p| hash_part(p))
        .collect();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            let why = CacheState::Unknown {
                why: format!("no HTTP client: {e}"),
            };
            return vec![why; targets.len()];
        }
    };
    let down: Vec<AtomicBool> = substituters
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    // Owned, so the stream's futures borrow nothing but the client and the flags (a future
    // spawned on the runtime must not hold borrows of the iterator's closures).
    let mut questions: Vec<(usize, String, String)> = Vec::new();
    for (i, s) in substituters.iter().enumerate() {
        questions.extend(hashes.iter().map(|h| (i, s.clone(), (*h).to_string())));
    }
    let (client, down) = (&client, &down);
    let answers: BTreeMap<(usize, String), Answer> = futures::stream::iter(questions)
        .map(|(i, url, hash)| async move {
            let answer = if down[i].load(Ordering::Relaxed) {
                Answer::Unusable(format!("{url} did not answer"))
            } else {
                ask(client, &url, &hash).await
            };
            if matches!(&answer, Answer::Unusable(w) if w.contains("did not answer")) {
                down[i].store(true, Ordering::Relaxed);
            }
            ((i, hash), answer)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    targets
        .iter()
        .map(|outs| verdict(outs, substituters, &answers))
        .collect()
}

fn verdict(
    outs: &[String],
    substituters: &[String],
    answers: &BTreeMap<(usize, String), Answer>,
) -> CacheState {
    let hashes: Option<Vec<&str>> = outs.iter().map(|p| hash_part(p)).collect();
    let Some(hashes) = hashes.filter(|h| !h.is_empty()) else {
        return CacheState::Unknown {
            why: "no store paths to ask about".into(),
        };
    };
    let mut unusable = None;
    for (i, url) in substituters.iter().enumerate() {
        let of = |h: &str| answers.get(&(i, h.to_string()));
        if hashes.iter().all(|h| of(h) == Some(&Answer::Has)) {
            return CacheState::Cached { url: url.clone() };
        }
        if unusable.is_none() {
            unusable = hashes.iter().find_map(|h| match of(h) {
                Some(Answer::Unusable(why)) => Some(why.clone()),
                _ => None,
            });
        }
    }
    match unusable {
        Some(why) => CacheState::Unknown { why },
        None => CacheState::NotCached,
    }
}

async fn ask(client: &reqwest::Client, substituter: &str, hash: &str) -> Answer {
    let base = substituter.trim_end_matches('/');
    if let Some(dir) = base.strip_prefix("file://") {
        // A local binary cache (`nix copy --to file://...`): the same file, read directly.
        let path = std::path::Path::new(dir).join(format!("{hash}.narinfo"));
        return match tokio::fs::read(&path).await {
            Ok(body) => judge(substituter, hash, &body),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Answer::HasNot,
            Err(e) => Answer::Unusable(format!("{}: {e}", path.display())),
        };
    }
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Answer::Unusable(format!(
            "{substituter} cannot be asked (only http, https and file substituters are)"
        ));
    }
    let response = match client.get(format!("{base}/{hash}.narinfo")).send().await {
        Ok(r) => r,
        Err(e) => {
            let how = if e.is_timeout() {
                "timed out"
            } else {
                "connection failed"
            };
            return Answer::Unusable(format!("{substituter} did not answer ({how})"));
        }
    };
    match response.status().as_u16() {
        200 => match response.bytes().await {
            Ok(body) => judge(substituter, hash, &body),
            Err(e) => Answer::Unusable(format!(
                "{substituter} did not answer (reading the body: {})",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "failed"
                }
            )),
        },
        // 403: S3-backed caches answer so for a missing object.
        404 | 403 => Answer::HasNot,
        code => Answer::Unusable(format!("{substituter} answered HTTP {code}")),
    }
}

/// A 200 answer is a narinfo only if it names the path asked about and where its NAR is.
fn judge(substituter: &str, hash: &str, body: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(body);
    let store_path = text.lines().find_map(|l| l.strip_prefix("StorePath: "));
    let names_it = store_path.and_then(hash_part) == Some(hash);
    let has_url = text.lines().any(|l| l.starts_with("URL: "));
    if names_it && has_url {
        Answer::Has
    } else {
        Answer::Unusable(format!(
            "{substituter} answered something that is not a narinfo"
        ))
    }
}

/// The substituters Nix uses (`substituters`, which includes `extra-substituters`), from
/// `nix show-config --json`. Err: nix could not be asked.
pub async fn nix_substituters() -> anyhow::Result<Vec<String>> {
    let out = tokio::process::Command::new("nix")
        .args([
            "--extra-experimental-features",
            crate::nix::command::EXPERIMENTAL_FEATURES,
            "show-config",
            "--json",
        ])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "nix show-config failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(v["substituters"]["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/nix/store/0c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d-ok";

    #[test]
    fn hash_parts_are_checked() {
        assert_eq!(hash_part(P), Some("0c1mv0x9i5mhbwwbbb3ivmcd45n7xj4d"));
        assert_eq!(hash_part("/nix/store/short-ok"), None);
        // 'e', 'o', 't', 'u' are not in Nix's base-32.
        assert_eq!(
            hash_part("/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x"),
            None
        );
    }

    #[test]
    fn a_narinfo_must_name_the_path_and_its_nar() {
        let h = hash_part(P).unwrap();
        let good = format!("StorePath: {P}\nURL: nar/x.nar.xz\nCompression: xz\n");
        assert_eq!(judge("s", h, good.as_bytes()), Answer::Has);
        assert!(matches!(
            judge("s", h, b"<html>hi</html>"),
            Answer::Unusable(_)
        ));
        let other = good.replace("0c1m", "1c1m");
        assert!(matches!(
            judge("s", h, other.as_bytes()),
            Answer::Unusable(_)
        ));
    }

    #[test]
    fn the_first_substituter_with_every_output_wins() {
        let h = hash_part(P).unwrap();
        let subs = vec!["a".to_string(), "b".to_string()];
        let mut answers = BTreeMap::new();
        answers.insert(
            (0, h.to_string()),
            Answer::Unusable("a did not answer".into()),
        );
        answers.insert((1, h.to_string()), Answer::Has);
        let outs = vec![P.to_string()];
        assert_eq!(
            verdict(&outs, &subs, &answers),
            CacheState::Cached { url: "b".into() }
        );
        answers.insert((1, h.to_string()), Answer::HasNot);
        assert_eq!(
            verdict(&outs, &subs, &answers),
            CacheState::Unknown {
                why: "a did not answer".into()
            }
        );
        answers.insert((0, h.to_string()), Answer::HasNot);
        assert_eq!(verdict(&outs, &subs, &answers), CacheState::NotCached);
    }
}
