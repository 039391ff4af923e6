//! The loader against fixture catalogs: every bad case under `tests/fixtures/bad/<case>/` must
//! produce exactly the diagnostics in its `expected.txt`, the good catalogs none at all.
//!
//! To regenerate the expected files after an intended message change, run with `ATWB_BLESS=1`
//! and review the diff: the expected text is the specification of each message.
//!
//! Files git cannot carry portably (a FIFO, a link to a device or out of the tree, a file over the
//! loader's size cap) are described in a case's `setup.txt`, one per line: `fifo PATH`,
//! `symlink PATH TARGET`, `pad PATH BYTES` (comment lines appended up to that size). Such a case
//! is copied to a temporary directory and the files are made there before it is loaded.

use std::fs;
use std::path::{Path, PathBuf};

use atwb::catalog::{self, Builder, DepsHash, OptionType, SourceHost, Tier};

mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Diagnostics as `atwb check` prints them, with paths relative to the case directory.
fn render(case: &Path, loaded: &catalog::Loaded) -> String {
    let mut out = String::new();
    for d in &loaded.diagnostics {
        let mut d = d.clone();
        d.file = d
            .file
            .strip_prefix(case)
            .expect("diagnostic file inside the case")
            .to_path_buf();
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

/// A bad case ready to load: the fixture itself, or a temporary copy with its `setup.txt` applied.
struct Case {
    root: PathBuf,
    _copy: Option<tempfile::TempDir>,
}

fn materialize(case: &Path) -> Case {
    let Ok(setup) = fs::read_to_string(case.join("setup.txt")) else {
        return Case {
            root: case.to_path_buf(),
            _copy: None,
        };
    };
    let copy = tempfile::tempdir().unwrap();
    let root = copy.path().join(case.file_name().unwrap());
    common::copy_dir(case, &root);
    for line in setup
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let path = root.join(words[1]);
        if fs::symlink_metadata(&path).is_ok() && words[0] != "pad" {
            fs::remove_file(&path).unwrap();
        }
        match words[..] {
            ["fifo", _] => {
                let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
                assert_eq!(
                    unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
                    0,
                    "mkfifo {line}"
                );
            }
            ["symlink", _, target] => std::os::unix::fs::symlink(target, &path).unwrap(),
            ["pad", _, bytes] => {
                let mut text = fs::read(&path).unwrap();
                let line = b"# padding to push the file over the loader's size cap ............\n";
                while text.len() < bytes.parse::<usize>().unwrap() {
                    text.extend_from_slice(line);
                }
                fs::write(&path, text).unwrap();
            }
            _ => panic!("{}: bad setup line {line:?}", case.display()),
        }
    }
    Case {
        root,
        _copy: Some(copy),
    }
}

fn bad_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("bad"))
        .expect("tests/fixtures/bad exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_bad_case_gives_exactly_its_expected_diagnostics() {
    let bless = std::env::var_os("ATWB_BLESS").is_some();
    let cases = bad_cases();
    assert!(
        cases.len() >= 60,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy();
        let made = materialize(case);
        let loaded =
            catalog::load(&made.root).unwrap_or_else(|e| panic!("{name}: load failed: {e}"));
        let got = render(&made.root, &loaded);
        let expected_file = case.join("expected.txt");
        if bless {
            fs::write(&expected_file, &got).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("{name}: no expected.txt"));
        if got != expected {
            failures.push(format!("--- {name}\nexpected:\n{expected}got:\n{got}"));
        }
        if got.is_empty() {
            failures.push(format!(
                "--- {name}: a bad case must produce at least one diagnostic"
            ));
        }
        // A package with errors never reaches the catalog.
        for p in &loaded.catalog.packages {
            let file = p.dir.join("package.toml");
            if loaded.diagnostics.iter().any(|d| d.file == file) {
                failures.push(format!("--- {name}: {} has errors but was loaded", p.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_diagnostic_of_the_corpus_has_a_hint_a_field_and_a_place() {
    // Beyond the rendered text: every diagnostic says how to fix it, names a field, and points
    // at a line of a file that exists; line 0 only for a problem with a whole file or folder
    // (not a regular file, too large, a link out of the catalog, missing).
    let mut checked = 0;
    for case in bad_cases() {
        let made = materialize(&case);
        let loaded = catalog::load(&made.root).unwrap();
        for d in &loaded.diagnostics {
            let at = format!("{}: {d}", case.display());
            assert!(
                d.hint.as_deref().is_some_and(|h| !h.trim().is_empty()),
                "no hint: {at}"
            );
            assert!(!d.field.is_empty(), "no field: {at}");
            assert!(
                fs::symlink_metadata(&d.file).is_ok(),
                "names a file that does not exist: {at}"
            );
            if d.line == 0 {
                assert!(
                    d.field == "file" || d.field == "folder",
                    "line 0 for a field: {at}"
                );
                continue;
            }
            let text = fs::read(&d.file).unwrap();
            let lines = text.split(|&b| b == b'\n').count();
            assert!(d.line <= lines, "line beyond the file's {lines}: {at}");
            assert!(d.column >= 1, "column 0: {at}");
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} diagnostics with a line");
}

#[test]
fn missing_pkgs_folder_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = catalog::load(dir.path()).unwrap_err();
    assert!(matches!(err, catalog::LoadError::NoPkgsDir(_)), "{err}");
    assert!(err.to_string().contains("pkgs/<org>/<name>/package.toml"));
}

fn good(name: &str) -> catalog::Loaded {
    let root = fixtures().join("good").join(name);
    let loaded = catalog::load(&root).unwrap();
    let text = render(&root, &loaded);
    assert!(
        loaded.diagnostics.is_empty(),
        "good catalog `{name}` has diagnostics:\n{text}"
    );
    loaded
}

#[test]
fn good_catalog_loads_without_diagnostics() {
    let loaded = good("catalog");
    let names: Vec<(u8, &str, &str)> = loaded
        .catalog
        .packages
        .iter()
        .map(|p| (p.tier.number(), p.org.as_str(), p.name.as_str()))
        .collect();
    // Sorted by (tier, org, name); the org comes from the folder.
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(loaded.catalog.packages.len(), 8);
    assert_eq!(
        loaded.catalog.orgs(),
        vec!["example-go", "example-js", "example-net", "example-rs"]
    );
    for tier in Tier::ALL {
        assert!(
            loaded.catalog.packages.iter().any(|p| p.tier == tier),
            "no package in tier {tier}"
        );
    }
    for builder in Builder::ALL {
        assert!(
            loaded
                .catalog
                .packages
                .iter()
                .any(|p| p.build.builder == builder),
            "no package with builder {}",
            builder.as_str()
        );
    }
}

#[test]
fn good_catalog_model_matches_the_files() {
    let loaded = good("catalog");
    let cat = &loaded.catalog;

    let pds = cat.get("quill-pds").expect("quill-pds");
    assert_eq!(pds.org, "example-rs");
    assert_eq!(pds.tier, Tier::Foundation);
    assert_eq!(pds.source.host, SourceHost::Github);
    assert_eq!(
        pds.source.git_url().as_deref(),
        Some("https://github.com/example-rs/quill")
    );
    assert!(
        pds.extra_files.module_nix && !pds.extra_files.package_nix && !pds.extra_files.test_nix
    );
    assert_eq!(pds.build.workspace.as_deref(), Some("quill"));
    assert_eq!(pds.build.members, vec!["quill-pds"]);
    assert_eq!(
        pds.build.env.get("OPENSSL_NO_VENDOR").map(String::as_str),
        Some("1")
    );
    let svc = &pds.services["quill-pds"];
    assert_eq!(svc.ports.get("http"), Some(&2583));
    assert_eq!(svc.database, catalog::Database::Sqlite);
    // Options keep file order, not alphabetical order.
    let options: Vec<&str> = svc.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        options,
        vec![
            "hostname",
            "log-level",
            "jwt-secret",
            "max-blobs",
            "invite-required",
            "data-path",
            "db-file",
            "admins",
            "admin-port"
        ]
    );
    let log_level = &svc.options[1];
    assert_eq!(log_level.ty, OptionType::Enum);
    assert_eq!(log_level.values, vec!["debug", "info", "warn"]);
    assert_eq!(log_level.default, Some(toml::Value::String("info".into())));
    assert_eq!(svc.options[2].ty, OptionType::SecretFile);
    assert_eq!(svc.options[2].default, None);
    assert_eq!(svc.options[3].default, Some(toml::Value::Integer(0x10)));
    // Placeholders stay in the model; the Nix module substitutes them.
    assert_eq!(
        svc.options[5].default,
        Some(toml::Value::String("{data_dir}/blobs".into()))
    );
    let exception = &svc.hardening_exceptions["PrivateUsers"];
    assert_eq!(exception.value, toml::Value::Boolean(false));

    // Two members of one workspace share their pin.
    let relay = cat.get("quill-relay").expect("quill-relay");
    assert_eq!(relay.source, pds.source);
    assert_eq!(
        relay.build.deps_hash,
        DepsHash::Known("sha256-Yq3kR2v5mUqXzYb2k3QJ3b7b0TqBvV6pQh7m3d1wX8c=".into())
    );

    let tangled = cat.get("skylark").expect("skylark");
    assert_eq!(tangled.source.host, SourceHost::Tangled);
    assert_eq!(
        tangled.source.git_url().as_deref(),
        Some("https://tangled.org/example.net/skylark")
    );
    assert!(tangled.extra_files.package_nix && tangled.extra_files.test_nix);

    let git = cat.get("feedling").expect("feedling");
    assert_eq!(git.source.host, SourceHost::Git);
    assert_eq!(
        git.source.url.as_deref(),
        Some("https://git.example.net/feedling.git")
    );
    assert_eq!(git.build.deps_hash, DepsHash::Unknown);
    assert!(git.services["feedling"].jit);
}

#[test]
fn parsing_does_not_depend_on_the_catalog_path() {
    // A relative root works and diagnostics keep the path they were given.
    let case = Path::new("tests/fixtures/bad/rev-head");
    let loaded = catalog::load(case).unwrap();
    assert_eq!(loaded.diagnostics.len(), 1);
    assert!(loaded.diagnostics[0].file.starts_with(case));
}

/// `builtins.fromTOML` of one file with the real Nix: Ok when Nix reads it, Err(stderr) when not.
fn nix_from_toml(file: &Path) -> Result<(), String> {
    let path = serde_json::to_string(&file.to_str().unwrap()).unwrap();
    let out = common::nix()
        .args(["eval", "--impure", "--json", "--expr"])
        .arg(format!("builtins.fromTOML (builtins.readFile {path})"))
        .output()
        .expect("run nix");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The loader's "Nix cannot read this" rules (dates, TOML 1.1 syntax) agree with the real Nix:
/// every such bad case fails in `builtins.fromTOML`, every good fixture file parses there.
#[test]
fn nix_agrees_on_what_it_cannot_read() {
    if !common::require_tool("nix") {
        return;
    }
    let mut checked = 0;
    for case in bad_cases() {
        let expected = fs::read_to_string(case.join("expected.txt")).unwrap();
        if !expected.contains("builtins.fromTOML") {
            continue;
        }
        let file = case.join("pkgs/example/demo-pds/package.toml");
        let err = nix_from_toml(&file).expect_err(&format!(
            "Nix read {}, the loader rejects it",
            file.display()
        ));
        assert!(
            err.contains("while parsing a TOML string"),
            "{}: {err}",
            case.display()
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} Nix-unreadable cases");
    let mut good = 0;
    for org in fs::read_dir(fixtures().join("good/catalog/pkgs")).unwrap() {
        for pkg in fs::read_dir(org.unwrap().path()).unwrap() {
            let file = pkg.unwrap().path().join("package.toml");
            nix_from_toml(&file)
                .unwrap_or_else(|e| panic!("Nix cannot read {}: {e}", file.display()));
            good += 1;
        }
    }
    assert_eq!(good, 8);
}

// ------------------------------------------------------------------ the real binary

mod cli {
    use std::path::Path;
    use std::process::{Command, Output};

    use serde_json::Value;

    use super::fixtures;

    /// Run `atwb --catalog <catalog> args...` from inside the catalog, so printed paths are relative.
    fn atwb(catalog: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_atwb"))
            .arg("--catalog")
            .arg(catalog)
            .args(args)
            .current_dir(catalog)
            .env_remove("ATWB_CATALOG")
            .output()
            .expect("run atwb")
    }

    fn stdout(o: &Output) -> String {
        String::from_utf8(o.stdout.clone()).unwrap()
    }

    fn stderr(o: &Output) -> String {
        String::from_utf8(o.stderr.clone()).unwrap()
    }

    fn json(o: &Output) -> Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
    }

    fn good() -> std::path::PathBuf {
        fixtures().join("good/catalog")
    }

    #[test]
    fn check_passes_on_the_good_catalog() {
        let o = atwb(&good(), &["check"]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        assert_eq!(stdout(&o), "ok: 8 packages, no problems\n");
        let o = atwb(&good(), &["check", "--json"]);
        assert_eq!(o.status.code(), Some(0));
        let v = json(&o);
        assert_eq!(v["ok"], true);
        assert_eq!(v["packages"], 8);
        assert_eq!(v["diagnostics"], Value::Array(vec![]));
    }

    #[test]
    fn check_fails_with_file_line_column_field_and_hint() {
        let case = fixtures().join("bad/rev-head");
        let o = atwb(&case, &["check"]);
        assert_eq!(o.status.code(), Some(1));
        let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
        assert_eq!(
            stdout(&o),
            format!("{expected}1 problem(s) in 1 file(s); 0 valid package(s) loaded\n")
        );

        let o = atwb(&case, &["check", "--json"]);
        assert_eq!(o.status.code(), Some(1));
        let v = json(&o);
        assert_eq!(v["ok"], false);
        assert_eq!(v["packages"], 0);
        let d = &v["diagnostics"][0];
        assert_eq!(d["file"], "pkgs/example/demo-pds/package.toml");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(16), Some(7))
        );
        assert_eq!(d["field"], "source.rev");
        assert!(d["hint"].as_str().unwrap().contains("git ls-remote"));
    }

    #[test]
    fn check_counts_only_valid_packages() {
        // One good and one bad package: the good one still loads.
        let case = fixtures().join("bad/workspace-mismatch");
        let v = json(&atwb(&case, &["check", "--json"]));
        assert_eq!(v["packages"], 1);
        assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn list_json_has_the_documented_fields_in_catalog_order() {
        let o = atwb(&good(), &["list", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let items = json(&o);
        let items = items.as_array().unwrap();
        assert_eq!(items.len(), 8);
        for item in items {
            for key in [
                "name",
                "org",
                "tier",
                "category",
                "description",
                "version",
                "services",
                "builder",
                "verified",
            ] {
                assert!(item.get(key).is_some(), "missing {key} in {item}");
            }
        }
        let order: Vec<(u64, &str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["tier"].as_u64().unwrap(),
                    i["org"].as_str().unwrap(),
                    i["name"].as_str().unwrap(),
                )
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
        assert_eq!(order[0], (1, "example-rs", "quill-pds"));
        let pds = &items[0];
        assert_eq!(pds["services"], serde_json::json!(["quill-pds"]));
        assert_eq!(pds["category"], "infrastructure");
        assert_eq!(pds["builder"], "rust-workspace");
    }

    #[test]
    fn list_filters_by_tier_org_and_fuzzy_query() {
        let names = |args: &[&str]| -> Vec<String> {
            let o = atwb(&good(), args);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            json(&o)
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            names(&["list", "--json", "--tier", "3"]),
            vec!["labeler-kit", "pds-dash", "ink"]
        );
        assert_eq!(
            names(&["list", "--json", "--org", "example-net"]),
            vec!["feedling", "skylark"]
        );
        assert_eq!(
            names(&["list", "--json", "--tier", "2", "--org", "example-go"]),
            vec!["firehose-tap"]
        );
        // The fuzzy filter ranks: both quill packages match "quill", nothing else does.
        let mut quill = names(&["list", "--json", "--filter", "quill"]);
        quill.sort();
        assert_eq!(quill, vec!["quill-pds", "quill-relay"]);
        // A fuzzy (non-contiguous) query still finds the package, best match first.
        assert_eq!(
            names(&["list", "--json", "--filter", "frhstap"])
                .first()
                .map(String::as_str),
            Some("firehose-tap")
        );
        assert!(names(&["list", "--json", "--filter", "zzzzqqq"]).is_empty());
    }

    #[test]
    fn list_table_and_usage_errors() {
        let o = atwb(&good(), &["list"]);
        assert_eq!(o.status.code(), Some(0));
        let out = stdout(&o);
        let mut lines = out.lines();
        let header = lines.next().unwrap();
        assert!(
            header.starts_with("TIER") && header.contains("DESCRIPTION"),
            "{header}"
        );
        assert_eq!(lines.count(), 8);
        assert!(
            out.contains("quill-pds")
                && out.contains("Personal data server of the quill workspace")
        );

        let o = atwb(&good(), &["list", "--org", "example-nett"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("did you mean `example-net`?"),
            "{}",
            stderr(&o)
        );
        let o = atwb(&good(), &["list", "--tier", "4"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("tier 4 is out of range"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn show_prints_every_section() {
        let o = atwb(&good(), &["show", "quill-pds"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        for needle in [
            "quill-pds 0-unstable-2026-05-05",
            "tier 1 (foundation)",
            "github:example-rs/quill @0123456",
            "no (copied; see provenance)",
            "rust-workspace (rust)",
            "sha256-Yq3kR2v5mUqXzYb2k3QJ3b7b0TqBvV6pQh7m3d1wX8c= (cargoHash)",
            "service quill-pds (services.atproto.quill-pds)",
            "http 2583",
            "database      sqlite",
            "PrivateUsers = false",
            "jwt-secret (secret-file) secret, no default, env PDS_JWT_SECRET_FILE",
            "log-level (enum [debug | info | warn]) default \"info\"",
            "module.nix",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
        }
    }

    #[test]
    fn show_json_is_the_package() {
        let o = atwb(&good(), &["show", "feedling", "--json"]);
        assert_eq!(o.status.code(), Some(0));
        let v = json(&o);
        assert_eq!(v["name"], "feedling");
        assert_eq!(v["org"], "example-net");
        assert_eq!(v["tier"], 2);
        assert_eq!(v["source"]["host"], "git");
        assert_eq!(v["build"]["deps_hash"], "unknown");
        assert_eq!(v["services"]["feedling"]["ports"]["http"], 3200);
        assert_eq!(v["services"]["feedling"]["jit"], true);
    }

    #[test]
    fn show_unknown_or_invalid_package() {
        let o = atwb(&good(), &["show", "quil-pds"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("no package named `quil-pds`; did you mean `quill-pds`?"),
            "{}",
            stderr(&o)
        );

        let case = fixtures().join("bad/rev-head");
        let o = atwb(&case, &["show", "demo-pds"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("has errors and was not loaded"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("source.rev"), "{}", stderr(&o));
    }

    #[test]
    fn a_folder_without_pkgs_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let o = atwb(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("has no pkgs/ folder"), "{}", stderr(&o));
    }
}
