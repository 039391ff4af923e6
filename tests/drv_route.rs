//! How `atwb build` names a derivation's outputs when it builds by drv path, with the real Nix
//! 2.8 the suite has: atwb asks `nix --version` once, builds the plain `.drv` path on Nix 2.8
//! (which refuses `drv^*`), and `drv^*` on a nix that says it is 2.15 or later. The real
//! Nix 2.26.3 and 2.34.8 (which build nothing for a plain `.drv` path) were checked by hand: see
//! `nix::version` and ARCHITECTURE.md.

mod common;

use std::path::Path;

/// A copy of the evalonce fixture flake (salted) and a `nix` first on PATH that logs its
/// arguments, answers `--version` with `version` (the real one's when None) and runs the real
/// nix for everything else.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(version: Option<&str>) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("atwb-drvroute-")
            .tempdir()
            .unwrap();
        let flake = dir.path().join("flake");
        common::copy_dir(
            &common::repo_root().join("tests/fixtures/flakes/evalonce"),
            &flake,
        );
        let salt = format!("salt{}{}", std::process::id(), dir.path().display());
        std::fs::write(flake.join("salt.txt"), salt).unwrap();
        let answer = match version {
            Some(v) => format!("[ \"$1\" = --version ] && {{ echo '{v}'; exit 0; }}\n"),
            None => String::new(),
        };
        common::logging_nix(dir.path(), &answer);
        Fixture { dir }
    }

    fn calls(&self) -> Vec<String> {
        common::nix_calls(self.dir.path())
    }

    /// `atwb build --json --flake FLAKE TARGETS`: exit code, results, stderr.
    fn build(&self, targets: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
        let d = self.dir.path();
        let path = format!(
            "{}:{}",
            d.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_atwb"))
            .args(["build", "--json", "--flake"])
            .arg(d.join("flake"))
            .args(targets)
            .env("PATH", path)
            .env("XDG_STATE_HOME", d.join("xdg-state"))
            .env("XDG_CONFIG_HOME", d.join("xdg-config"))
            .env("NIX_CONFIG", common::NIX_CONFIG)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let results = json["results"].as_array().cloned().unwrap_or_default();
        (
            out.status.code(),
            results,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn drv_builds(calls: &[String]) -> Vec<&String> {
    calls
        .iter()
        .filter(|c| c.contains(" build /nix/store/"))
        .collect()
}

/// The out paths of a result, each checked to be valid in the store (`nix path-info`).
fn assert_built(r: &serde_json::Value) {
    assert_eq!(r["outcome"], "ok", "{r}");
    let outs = r["out_paths"].as_array().unwrap();
    assert!(!outs.is_empty(), "{r}");
    for out in outs {
        let out = out.as_str().unwrap();
        assert!(Path::new(out).exists(), "{out}");
        let info = common::nix().args(["path-info", out]).output().unwrap();
        assert!(info.status.success(), "{out} is not valid");
    }
}

#[test]
fn nix_2_8_builds_the_plain_drv_path_and_is_asked_its_version_once() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new(None);
    let (code, results, stderr) = f.build(&["a", "b", "c"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(results.len(), 3);
    results.iter().for_each(assert_built);
    let calls = f.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "--version").count(),
        1,
        "{calls:#?}"
    );
    let builds = drv_builds(&calls);
    assert_eq!(builds.len(), 3, "{calls:#?}");
    assert!(
        builds
            .iter()
            .all(|c| c.contains(".drv ") && !c.contains("^*")),
        "{builds:#?}"
    );
}

#[test]
fn a_nix_that_says_2_34_gets_drv_caret_star_which_nix_2_8_refuses() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new(Some("nix (Nix) 2.34.8"));
    let (code, results, stderr) = f.build(&["a"]);
    let builds: Vec<String> = drv_builds(&f.calls()).into_iter().cloned().collect();
    assert_eq!(builds.len(), 1, "{builds:#?}");
    assert!(builds[0].contains(".drv^* "), "{builds:#?}");
    // The real nix under the lie is 2.8: it does not know the syntax, and says so.
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(results[0]["outcome"], "failed");
    let line = results[0]["failure"]["first_line"].as_str().unwrap();
    assert!(line.contains(".drv^*' is not a valid URL"), "{line}");
}

#[test]
fn an_unknown_version_builds_the_plain_path() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new(Some("this is not nix"));
    let (code, results, stderr) = f.build(&["a", "b"]);
    assert_eq!(code, Some(0), "{stderr}");
    results.iter().for_each(assert_built);
    let calls = f.calls();
    let builds = drv_builds(&calls);
    assert_eq!(builds.len(), 2, "{calls:#?}");
    assert!(builds.iter().all(|c| !c.contains("^*")), "{builds:#?}");
}
