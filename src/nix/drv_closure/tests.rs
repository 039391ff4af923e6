use super::*;
use std::process::Command;

/// As tests/common: no daemon, no sandbox, no substituters.
const NIX_CONFIG: &str = "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters =";

/// Whether nix can be run; under `CI=true` its absence fails the test instead of skipping it.
fn nix_available() -> bool {
    let found = Command::new("nix")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").as_deref() != Ok("true"),
        "nix is required under CI=true but was not found on PATH"
    );
    if !found {
        eprintln!("SKIPPED: nix is not installed");
    }
    found
}

/// What `nix ARGS` printed; panics with nix's stderr when it fails.
fn nix(args: &[&str]) -> String {
    let out = Command::new("nix")
        .args(args)
        .env("NIX_CONFIG", NIX_CONFIG)
        .output()
        .expect("running nix");
    assert!(
        out.status.success(),
        "nix {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A copy of the chain fixture flake with a salt of its own (fresh derivations every run).
fn chain_flake() -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("atwb-drv-closure-")
        .tempdir()
        .unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flakes/chain");
    std::fs::copy(fixture.join("flake.nix"), dir.path().join("flake.nix")).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let salt = format!("drv-closure-{}-{nanos}", std::process::id());
    std::fs::write(dir.path().join("salt.txt"), salt).unwrap();
    let flake = dir.path().to_string_lossy().into_owned();
    (dir, flake)
}

fn attr_path(flake: &str, attr: &str, what: &str) -> String {
    nix(&[
        "eval",
        "--raw",
        &format!("{flake}#packages.x86_64-linux.{attr}.{what}"),
    ])
}

/// Derivation names (without store directory and hash) of a closure's missing list.
fn names(c: &Closure) -> Vec<&str> {
    c.missing
        .iter()
        .map(|m| crate::nix::state::drv_name(&m.drv))
        .collect()
}

#[test]
fn real_drvs_name_the_missing_inputs_and_leave_out_the_built_one() {
    if !nix_available() {
        return;
    }
    let (_dir, flake) = chain_flake();
    nix(&[
        "build",
        "--no-link",
        &format!("{flake}#packages.x86_64-linux.ready"),
    ]);
    let top = attr_path(&flake, "top", "drvPath");
    let top_out = attr_path(&flake, "top", "outPath");
    let head = parse_head(&std::fs::read(&top).unwrap()).unwrap();
    assert_eq!(head.outputs, [("out".to_string(), top_out.clone())]);
    let mut inputs: Vec<_> = head
        .inputs
        .iter()
        .map(|(d, o)| (crate::nix::state::drv_name(d), o.as_slice()))
        .collect();
    inputs.sort_unstable();
    assert_eq!(
        inputs,
        [
            ("chain-mid", &["out".to_string()][..]),
            ("chain-ready", &["out".to_string()][..])
        ]
    );

    let c = missing_closure(&top, Limits::default());
    assert_eq!(names(&c), ["chain-top", "chain-mid", "chain-leaf"], "{c:?}");
    assert_eq!(c.missing[0].outputs, [top_out]);
    // top, ready (to see its output is there), mid and leaf.
    assert_eq!((c.read, c.skipped, c.truncated), (4, 0, false), "{c:?}");

    // Once the leaf is built, the plan is top and mid only.
    nix(&[
        "build",
        "--no-link",
        &format!("{flake}#packages.x86_64-linux.leaf"),
    ]);
    let c = missing_closure(&top, Limits::default());
    assert_eq!(names(&c), ["chain-top", "chain-mid"]);
    // And once top is built, nothing (its inputs are not even read).
    nix(&["build", "--no-link", &top]);
    let c = missing_closure(&top, Limits::default());
    assert!(c.missing.is_empty(), "{c:?}");
    assert_eq!(c.read, 1);
}

#[test]
fn every_truncation_of_a_real_drv_is_an_error_with_its_offset_never_a_panic() {
    if !nix_available() {
        return;
    }
    let (_dir, flake) = chain_flake();
    let top = attr_path(&flake, "top", "drvPath");
    let text = std::fs::read(&top).unwrap();
    // The head ends after the input derivations' `)],` (the last one in the file: the
    // environment's pairs end in `")])`).
    let head_end = text.windows(3).rposition(|w| w == b")],").unwrap() + 3;
    let whole = parse_head(&text).unwrap();
    assert_eq!(whole.inputs.len(), 2);
    for cut in 0..text.len() {
        match parse_head(&text[..cut]) {
            Ok(h) => assert!(cut >= head_end && h == whole, "cut at {cut}"),
            Err(e) => assert!(e.offset <= cut && cut < head_end, "cut at {cut}: {e}"),
        }
    }
}

/// A directory standing in for a store: `drv(name, text)` writes `<dir>/<name>.drv`.
struct FakeStore {
    dir: tempfile::TempDir,
}

impl FakeStore {
    fn new() -> Self {
        FakeStore {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
    fn drv(&self, name: &str, text: &str) -> String {
        let p = self.path(&format!("{name}.drv"));
        std::fs::write(&p, text).unwrap();
        p
    }
    /// `Derive` with `outputs` (name, path) and `inputs` (drv path, wanted outputs).
    fn derive(&self, name: &str, outputs: &[(&str, &str)], inputs: &[(&str, &[&str])]) -> String {
        let outs: Vec<String> = outputs
            .iter()
            .map(|(o, p)| format!("(\"{o}\",\"{p}\",\"\",\"\")"))
            .collect();
        let ins: Vec<String> = inputs
            .iter()
            .map(|(d, w)| {
                let w: Vec<String> = w.iter().map(|o| format!("\"{o}\"")).collect();
                format!("(\"{d}\",[{}])", w.join(","))
            })
            .collect();
        let text = format!(
            "Derive([{}],[{}],[],\"x86_64-linux\",\"/bin/sh\",[],[(\"name\",\"{name}\")])",
            outs.join(","),
            ins.join(",")
        );
        self.drv(name, &text)
    }
    fn present(&self, name: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, "built").unwrap();
        p
    }
}

#[test]
fn only_the_outputs_a_dependant_uses_decide_and_a_floating_output_is_missing() {
    let s = FakeStore::new();
    let lib_out = s.present("lib");
    let lib_dev = s.path("lib-dev");
    let lib = s.derive("lib", &[("dev", &lib_dev), ("out", &lib_out)], &[]);
    let tool_out = s.path("tool");
    let tool = s.derive("tool", &[("out", &tool_out)], &[]);
    // A floating content-addressed output has no path in the file.
    let ca = s.drv(
        "ca",
        r#"Derive([("out","","r:sha256","")],[],[],"x86_64-linux","/bin/sh",[],[])"#,
    );
    let app_out = s.present("app");
    let app = s.derive(
        "app",
        &[("out", &app_out)],
        &[(&lib, &["out"]), (&tool, &["out"]), (&ca, &["out"])],
    );
    let c = missing_closure(&app, Limits::default());
    assert!(c.missing.is_empty(), "app's output is there: {c:?}");
    assert_eq!(c.read, 1);

    std::fs::remove_file(&app_out).unwrap();
    let c = missing_closure(&app, Limits::default());
    let drvs: Vec<&str> = c.missing.iter().map(|m| m.drv.as_str()).collect();
    assert_eq!(
        drvs,
        [app.as_str(), tool.as_str(), ca.as_str()],
        "lib's dev is not used"
    );
    assert!(c.missing[2].outputs.is_empty());

    // The root needs all its outputs: lib itself is missing its dev.
    let c = missing_closure(&lib, Limits::default());
    assert_eq!(c.missing.len(), 1);
    assert_eq!(c.missing[0].outputs, [lib_dev, lib_out]);
}

#[test]
fn a_dangling_output_symlink_is_present_and_a_shared_input_is_listed_once() {
    let s = FakeStore::new();
    let link = s.path("link");
    std::os::unix::fs::symlink(s.path("nowhere"), &link).unwrap();
    let linked = s.derive("linked", &[("out", &link)], &[]);
    let base = s.derive("base", &[("out", &s.path("base"))], &[]);
    let a = s.derive("a", &[("out", &s.path("a"))], &[(&base, &["out"])]);
    let b = s.derive("b", &[("out", &s.path("b"))], &[(&base, &["out"])]);
    let top = s.derive(
        "top",
        &[("out", &s.path("top"))],
        &[(&a, &["out"]), (&b, &["out"]), (&linked, &["out"])],
    );
    let c = missing_closure(&top, Limits::default());
    let drvs: Vec<&str> = c.missing.iter().map(|m| m.drv.as_str()).collect();
    assert_eq!(drvs, [top.as_str(), a.as_str(), b.as_str(), base.as_str()]);
    assert_eq!(c.read, 5);
}

#[test]
fn bad_files_are_skipped_and_counted_and_the_walk_goes_on() {
    let s = FakeStore::new();
    let good = s.derive("good", &[("out", &s.path("good"))], &[]);
    let garbage = s.drv("garbage", "not a derivation at all");
    let cut = s.drv("cut", r#"Derive([("out","/nix"#);
    let binary = s.drv("binary", "Derive([(\"out\",\"\u{1}\u{2}");
    std::fs::write(
        s.path("latin1.drv"),
        b"Derive([(\"out\",\"\xff\",\"\",\"\")],[],",
    )
    .unwrap();
    let latin1 = s.path("latin1.drv");
    let gone = s.path("gone.drv");
    let outside = s.drv(
        "outside",
        r#"Derive([("out","/etc/passwd","","")],[],[],"","",[],[])"#,
    );
    let escape = s.path("../escape.drv");
    let not_drv = s.present("source-tarball");
    let top = s.derive(
        "top",
        &[("out", &s.path("top"))],
        &[
            (&garbage, &["out"]),
            (&cut, &["out"]),
            (&binary, &["out"]),
            (&latin1, &["out"]),
            (&gone, &["out"]),
            (&outside, &["out"]),
            (&good, &["out"]),
        ],
    );
    let c = missing_closure(&top, Limits::default());
    let drvs: Vec<&str> = c.missing.iter().map(|m| m.drv.as_str()).collect();
    assert_eq!(drvs, [top.as_str(), good.as_str()]);
    assert_eq!((c.read, c.skipped), (8, 6), "{c:?}");
    let first = c.first_error.unwrap();
    assert!(
        first.starts_with(&garbage) && first.contains("expected 'Derive(' or 'DrvWithVersion('"),
        "{first}"
    );

    // A file naming a path outside its store directory, or a non-.drv input, is refused whole.
    for (input, why) in [(&escape, "outside"), (&not_drv, "is not a .drv")] {
        let t = s.derive(
            "refused",
            &[("out", &s.path("refused"))],
            &[(input, &["out"])],
        );
        let c = missing_closure(&t, Limits::default());
        assert!(c.missing.is_empty());
        assert_eq!(c.skipped, 1);
        assert!(c.first_error.as_ref().unwrap().contains(why), "{c:?}");
    }
}

#[test]
fn malformed_heads_name_the_byte_and_what_was_expected() {
    let cases: [(&str, usize, &str); 6] = [
        ("", 0, "'Derive(' or 'DrvWithVersion('"),
        ("Derive([(\"out\" \"x\")", 14, "','"),
        ("Derive([],", 10, "'['"),
        ("Derive([],[(\"/s/a.drv\",[\"out\"])", 31, "',' or ']'"),
        ("Derive([(\"o\\", 12, "an escaped character"),
        (
            "DrvWithVersion(\"v9\",[],[],",
            19,
            "the format version \"xp-dyn-drv\"",
        ),
    ];
    for (text, offset, expected) in cases {
        let e = parse_head(text.as_bytes()).expect_err(text);
        assert_eq!((e.offset, e.expected), (offset, expected), "{text}");
    }
    let escaped = parse_head(br#"Derive([("o\"u\\t\n","/s/x","",""),],"#);
    assert!(escaped.is_err(), "a trailing comma is not a list");
    let h = parse_head(br#"Derive([("o\"u\\t\n\r\t\x","/s/x","","")],[],"#).unwrap();
    assert_eq!(h.outputs[0].0, "o\"u\\t\n\r\tx");
}

#[test]
fn dynamic_derivation_inputs_count_their_outer_outputs() {
    let s = FakeStore::new();
    let maker = s.derive("maker", &[("out", &s.path("maker"))], &[]);
    let plain = s.derive("plain", &[("out", &s.path("plain"))], &[]);
    let text = format!(
        r#"DrvWithVersion("xp-dyn-drv",[("out","","","")],[("{maker}",([],[("out",["out"])])),("{plain}",["out"])],[],"x86_64-linux","/bin/sh",[],[])"#
    );
    let h = parse_head(text.as_bytes()).unwrap();
    assert_eq!(
        h.inputs,
        [
            (maker.clone(), vec!["out".to_string()]),
            (plain.clone(), vec!["out".to_string()])
        ]
    );
    let dynamic = s.drv("dynamic", &text);
    let c = missing_closure(&dynamic, Limits::default());
    assert_eq!(c.missing.len(), 3, "{c:?}");
    // The old format has no such entries.
    let old = text.replacen("DrvWithVersion(\"xp-dyn-drv\",", "Derive(", 1);
    assert!(parse_head(old.as_bytes()).is_err());
}

#[test]
fn the_walk_stops_at_its_limits_and_survives_a_cycle() {
    let s = FakeStore::new();
    // a -> b -> a: not a real store (nix cannot write a cycle), but a file can say so.
    let a = s.path("a.drv");
    let b = s.derive("b", &[("out", &s.path("b"))], &[(&a, &["out"])]);
    s.derive("a", &[("out", &s.path("a"))], &[(&b, &["out"])]);
    let c = missing_closure(&a, Limits::default());
    assert_eq!((c.missing.len(), c.read), (2, 2));

    let mut chain = s.derive("n0", &[("out", &s.path("n0"))], &[]);
    for i in 1..50 {
        let out = s.path(&format!("n{i}"));
        chain = s.derive(&format!("n{i}"), &[("out", &out)], &[(&chain, &["out"])]);
    }
    let small = Limits {
        max_drvs: 10,
        ..Limits::default()
    };
    let c = missing_closure(&chain, small);
    assert_eq!((c.missing.len(), c.read, c.truncated), (10, 10, true));
    let c = missing_closure(&chain, Limits::default());
    assert_eq!((c.missing.len(), c.truncated), (50, false));

    // The head must end within the byte cap; what follows it may be longer.
    let big = s.drv(
        "big",
        &format!(
            r#"Derive([("out","{}","","")],[],[],"x86_64-linux","/bin/sh",[],[("env","{}")])"#,
            s.path("big"),
            "x".repeat(10_000)
        ),
    );
    let capped = |head_bytes| {
        missing_closure(
            &big,
            Limits {
                head_bytes,
                ..Limits::default()
            },
        )
    };
    assert_eq!(capped(200).missing.len(), 1);
    let c = capped(20);
    assert_eq!((c.missing.len(), c.skipped), (0, 1));
    assert!(c.first_error.unwrap().contains("within 20 bytes"));
}

#[test]
fn local_store_settings() {
    for s in [
        "",
        "auto",
        "local",
        "daemon",
        "unix:///nix/var/nix/daemon-socket/socket",
    ] {
        assert!(store_is_local_files(s), "{s}");
    }
    for s in [
        "ssh://builder",
        "ssh-ng://builder",
        "https://cache.nixos.org",
        "/tmp/chroot",
        "local?root=/tmp/chroot",
        "unix:///s?root=/x",
    ] {
        assert!(!store_is_local_files(s), "{s}");
    }
}

/// This thread's CPU time (user and system) in ms: on a loaded machine the wall time of a
/// walk is mostly waiting for a core.
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// Median and slowest wall time and median CPU time of `runs` walks of `root`, in ms, and the
/// closure of the last.
fn time_walks(root: &str, runs: usize) -> (f64, f64, f64, Closure) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut last = Closure::default();
    for _ in 0..runs {
        let (t0, c0) = (std::time::Instant::now(), thread_cpu_ms());
        last = missing_closure(root, Limits::default());
        cpu.push(thread_cpu_ms() - c0);
        wall.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[runs / 2], wall[runs - 1], cpu[runs / 2], last)
}

/// `bench/drv-closure.sh`: how long reading a plan takes, page cache warm: the chain fixture's
/// `wide` (a real drv with 50 inputs, none built) and a synthetic closure of 5,000 drvs (50
/// layers of 100, each drv using 6 of the layer below, 2 KB of environment each, as nixpkgs
/// drvs are a few KB with a handful of inputs).
#[test]
#[ignore = "benchmark: bench/drv-closure.sh"]
fn drv_closure_bench() {
    if !nix_available() {
        return;
    }
    let (_dir, flake) = chain_flake();
    let wide = attr_path(&flake, "wide", "drvPath");
    let (median, max, cpu, c) = time_walks(&wide, 21);
    assert_eq!((c.missing.len(), c.skipped), (51, 0));
    println!(
        "real drv, 50 inputs: {} drvs read, median {median:.3} ms (CPU {cpu:.3} ms), max {max:.3} ms",
        c.read
    );

    let s = FakeStore::new();
    let env = "x".repeat(2048);
    let mut below: Vec<String> = Vec::new();
    for layer in 0..50 {
        let mut this = Vec::new();
        for k in 0..100 {
            let name = format!("l{layer}-d{k}");
            let ins: Vec<String> = (0..6)
                .filter(|_| !below.is_empty())
                .map(|j| format!("(\"{}\",[\"out\"])", below[(k * 7 + j * 13) % below.len()]))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let text = format!(
                r#"Derive([("out","{}","","")],[{}],[],"x86_64-linux","/bin/sh",[],[("env","{env}")])"#,
                s.path(&name),
                ins.join(",")
            );
            this.push(s.drv(&name, &text));
        }
        below = this;
    }
    let ins: Vec<String> = below
        .iter()
        .map(|d| format!("(\"{d}\",[\"out\"])"))
        .collect();
    let root = s.drv(
        "root",
        &format!(
            r#"Derive([("out","{}","","")],[{}],[],"x86_64-linux","/bin/sh",[],[])"#,
            s.path("root"),
            ins.join(",")
        ),
    );
    let (median, max, cpu, c) = time_walks(&root, 11);
    println!(
        "synthetic: {} drvs read, {} missing, median {median:.1} ms (CPU {cpu:.1} ms), max {max:.1} ms",
        c.read,
        c.missing.len()
    );
    assert!(c.read > 4000 && c.skipped == 0 && !c.truncated, "{c:?}");
}
