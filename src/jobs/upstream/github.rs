//! Release notes from the GitHub REST API (only with a token: unauthenticated clients get 60
//! requests an hour, which one `atwb outdated` of the catalog would use up). Every failure is a
//! reason for that package's row: unreachable, timeout, HTTP status, rate limit with its reset
//! time, a body that is not a release.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default API base; `ATWB_GITHUB_API` replaces it (a GitHub Enterprise host, a test server).
pub const DEFAULT_API: &str = "https://api.github.com";

/// How atwb talks to the API.
#[derive(Debug, Clone)]
pub struct GithubApi {
    pub base: String,
    pub token: String,
    pub timeout: Duration,
}

impl GithubApi {
    /// From `GITHUB_TOKEN` (else `GH_TOKEN`) and `ATWB_GITHUB_API`; None without a token.
    pub fn from_env(timeout: Duration) -> Option<GithubApi> {
        let token = ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|t| !t.trim().is_empty()))?;
        let base = std::env::var("ATWB_GITHUB_API").unwrap_or_else(|_| DEFAULT_API.into());
        Some(GithubApi {
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            timeout,
        })
    }
}

/// One GitHub release, as far as the updates view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
}

/// The release of `tag` (or the latest release).
pub async fn release(
    client: &reqwest::Client,
    api: &GithubApi,
    owner: &str,
    repo: &str,
    tag: Option<&str>,
) -> Result<Release, String> {
    let path = match tag {
        Some(t) => format!("releases/tags/{}", encode_segment(t)),
        None => "releases/latest".into(),
    };
    let url = format!("{}/repos/{owner}/{repo}/{path}", api.base);
    let response = client
        .get(&url)
        .bearer_auth(&api.token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("User-Agent", concat!("atwb/", env!("CARGO_PKG_VERSION")))
        .timeout(api.timeout)
        .send()
        .await
        .map_err(|e| transport_error(&e, api))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        let what = tag.map_or_else(
            || "no release".to_string(),
            |t| format!("no release for tag {t}"),
        );
        return Err(format!(
            "GitHub API answered 404 for {url}: {what} (or the repository is not visible to this token)"
        ));
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || (status == reqwest::StatusCode::FORBIDDEN
            && header(&response, "x-ratelimit-remaining").as_deref() == Some("0"))
    {
        return Err(rate_limited(&response, crate::time::unix_now()));
    }
    if !status.is_success() {
        return Err(format!("GitHub API answered {status} for {url}"));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| transport_error(&e, api))?;
    serde_json::from_slice::<Release>(&bytes)
        .map_err(|e| format!("GitHub API sent a malformed release for {url}: {e}"))
}

fn transport_error(e: &reqwest::Error, api: &GithubApi) -> String {
    if e.is_timeout() {
        format!(
            "GitHub API ({}) did not answer within {}s",
            api.base,
            api.timeout.as_secs_f32()
        )
    } else if e.is_connect() {
        format!("GitHub API ({}) unreachable: {}", api.base, root_cause(e))
    } else {
        format!("GitHub API ({}): {}", api.base, root_cause(e))
    }
}

/// reqwest's own message is "error sending request"; the cause says what happened.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// "rate limited (429) until 13:30:00 UTC (in 12 min)", from `retry-after` (seconds) or
/// `x-ratelimit-reset` (unix seconds).
fn rate_limited(r: &reqwest::Response, now: u64) -> String {
    let reset = header(r, "retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| now + s)
        .or_else(|| header(r, "x-ratelimit-reset").and_then(|s| s.trim().parse().ok()));
    let status = r.status().as_u16();
    match reset {
        Some(at) => format!(
            "GitHub API rate limit ({status}): resets at {} UTC (in {})",
            clock(at),
            human_wait(at.saturating_sub(now))
        ),
        None => format!("GitHub API rate limit ({status}), no reset time given"),
    }
}

fn clock(unix: u64) -> String {
    let (y, m, d) = crate::time::civil_from_days((unix / 86_400) as i64);
    let t = unix % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

fn human_wait(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// A tag as one URL path segment (tags may hold `/` and `@`).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_and_segments() {
        assert_eq!(human_wait(5), "5 s");
        assert_eq!(human_wait(61), "2 min");
        assert_eq!(human_wait(7300), "2 h 1 min");
        assert_eq!(clock(1_709_249_400), "2024-02-29 23:30:00");
        assert_eq!(
            encode_segment("@atproto/pds@0.4.1"),
            "%40atproto%2Fpds%400.4.1"
        );
    }
}
