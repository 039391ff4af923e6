//! What `atwb build` prints, from the real binary against real nix 2.8 and the fixture flakes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fixture flake copied to a temporary directory with a unique salt, so every build is fresh.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let (dir, _) = common::salted_flake(name, "atwb-out-");
        std::fs::create_dir_all(dir.path().join("catalog/pkgs")).unwrap();
        Fixture { dir }
    }

    fn flake(&self) -> PathBuf {
        self.dir.path().join("flake")
    }

    /// `atwb build --flake <fixture> ARGS`, its stdout a pipe (not a terminal).
    fn build(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.atwb(&self.dir.path().join("catalog"), "build", args, env, true)
    }

    fn atwb(
        &self,
        catalog: &Path,
        sub: &str,
        args: &[&str],
        env: &[(&str, &str)],
        with_flake: bool,
    ) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atwb"));
        cmd.args(["--catalog", catalog.to_str().unwrap(), sub]);
        if with_flake {
            cmd.args(["--flake", self.flake().to_str().unwrap()]);
        }
        cmd.args(args)
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("NIX_CONFIG", common::NIX_CONFIG)
            .env_remove("GITHUB_ACTIONS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The value after `key:` on the line that has it.
fn field<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .map(str::trim)
}

#[test]
fn a_hash_mismatch_shows_the_specified_and_the_got_hash() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("hashfix");
    let out = f.build(&["demo"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("hash_mismatch"), "{stderr}");
    let specified = field(&stderr, "specified:").expect("a specified: line");
    let got = field(&stderr, "got:").expect("a got: line");
    // One of the two wrong hashes of the fixture's catalog file, and a real, different one.
    assert!(
        [
            "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
        ]
        .contains(&specified),
        "{stderr}"
    );
    assert!(got.starts_with("sha256-") && got.len() == 51, "{stderr}");
    assert_ne!(got, specified);
    assert!(
        field(&stderr, "drv:").is_some_and(|d| d.ends_with(".drv")),
        "{stderr}"
    );
}

/// Seconds since midnight of a `[HH:MM:SS] ` line, and the rest of the line.
fn stamp(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix('[')?;
    let (hms, text) = rest.split_once("] ")?;
    let parts: Vec<u32> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = parts[..] else { return None };
    Some((h * 3600 + m * 60 + s, text))
}

#[test]
fn a_log_that_is_not_a_terminal_gets_a_timestamped_line_at_least_every_ten_seconds() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("streaming");
    let out = f.build(&["long"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<(u32, &str)> = stderr.lines().filter_map(stamp).collect();
    assert!(
        lines
            .first()
            .is_some_and(|(_, t)| t.starts_with("started  long (")),
        "{stderr}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|(_, t)| t.starts_with("[1/1] ok        long (")),
        "{stderr}"
    );
    let progress: Vec<u32> = lines
        .iter()
        .filter(|(_, t)| t.starts_with("long: building (") && t.contains("/3 drvs"))
        .map(|(s, _)| *s)
        .collect();
    assert!(
        !progress.is_empty(),
        "a 13 s build has a progress line: {stderr}"
    );
    // Never two lines of the job less than ten seconds apart (the clock shows whole seconds);
    // the batch's totals line is not the job's.
    let times: Vec<u32> = lines
        .iter()
        .filter(|(_, t)| t.starts_with("started  long") || t.starts_with("long: "))
        .map(|(s, _)| *s)
        .collect();
    for w in times.windows(2).take(progress.len()) {
        assert!((w[1] + 86_400 - w[0]) % 86_400 >= 9, "{stderr}");
    }
    // The build's own lines only with -L.
    assert!(!stderr.contains("long line 3"), "{stderr}");
}

/// `13s` or `1m02s` (the status lines' durations) in seconds.
fn seconds(text: &str) -> Option<u64> {
    let text = text.strip_suffix('s')?;
    match text.split_once('m') {
        Some((m, s)) => Some(m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?),
        None => text.parse().ok(),
    }
}

/// The stamped lines' texts that start with `prefix`.
fn stamped_lines<'a>(stderr: &'a str, prefix: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter_map(stamp)
        .map(|(_, t)| t)
        .filter(|t| t.starts_with(prefix))
        .collect()
}

/// The status store keeps what each derivation took; a second build of a fresh drv with the
/// same name (another salt) shows the first one's time as its estimate on the job's line
/// (`10s/~14s`) and the time left on the totals line, in a log that is not a terminal.
#[test]
fn a_second_build_of_the_same_name_shows_its_estimate_and_the_time_left() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("streaming");
    let first = f.build(&["long"], &[]);
    let stderr = text(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    let progress = stamped_lines(&stderr, "long: building (");
    assert!(!progress.is_empty(), "{stderr}");
    assert!(
        progress.iter().all(|t| !t.contains("/~")),
        "no history, no estimate: {stderr}"
    );
    let totals = stamped_lines(&stderr, "1 running, 0 done of 1");
    assert!(!totals.is_empty(), "a totals line every 10 s: {stderr}");
    assert!(totals.iter().all(|t| !t.contains("left")), "{stderr}");

    // Another salt: fresh derivations with the same names, built again.
    let salt = f.flake().join("salt.txt");
    let old = std::fs::read_to_string(&salt).unwrap();
    std::fs::write(&salt, format!("{old}-second")).unwrap();
    let second = f.build(&["long"], &[]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    let progress = stamped_lines(&stderr, "long: building (");
    assert!(!progress.is_empty(), "{stderr}");
    for line in &progress {
        let (elapsed, estimate) = line
            .rsplit(", ")
            .next()
            .and_then(|t| t.split_once("/~"))
            .unwrap_or_else(|| panic!("an estimate on {line:?}: {stderr}"));
        let (elapsed, estimate) = (seconds(elapsed).unwrap(), seconds(estimate).unwrap());
        // The first build's `long` slept 13 s; the job adds its short dependencies.
        assert!((13..40).contains(&estimate), "{line}");
        assert!(elapsed >= 9, "{line}");
    }
    let totals = stamped_lines(&stderr, "1 running, 0 done of 1 · ~");
    assert!(!totals.is_empty(), "the time left: {stderr}");
    for line in totals {
        let left = line
            .strip_prefix("1 running, 0 done of 1 · ~")
            .and_then(|t| t.strip_suffix(" left"))
            .and_then(seconds)
            .unwrap_or_else(|| panic!("{line:?}"));
        assert!(left <= 30, "{line}");
    }
}

#[test]
fn print_build_logs_prefixes_every_build_line_with_the_package() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("streaming");
    let out = f.build(&["-L", "quick", "fail"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let one = lines.iter().position(|l| *l == "quick> quick line one");
    let two = lines.iter().position(|l| *l == "quick> quick line two");
    assert!(one.is_some() && one < two, "{stderr}");
    assert!(lines.contains(&"fail> about to fail"), "{stderr}");
    assert!(!stderr.contains("::group::"), "{stderr}");
}

#[test]
fn under_github_actions_each_package_is_one_folded_group() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("streaming");
    let out = f.build(&["quick", "fail"], &[("GITHUB_ACTIONS", "true")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    for (open, inside) in [
        ("::group::quick (ok)", "quick line two"),
        ("::group::fail (failed)", "about to fail"),
    ] {
        let start = lines.iter().position(|l| *l == open).expect(open);
        let end = start
            + lines[start..]
                .iter()
                .position(|l| *l == "::endgroup::")
                .expect("::endgroup::");
        assert!(
            lines[start..end].contains(&inside),
            "{inside} in {open}: {stderr}"
        );
        // A group holds build lines only: no other package's, no progress line.
        assert!(
            lines[start + 1..end]
                .iter()
                .all(|l| stamp(l).is_none() && !l.starts_with("::")),
            "{stderr}"
        );
    }
}

#[test]
fn the_end_summary_is_a_table_of_package_result_class_time_and_log() {
    if !common::require_tool("nix") {
        return;
    }
    let f = Fixture::new("streaming");
    let out = f.build(&["quick", "fail"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let head = lines
        .iter()
        .position(|l| {
            l.split_whitespace()
                .eq(["PACKAGE", "RESULT", "CLASS", "TIME", "LOG"])
        })
        .unwrap_or_else(|| panic!("no table head: {stderr}"));
    let rows: Vec<Vec<&str>> = lines[head + 1..head + 3]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name}: {stderr}"))
    };
    assert_eq!(row("quick")[1..3], ["ok", "-"]);
    assert_eq!(row("fail")[1..3], ["failed", "builder_failed"]);
    for name in ["quick", "fail"] {
        let r = row(name);
        assert!(
            r[3].ends_with('s') && r[3].trim_end_matches('s').parse::<f64>().is_ok(),
            "{r:?}"
        );
        let log = std::fs::read_to_string(r[4]).unwrap_or_else(|e| panic!("{}: {e}", r[4]));
        assert!(!log.is_empty());
    }
    // Columns line up: every row's result starts where the head's RESULT does.
    let col = lines[head].find("RESULT").unwrap();
    for l in &lines[head + 1..head + 3] {
        let b = l.as_bytes();
        assert!(b[col - 1] == b' ' && b[col] != b' ', "{stderr}");
    }
    assert!(
        lines[head + 3].starts_with("2 targets: 1 ok, 1 failed"),
        "{stderr}"
    );
}

/// The hashfix fixture as a git repository (nix's git fetcher then reads the catalog beside the
/// flake, uncommitted edits included, as in a maintainer's checkout).
fn hashfix_repo() -> Fixture {
    let f = Fixture::new("hashfix");
    // The fixture's file carries only what the flake reads; a catalog package also needs these.
    let toml = f.flake().join("catalog/pkgs/fixtures/demo/package.toml");
    let body = std::fs::read_to_string(&toml).unwrap().replacen(
        "\n[source]",
        "homepage = \"https://example.invalid/demo\"\nlicense = [\"MIT\"]\n\n[source]",
        1,
    );
    std::fs::write(&toml, body).unwrap();
    common::commit_all(&f.flake(), "fixture");
    f
}

#[test]
fn atwb_fix_writes_the_recorded_got_hash_and_rebuild_builds_again() {
    if !common::require_tool("nix") {
        return;
    }
    let f = hashfix_repo();
    let catalog = f.flake().join("catalog");
    let toml = catalog.join("pkgs/fixtures/demo/package.toml");
    let run = |sub: &str, args: &[&str]| f.atwb(&catalog, sub, args, &[], false);

    let out = run("fix", &["demo"]);
    assert_eq!(out.status.code(), Some(2), "no run recorded yet");
    assert!(
        text(&out.stderr).contains("no recorded run"),
        "{}",
        text(&out.stderr)
    );

    let out = run("build", &["demo"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let first = field(&stderr, "got:").expect("got:").to_string();

    // Fix only: the got: hash is in the file, nothing is built.
    let out = run("fix", &["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&first), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&toml).unwrap().contains(&first));
    assert!(
        !text(&out.stderr).contains("targets:"),
        "no build without --rebuild"
    );

    // The rebuild meets the second wrong hash; fixing that one and rebuilding succeeds.
    let out = run("build", &["demo"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let second = field(&stderr, "got:").expect("got:").to_string();
    assert_ne!(second, first);
    let out = run("fix", &["demo", "--rebuild"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 targets: 1 ok"), "{stderr}");
    let now = std::fs::read_to_string(&toml).unwrap();
    assert!(now.contains(&first) && now.contains(&second), "{now}");

    // The last run succeeded: nothing to fix.
    let out = run("fix", &["demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did not fail"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn on_a_terminal_a_live_status_is_redrawn_in_place_and_replaced_by_the_summary() {
    if !common::require_tool("nix") || !common::require_tool("script") {
        return;
    }
    let f = Fixture::new("streaming");
    // script(1) gives atwb a pseudo-terminal for stdout and stderr.
    let atwb = format!(
        "{} --catalog {} build --flake {} quick long",
        env!("CARGO_BIN_EXE_atwb"),
        f.dir.path().join("catalog").display(),
        f.flake().display()
    );
    let out = Command::new("script")
        .args(["-qfec", &atwb, "/dev/null"])
        .env("XDG_STATE_HOME", f.dir.path().join("xdg-state"))
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let tty = text(&out.stdout).replace('\r', "");
    assert_eq!(out.status.code(), Some(0), "{tty}");
    let erase = "\x1b[2A\x1b[J";
    let redraws = tty.matches("\x1b[2A").count();
    assert!(
        redraws >= 5,
        "a 13 s build is redrawn about every second: {tty:?}"
    );
    assert!(tty.contains("  long: building (2/3 drvs"), "{tty:?}");
    assert!(tty.contains("  1 running, 1 done of 2\n"), "{tty:?}");
    // After the last erase: the last finish line and the summary, no status line.
    let tail = &tty[tty.rfind("\x1b[J").unwrap()..];
    assert!(
        tail.contains("PACKAGE") && tail.contains("2 targets: 2 ok"),
        "{tail:?}"
    );
    assert!(!tail.contains("running, "), "{tail:?}");
    assert!(
        tty.contains(erase),
        "moves up over the two drawn lines and erases: {tty:?}"
    );
}
