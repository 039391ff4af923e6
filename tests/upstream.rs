//! `atwb outdated` against real git repositories made in the test (file:// remotes, commits and
//! tags added after the pin) and a stand-in GitHub API on 127.0.0.1 answering with a release,
//! a malformed body, slowly, 404, a 429 rate limit, or not at all. No network.

mod common;
mod git_fixture;
mod http_stub;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use git_fixture::{commit_all, git, init, write};
use http_stub::{Response, serve};

/// A minimal valid package.toml pinned at `rev`.
pub fn package_toml(name: &str, version: &str, source: &str, rev: &str) -> String {
    format!(
        r#"name = "{name}"
version = "{version}"
tier = 3
category = "utility"
description = "Test package made by the upstream tests"
homepage = "https://example.org/{name}"
license = ["MIT"]

[source]
{source}
rev = "{rev}"
hash = "sha256-4U2jvBbfMmAjCT8VQX4Ln3KSDlG9TVdvqOmiY00crfI="
verified = false
provenance = "test"

[build]
language = "go"
builder = "go-module"
sub_packages = ["."]
deps_hash = "unknown"
"#
    )
}

fn add_package(catalog: &Path, name: &str, text: &str) {
    write(
        &catalog.join("pkgs/test").join(name).join("package.toml"),
        text.as_bytes(),
    );
}

fn atwb(tmp: &Path, catalog: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = common::atwb_in(tmp);
    c.arg("--catalog").arg(catalog).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running atwb")
}

/// The JSON lines of `out`, by package name, and the names in the order they came.
fn rows(out: &Output) -> (HashMap<String, serde_json::Value>, Vec<String>) {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut map = HashMap::new();
    let mut order = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\nstderr: {}", stderr(out)));
        let name = v["name"].as_str().unwrap().to_string();
        order.push(name.clone());
        map.insert(name, v);
    }
    (map, order)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An upstream with three commits on main and an annotated tag v0.1.0 on the first.
fn upstream(dir: &Path) -> (PathBuf, [String; 3]) {
    let repo = init(dir);
    write(&repo.join("main.go"), b"package main\nfunc main() {}\n");
    let c1 = commit_all(&repo, "first");
    git(&repo, &["tag", "-a", "v0.1.0", "-m", "release 0.1.0"]);
    write(&repo.join("README"), b"more\n");
    let c2 = commit_all(&repo, "second");
    let c3 = commit_all(&repo, "third");
    (repo, [c1, c2, c3])
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario, step by step
fn git_remotes_report_head_tags_and_commits_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, [c1, _c2, c3]) = upstream(&tmp.path().join("up"));
    let url = format!("file://{}", repo.display());
    let catalog = tmp.path().join("catalog");
    let src = format!("host = \"git\"\nurl = \"{url}\"");
    add_package(
        &catalog,
        "snap",
        &package_toml("snap", "0-unstable-2024-02-29", &src, &c1),
    );
    add_package(&catalog, "rel", &package_toml("rel", "0.1.0", &src, &c1));
    add_package(
        &catalog,
        "fresh",
        &package_toml("fresh", "0-unstable-2024-02-29", &src, &c3),
    );
    let gone = "host = \"git\"\nurl = \"file:///nonexistent/atwb-test-repo\"";
    add_package(
        &catalog,
        "gone",
        &package_toml("gone", "0-unstable-2024-02-29", gone, &c1),
    );

    let out = atwb(tmp.path(), &catalog, &["outdated", "--json"], &[]);
    let (r, _) = rows(&out);
    assert_eq!(r.len(), 4, "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "one package is unreachable");

    let snap = &r["snap"];
    assert_eq!(snap["status"], "outdated");
    assert_eq!(snap["head"], c3.as_str());
    assert_eq!(snap["default_branch"], "main");
    assert_eq!(snap["behind"], 2);
    assert_eq!(snap["newest_tag"], "v0.1.0");
    // The annotated tag is peeled to its commit.
    assert_eq!(snap["newest_tag_rev"], c1.as_str());
    assert_eq!(snap["reason"], "new commits, 2 commits behind main");

    // A release pin at the newest tag is up to date, however far main moved.
    assert_eq!(r["rel"]["status"], "up-to-date");
    assert_eq!(
        r["rel"]["reason"],
        "at the newest tag v0.1.0, 2 commits behind main"
    );
    assert_eq!(r["fresh"]["status"], "up-to-date");
    assert_eq!(r["fresh"]["behind"], 0);

    let gone = &r["gone"];
    assert_eq!(gone["status"], "unreachable");
    let reason = gone["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("listing refs of file:///nonexistent/atwb-test-repo: "),
        "{reason}"
    );

    // Upstream tags a release and commits again: the next run sees both.
    git(&repo, &["tag", "v0.2.0"]);
    let c4 = commit_all(&repo, "fourth");
    let out = atwb(
        tmp.path(),
        &catalog,
        &["outdated", "--json", "rel", "snap"],
        &[],
    );
    let (r, _) = rows(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(r["rel"]["status"], "outdated");
    assert_eq!(
        r["rel"]["reason"],
        "new tag v0.2.0 (pinned 0.1.0), 3 commits behind main"
    );
    assert_eq!(r["rel"]["newest_tag_rev"], c3.as_str());
    assert_eq!(r["snap"]["head"], c4.as_str());
    assert_eq!(r["snap"]["behind"], 3);

    // --no-fetch lists refs only.
    let out = atwb(
        tmp.path(),
        &catalog,
        &["outdated", "--json", "--no-fetch", "snap"],
        &[],
    );
    let (r, _) = rows(&out);
    assert_eq!(r["snap"]["behind"], serde_json::Value::Null);
    assert_eq!(
        r["snap"]["reason"],
        "main moved (commits behind not counted)"
    );

    // The text form: a header, then one line per package.
    let out = atwb(tmp.path(), &catalog, &["outdated", "snap"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{text}");
    assert!(lines[1].starts_with("snap "), "{text}");
    assert!(lines[1].contains(&c4[..12]), "{text}");
    assert!(
        lines[1].ends_with("outdated: new commits, 3 commits behind main"),
        "{text}"
    );

    // An unknown name is refused with a suggestion.
    let out = atwb(tmp.path(), &catalog, &["outdated", "snapp"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `snap`"),
        "{}",
        stderr(&out)
    );
}

/// The stand-in GitHub API: the repository name says how it answers.
fn github_stub() -> http_stub::Stub {
    serve(|req| {
        let repo = req.path.split('/').nth(3).unwrap_or_default();
        if req.header("authorization") != Some("Bearer test-token") {
            return Response::json(401, r#"{"message":"Bad credentials"}"#);
        }
        match repo {
            "valid" => Response::json(
                200,
                r#"{"tag_name":"v0.1.0","name":"First release","body":"Fixes the frobnicator.\n\nMore.","html_url":"https://github.com/o/valid/releases/v0.1.0","published_at":"2024-03-01T00:00:00Z"}"#,
            ),
            "malformed" => Response::json(200, "<html>not json</html>"),
            "slow" => Response {
                delay: Duration::from_secs(8),
                ..Response::json(200, "{}")
            },
            "limited" => Response {
                headers: vec![("Retry-After".into(), "600".into())],
                ..Response::json(429, r#"{"message":"rate limited"}"#)
            },
            "exhausted" => Response {
                headers: vec![
                    ("X-RateLimit-Remaining".into(), "0".into()),
                    ("X-RateLimit-Reset".into(), "4102444800".into()),
                ],
                ..Response::json(403, r#"{"message":"API rate limit exceeded"}"#)
            },
            _ => Response::json(404, r#"{"message":"Not Found"}"#),
        }
    })
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario, step by step
fn github_release_notes_and_every_api_failure_are_per_package() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, [c1, ..]) = upstream(&tmp.path().join("up"));
    // github.com/o/<name> is served from a local mirror (ATWB_GIT_INSTEAD_OF).
    let mirror = tmp.path().join("mirror");
    let catalog = tmp.path().join("catalog");
    let names = [
        "valid",
        "malformed",
        "slow",
        "missing",
        "limited",
        "exhausted",
    ];
    for name in names {
        let dest = mirror.join("o").join(name);
        std::fs::create_dir_all(&dest).unwrap();
        git(
            tmp.path(),
            &[
                "clone",
                "-q",
                "--bare",
                repo.to_str().unwrap(),
                dest.to_str().unwrap(),
            ],
        );
        let src = format!("host = \"github\"\nowner = \"o\"\nrepo = \"{name}\"");
        add_package(&catalog, name, &package_toml(name, "0.1.0", &src, &c1));
    }
    let stub = github_stub();
    let rewrite = format!("file://{}/=https://github.com/", mirror.display());
    let env = [
        ("GITHUB_TOKEN", "test-token"),
        ("ATWB_GITHUB_API", stub.base.as_str()),
        ("ATWB_GIT_INSTEAD_OF", rewrite.as_str()),
    ];
    let started = Instant::now();
    let out = atwb(
        tmp.path(),
        &catalog,
        &["outdated", "--json", "--timeout", "2"],
        &env,
    );
    let took = started.elapsed();
    let (r, order) = rows(&out);
    assert_eq!(r.len(), names.len(), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The slow server cannot hold the run: its row comes after the timeout, and last.
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert_eq!(order.last().map(String::as_str), Some("slow"), "{order:?}");
    for name in names {
        // The git side works for all of them: the API never decides the status.
        assert_eq!(r[name]["status"], "up-to-date", "{name}: {}", r[name]);
    }
    let valid = &r["valid"];
    assert_eq!(valid["release"]["name"], "First release");
    assert_eq!(valid["release"]["body"], "Fixes the frobnicator.\n\nMore.");
    assert_eq!(valid["problems"], serde_json::json!([]));

    let problem = |name: &str| -> String {
        let p = r[name]["problems"].as_array().unwrap();
        assert_eq!(p.len(), 1, "{name}: {p:?}");
        assert_eq!(r[name]["release"], serde_json::Value::Null, "{name}");
        p[0].as_str().unwrap().to_string()
    };
    let base = &stub.base;
    assert!(
        problem("malformed").starts_with(&format!(
            "release notes: GitHub API sent a malformed release for {base}/repos/o/malformed/releases/tags/v0.1.0: "
        )),
        "{}",
        problem("malformed")
    );
    assert_eq!(
        problem("slow"),
        format!("release notes: GitHub API ({base}) did not answer within 2s")
    );
    assert_eq!(
        problem("missing"),
        format!(
            "release notes: GitHub API answered 404 for {base}/repos/o/missing/releases/tags/v0.1.0: \
             no release for tag v0.1.0 (or the repository is not visible to this token)"
        )
    );
    let limited = problem("limited");
    assert!(
        limited.starts_with("release notes: GitHub API rate limit (429): resets at ")
            && limited.ends_with(" UTC (in 10 min)"),
        "{limited}"
    );
    assert!(problem("exhausted").starts_with(
        "release notes: GitHub API rate limit (403): resets at 2100-01-01 00:00:00 UTC (in "
    ));
    // Every request carried the token and asked for the newest tag's release.
    let seen = stub.seen.lock().unwrap();
    assert_eq!(seen.len(), names.len());
    assert!(
        seen.iter()
            .all(|q| q.path.ends_with("/releases/tags/v0.1.0"))
    );

    // No API at all (nothing listens on the port): a reason per package, the git side intact.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let env = [
        ("GH_TOKEN", "test-token"),
        ("ATWB_GITHUB_API", dead.as_str()),
        ("ATWB_GIT_INSTEAD_OF", rewrite.as_str()),
    ];
    let out = atwb(tmp.path(), &catalog, &["outdated", "--json", "valid"], &env);
    let (r, _) = rows(&out);
    let p = r["valid"]["problems"][0].as_str().unwrap();
    assert!(
        p.starts_with(&format!("release notes: GitHub API ({dead}) unreachable: ")),
        "{p}"
    );
    assert_eq!(r["valid"]["status"], "up-to-date");

    // Without a token the API is not asked at all.
    let env = [("ATWB_GIT_INSTEAD_OF", rewrite.as_str())];
    let out = atwb(tmp.path(), &catalog, &["outdated", "--json", "valid"], &env);
    let (r, _) = rows(&out);
    assert_eq!(r["valid"]["problems"], serde_json::json!([]));
    assert_eq!(r["valid"]["release"], serde_json::Value::Null);
}

/// git's smart HTTP protocol served by `git upload-pack --stateless-rpc`, as git http-backend
/// does: what atwb's own http(s) transport speaks to GitHub and Tangled.
fn smart_http(repo: PathBuf) -> http_stub::Stub {
    serve(move |req| {
        let run = |args: &[&str], input: &[u8]| {
            use std::io::Write;
            let mut child = Command::new("git")
                .args(args)
                .arg(&repo)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(input).unwrap();
            child.wait_with_output().unwrap().stdout
        };
        if req.path.starts_with("/stalled.git/") {
            // Accepts the connection, answers long after any timeout.
            return Response {
                delay: Duration::from_secs(30),
                ..Response::json(500, "{}")
            };
        }
        if !req.path.starts_with("/up.git/") {
            Response::json(404, "{}")
        } else if req.path.ends_with("/info/refs?service=git-upload-pack") {
            let mut body = b"001e# service=git-upload-pack\n0000".to_vec();
            body.extend(run(
                &["upload-pack", "--stateless-rpc", "--advertise-refs"],
                b"",
            ));
            Response {
                status: 200,
                headers: vec![(
                    "Content-Type".into(),
                    "application/x-git-upload-pack-advertisement".into(),
                )],
                body,
                delay: Duration::ZERO,
            }
        } else if req.method == "POST" && req.path.ends_with("/git-upload-pack") {
            Response {
                status: 200,
                headers: vec![(
                    "Content-Type".into(),
                    "application/x-git-upload-pack-result".into(),
                )],
                body: run(&["upload-pack", "--stateless-rpc"], &req.body),
                delay: Duration::ZERO,
            }
        } else {
            Response::json(404, "{}")
        }
    })
}

#[test]
fn http_remotes_are_listed_and_fetched_by_atwbs_own_transport() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, [c1, _, c3]) = upstream(&tmp.path().join("up"));
    let server = smart_http(repo.clone());
    let catalog = tmp.path().join("catalog");
    let src = format!("host = \"git\"\nurl = \"{}/up.git\"", server.base);
    add_package(
        &catalog,
        "web",
        &package_toml("web", "0-unstable-2024-02-29", &src, &c1),
    );
    let missing = format!("host = \"git\"\nurl = \"{}/missing.git\"", server.base);
    add_package(
        &catalog,
        "nothere",
        &package_toml("nothere", "0-unstable-2024-02-29", &missing, &c1),
    );

    let stalled = format!("host = \"git\"\nurl = \"{}/stalled.git\"", server.base);
    add_package(
        &catalog,
        "stalled",
        &package_toml("stalled", "0-unstable-2024-02-29", &stalled, &c1),
    );

    let started = Instant::now();
    let out = atwb(
        tmp.path(),
        &catalog,
        &["outdated", "--json", "--timeout", "2"],
        &[],
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a stalled server cannot hold the run"
    );
    let (r, order) = rows(&out);
    assert_eq!(r.len(), 3, "{}", stderr(&out));
    assert_eq!(order.last().map(String::as_str), Some("stalled"));
    assert_eq!(
        r["stalled"]["reason"],
        format!(
            "listing refs of {}/stalled.git: no answer within 2s",
            server.base
        )
    );
    let web = &r["web"];
    assert_eq!(web["head"], c3.as_str(), "{web}");
    assert_eq!(web["newest_tag_rev"], c1.as_str());
    // Counting needs the objects: the fetch went over HTTP too.
    assert_eq!(web["behind"], 2, "{web}");
    assert_eq!(web["problems"], serde_json::json!([]));
    let reason = r["nothere"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "{}/missing.git/info/refs?service=git-upload-pack: HTTP 404",
            server.base
        )),
        "{reason}"
    );
    let posts = server
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|q| q.method == "POST")
        .count();
    assert!(
        posts >= 1,
        "the pack was negotiated with POST /git-upload-pack"
    );
}
