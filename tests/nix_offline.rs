//! The catalog's Nix side, checked with real nix and no nixpkgs (issue 3, item 5):
//! every `.nix` file parses; the builtins-only index lists what `atwb list --json` lists; the
//! NUR entry point keeps its contract; and every service's unit (as `atwb unit` prints it from
//! the Nix evaluation) scores <= 2.0 with `systemd-analyze security --offline=yes`, unless its
//! package.toml names an exception with a reason.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use atwb::nix::hardening;
use serde_json::Value;

use common::copy_dir;

/// The bound every service must meet without a named exception.
const MAX_EXPOSURE: f32 = 2.0;

fn atwb() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_atwb"));
    c.env("NIX_CONFIG", common::NIX_CONFIG);
    c
}

fn catalog_dir() -> PathBuf {
    common::repo_root().join("catalog")
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `nix eval --json --file <catalog>/lib/offline.nix ATTR --argstr catalogDir <catalog>`.
fn eval_offline(catalog: &Path, attr: &str) -> std::process::Output {
    common::nix()
        .args(["eval", "--json", "--file"])
        .arg(catalog.join("lib/offline.nix"))
        .arg(attr)
        .arg("--argstr")
        .arg("catalogDir")
        .arg(catalog)
        .output()
        .expect("running nix")
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" || name == "node_modules" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            nix_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "nix") {
            out.push(path);
        }
    }
}

/// A catalog in a temp dir with this repository's `lib/` and the given packages
/// (`(org, name, package.toml text)`).
fn temp_catalog(packages: &[(&str, &str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&catalog_dir().join("lib"), &dir.path().join("lib"));
    std::fs::copy(
        catalog_dir().join("default.nix"),
        dir.path().join("default.nix"),
    )
    .unwrap();
    for (org, name, text) in packages {
        let pkg = dir.path().join("pkgs").join(org).join(name);
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("package.toml"), text).unwrap();
    }
    dir
}

const HASH: &str = "sha256-qDVJ2sEQL0TJbWer6ByhhQrzHE1bZI3U1mmCk0sPZqo=";
const REV: &str = "2e5a4cde904d86825cefe5971e68f1bdfb1dd36f";

/// A valid package.toml; `services` is appended verbatim.
fn package_toml(name: &str, tier: u8, builder: &str, extra_build: &str, services: &str) -> String {
    format!(
        r#"name = "{name}"
version = "0-unstable-2026-05-05"
tier = {tier}
category = "infrastructure"
description = "Test service for the offline Nix checks"
homepage = "https://example.org/{name}"
license = ["MIT"]
maintainers = ["atwb"]
platforms = ["x86_64-linux"]
main_program = "{name}"

[source]
host = "github"
owner = "example"
repo = "{name}"
rev = "{REV}"
hash = "{HASH}"
submodules = false
verified = false
provenance = "test fixture"

[build]
language = "rust"
builder = "{builder}"
deps_hash = "unknown"
{extra_build}

[atproto]
services = ["appview"]
protocols = ["xrpc"]
dependencies = []
{services}"#
    )
}

fn fixture_packages() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "alpha",
            "plain",
            package_toml(
                "plain",
                1,
                "rust-package",
                "",
                r#"
[services.plain]
exec = ["plain", "--listen", "{listen_address}:{port:http}", "--data", "{data_dir}", "--mode", "{option:mode}"]
ports = { http = 8080 }
database = "sqlite"
health_path = "/health"

[services.plain.options.mode]
type = "enum"
values = ["fast", "safe"]
default = "safe"
description = "Mode"
env = "PLAIN_MODE"

[services.plain.options.token]
type = "secret-file"
description = "API token"
env = "PLAIN_TOKEN"
"#,
            ),
        ),
        (
            "beta",
            "lowport",
            package_toml(
                "lowport",
                2,
                "go-module",
                r#"sub_packages = ["cmd/lowport"]"#,
                r#"
[services.lowport]
exec = ["lowport"]
ports = { http = 80 }
jit = true
"#,
            ),
        ),
        (
            "beta",
            "loose",
            package_toml(
                "loose",
                3,
                "go-module",
                "",
                r#"
[services.loose]
exec = ["loose"]
ports = { http = 9000 }

[services.loose.hardening_exceptions.ProtectSystem]
value = false
reason = "test: writes all over the file system"

[services.loose.hardening_exceptions.SystemCallFilter]
value = []
reason = "test: no syscall filter"

[services.loose.hardening_exceptions.PrivateDevices]
value = false
reason = "test: needs devices"

[services.loose.hardening_exceptions.RestrictNamespaces]
value = false
reason = "test: creates namespaces"

[services.loose.hardening_exceptions.CapabilityBoundingSet]
value = ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
reason = "test: administers the machine"
"#,
            ),
        ),
    ]
}

// ------------------------------------------------------------------ parsing

#[test]
fn every_nix_file_parses() {
    if !common::require_tool("nix") {
        return;
    }
    let mut files = Vec::new();
    nix_files(&common::repo_root(), &mut files);
    for must in [
        "flake.nix",
        "catalog/default.nix",
        "catalog/lib/service-common.nix",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(must)),
            "{must} is missing from the repository"
        );
    }
    let mut failures = Vec::new();
    for file in &files {
        let out = Command::new("nix-instantiate")
            .arg("--parse")
            .arg(file)
            .output()
            .expect("running nix-instantiate");
        if !out.status.success() {
            failures.push(format!(
                "{}:\n{}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    println!("parsed {} .nix files", files.len());
    assert!(
        failures.is_empty(),
        "files that do not parse:\n{}",
        failures.join("\n")
    );
}

// ------------------------------------------------------------------ index vs atwb list

/// (name, org, tier, category, version, services) from either side.
fn index_rows(json: &str) -> BTreeSet<(String, String, u64, String, String, Vec<String>)> {
    let v: Value = serde_json::from_str(json).expect("JSON");
    v.as_array()
        .expect("an array")
        .iter()
        .map(|p| {
            let s = |k: &str| {
                p[k].as_str()
                    .unwrap_or_else(|| panic!("{k} in {p}"))
                    .to_string()
            };
            let mut services: Vec<String> = p["services"]
                .as_array()
                .unwrap_or_else(|| panic!("services in {p}"))
                .iter()
                .map(|s| match s {
                    Value::String(n) => n.clone(),
                    other => other["name"].as_str().expect("service name").to_string(),
                })
                .collect();
            services.sort();
            (
                s("name"),
                s("org"),
                p["tier"].as_u64().expect("tier"),
                s("category"),
                s("version"),
                services,
            )
        })
        .collect()
}

fn assert_index_matches_list(catalog: &Path) -> usize {
    let nix = eval_offline(catalog, "index");
    assert!(
        nix.status.success(),
        "nix eval of the index failed:\n{}",
        String::from_utf8_lossy(&nix.stderr)
    );
    let from_nix = index_rows(&String::from_utf8(nix.stdout).unwrap());
    let listed = run_ok(
        atwb()
            .arg("--catalog")
            .arg(catalog)
            .args(["list", "--json"]),
    );
    let from_rust = index_rows(&listed);
    assert_eq!(
        from_nix,
        from_rust,
        "catalog/lib (left) and `atwb list --json` (right) disagree for {}",
        catalog.display()
    );
    from_nix.len()
}

#[test]
fn nix_index_lists_what_atwb_list_lists() {
    if !common::require_tool("nix") {
        return;
    }
    let n = assert_index_matches_list(&catalog_dir());
    println!("repository catalog: {n} packages agree");
    assert!(n > 0, "the repository catalog is empty");
}

#[test]
fn nix_index_matches_on_a_fixture_catalog() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = temp_catalog(&fixture_packages());
    assert_eq!(assert_index_matches_list(dir.path()), 3);
}

#[test]
fn malformed_data_fails_naming_file_and_field() {
    if !common::require_tool("nix") {
        return;
    }
    let bad_rev = package_toml("plain", 1, "rust-package", "", "").replace(REV, "HEAD");
    let dir = temp_catalog(&[("alpha", "plain", bad_rev)]);
    let out = eval_offline(dir.path(), "index");
    assert!(
        !out.status.success(),
        "a branch name as rev must not evaluate"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("catalog/pkgs/alpha/plain/package.toml: field `source.rev`"),
        "{err}"
    );

    let bad_tier = package_toml("plain", 1, "rust-package", "", "").replace("tier = 1", "tier = 7");
    let dir = temp_catalog(&[("alpha", "plain", bad_tier)]);
    let err = String::from_utf8_lossy(&eval_offline(dir.path(), "index").stderr).to_string();
    assert!(err.contains("field `tier`: 7 is out of range"), "{err}");

    let secret_default = package_toml(
        "plain",
        1,
        "rust-package",
        "",
        "\n[services.plain]\nexec = [\"plain\"]\n[services.plain.options.key]\ntype = \"secret-file\"\ndefault = \"/x\"\n",
    );
    let dir = temp_catalog(&[("alpha", "plain", secret_default)]);
    let err = String::from_utf8_lossy(&eval_offline(dir.path(), "units").stderr).to_string();
    assert!(
        err.contains("field `services.plain.options.key.default`"),
        "{err}"
    );

    // The module runs <package>/bin/<exec[0]>: a path there would run a file outside it.
    let escape = package_toml(
        "plain",
        1,
        "rust-package",
        "",
        "\n[services.plain]\nexec = [\"../../../../bin/sh\", \"-c\", \"id\"]\n",
    );
    let dir = temp_catalog(&[("alpha", "plain", escape)]);
    let err = String::from_utf8_lossy(&eval_offline(dir.path(), "units").stderr).to_string();
    assert!(
        err.contains("field `services.plain.exec`") && err.contains("not a path"),
        "{err}"
    );
}

// ------------------------------------------------------------------ NUR contract

#[test]
fn default_nix_keeps_the_nur_contract() {
    if !common::require_tool("nix") {
        return;
    }
    let default_nix = catalog_dir().join("default.nix");
    // The signature: `pkgs` only, with a default.
    let args = run_ok(
        common::nix()
            .args(["eval", "--impure", "--json", "--expr"])
            .arg(format!(
                "builtins.functionArgs (import {})",
                default_nix.display()
            )),
    );
    assert_eq!(args.trim(), r#"{"pkgs":true}"#);

    // Every package is an attribute, beside the reserved ones; modules are paths. `pkgs = { }`
    // is enough because attribute names and module paths never touch nixpkgs.
    let shape = run_ok(
        common::nix()
            .args(["eval", "--impure", "--json", "--expr"])
            .arg(format!(
                "let c = import {} {{ pkgs = {{ }}; }}; in {{ names = builtins.attrNames c; \
         modules = builtins.mapAttrs (_: builtins.typeOf) c.nixosModules; \
         overlays = builtins.mapAttrs (_: builtins.typeOf) c.overlays; }}",
                default_nix.display()
            )),
    );
    let shape: Value = serde_json::from_str(&shape).unwrap();
    let names: BTreeSet<String> = shape["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let listed = run_ok(
        atwb()
            .arg("--catalog")
            .arg(catalog_dir())
            .args(["list", "--json"]),
    );
    let mut expected: BTreeSet<String> = index_rows(&listed).into_iter().map(|row| row.0).collect();
    expected.extend(["lib", "overlays", "nixosModules"].map(String::from));
    assert_eq!(names, expected, "default.nix attributes vs atwb list");
    assert_eq!(shape["modules"]["default"], "path");
    assert_eq!(shape["overlays"]["default"], "lambda");

    // Nothing impure or fetched at evaluation time anywhere in the catalog's Nix.
    let mut files = Vec::new();
    nix_files(&catalog_dir(), &mut files);
    let forbidden = [
        "builtins.fetch",
        "fetchTarball",
        "currentTime",
        "currentSystem",
        "getEnv",
        "import <nixpkgs>",
    ];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("");
            let allowed_default = file.ends_with("catalog/default.nix")
                && code.contains("pkgs ? import <nixpkgs> { }");
            for word in forbidden {
                if code.contains(word) && !allowed_default {
                    panic!(
                        "{}:{}: `{word}` makes evaluation impure: {line}",
                        file.display(),
                        i + 1
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------ hardening

/// (service, score, exception reasons) for every service `atwb unit` prints from `catalog`.
fn score_services(catalog: &Path) -> Vec<(String, f32, Vec<String>)> {
    let out = eval_offline(catalog, "units");
    assert!(
        out.status.success(),
        "offline.nix units: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let units: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut scores = Vec::new();
    for (service, unit) in units.as_object().unwrap() {
        let text = run_ok(atwb().arg("--catalog").arg(catalog).args(["unit", service]));
        assert!(text.contains("[Service]\nExecStart="), "{text}");
        let report = hardening::analyze(&text)
            .unwrap_or_else(|e| panic!("scoring {service}: {e:#}\nunit:\n{text}"));
        let reasons: Vec<String> = unit["hardeningExceptions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, e)| format!("{k}: {}", e["reason"].as_str().unwrap()))
            .collect();
        for reason in &reasons {
            let key = reason.split(':').next().unwrap();
            assert!(
                text.contains(&format!("# hardening exception {key}=")),
                "`atwb unit {service}` does not show the exception {key}:\n{text}"
            );
        }
        scores.push((service.clone(), report.score, reasons));
    }
    scores
}

fn report_and_check(scores: &[(String, f32, Vec<String>)]) -> Vec<String> {
    let mut too_exposed = Vec::new();
    for (service, score, reasons) in scores {
        let status = if *score <= MAX_EXPOSURE {
            "ok"
        } else if reasons.is_empty() {
            too_exposed.push(format!(
                "{service}: {score:.1} > {MAX_EXPOSURE} with no exception in its data"
            ));
            "TOO EXPOSED"
        } else {
            "over the bound, by named exception"
        };
        println!("{service:<24} {score:>4.1}  {status}");
        for reason in reasons {
            println!("    exception {reason}");
        }
    }
    too_exposed
}

#[test]
fn every_catalog_service_is_hardened() {
    if !common::require_tool("nix") || !common::require_tool("systemd-analyze") {
        return;
    }
    let scores = score_services(&catalog_dir());
    // The library entry point the TUI uses gives the same numbers as the CLI path.
    let library = atwb::nix::unit::hardening_scores(&catalog_dir()).unwrap();
    assert_eq!(library.len(), scores.len());
    for (service, score, _) in &scores {
        assert_eq!(library[service].as_ref().ok(), Some(score), "{service}");
    }
    let too_exposed = report_and_check(&scores);
    assert!(too_exposed.is_empty(), "{}", too_exposed.join("\n"));
}

#[test]
fn fixture_services_score_as_their_settings_say() {
    if !common::require_tool("nix") || !common::require_tool("systemd-analyze") {
        return;
    }
    let dir = temp_catalog(&fixture_packages());
    let scores = score_services(dir.path());
    report_and_check(&scores);
    let score = |name: &str| scores.iter().find(|s| s.0 == name).unwrap().1;
    assert!(score("plain") <= MAX_EXPOSURE, "plain: {}", score("plain"));
    assert!(
        score("lowport") <= MAX_EXPOSURE,
        "lowport: {}",
        score("lowport")
    );
    // The exceptions really reach the unit: the scorer sees a much weaker service.
    assert!(
        score("loose") > MAX_EXPOSURE + 1.0,
        "loose: {}",
        score("loose")
    );

    // What the preset decides from data: a JIT keeps W^X memory, a port < 1024 gets exactly
    // CAP_NET_BIND_SERVICE (and no private user namespace, which could not bind it).
    let lowport = run_ok(
        atwb()
            .arg("--catalog")
            .arg(dir.path())
            .args(["unit", "lowport"]),
    );
    assert!(
        lowport.contains("MemoryDenyWriteExecute=false\n"),
        "{lowport}"
    );
    assert!(
        lowport.contains("CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"),
        "{lowport}"
    );
    assert!(lowport.contains("PrivateUsers=false\n"), "{lowport}");
    let plain = run_ok(
        atwb()
            .arg("--catalog")
            .arg(dir.path())
            .args(["unit", "plain"]),
    );
    for line in [
        "MemoryDenyWriteExecute=true\n",
        "CapabilityBoundingSet=\n",
        "UMask=0077\n",
        "SystemCallFilter=@system-service\n",
        "StateDirectory=atproto/plain\n",
        "User=atproto-plain\n",
        "Environment=\"PLAIN_MODE=safe\"\n",
        "LoadCredential=token:/run/secrets/atproto-plain/token\n",
        "/bin/plain --listen 127.0.0.1:8080 --data /var/lib/atproto/plain --mode safe\n",
    ] {
        assert!(plain.contains(line), "missing {line:?} in:\n{plain}");
    }
    // The secret's value never appears in the unit, only where systemd reads it from.
    assert!(!plain.contains("PLAIN_TOKEN="), "{plain}");

    // A package name selects all of its services; --json carries the same section.
    let json: Value = serde_json::from_str(&run_ok(
        atwb()
            .arg("--catalog")
            .arg(dir.path())
            .args(["unit", "loose", "--json"]),
    ))
    .unwrap();
    let section = json[0]["section"].as_str().unwrap();
    assert!(section.contains("# hardening exception CapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_ADMIN: test: administers the machine"), "{section}");
}

#[test]
fn unknown_unit_name_is_a_clear_error() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = temp_catalog(&fixture_packages());
    let out = atwb()
        .arg("--catalog")
        .arg(dir.path())
        .args(["unit", "nosuch"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no service or package named `nosuch`"),
        "{err}"
    );
    assert!(err.contains("lowport"), "lists the services: {err}");
}

// ------------------------------------------------------------------ module == offline unit

/// With nixpkgs' lib at hand (`ATWB_NIXPKGS_LIB=/path/to/nixpkgs.lib/lib`, e.g. a clone of
/// github:nix-community/nixpkgs.lib), evaluate every generated NixOS module with the stand-in
/// options and check that its `systemd.services.atproto-<name>.serviceConfig` is exactly what
/// `atwb unit` renders from offline.nix. Ignored by default: nixpkgs
/// cannot be downloaded in CI.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --ignored"]
fn generated_modules_produce_the_offline_units() {
    let nixpkgs_lib = std::env::var("ATWB_NIXPKGS_LIB").expect(
        "set ATWB_NIXPKGS_LIB to a nixpkgs lib/ directory to compare modules with offline units",
    );
    if !common::require_tool("nix") {
        return;
    }
    let catalog = catalog_dir();
    let units: Value = serde_json::from_str(&run_ok(
        common::nix()
            .args(["eval", "--json", "--file"])
            .arg(catalog.join("lib/offline.nix"))
            .arg("units"),
    ))
    .unwrap();
    let store_path = |s: &str| -> String {
        // Placeholder store paths differ in their names (the module stand-in has no version).
        s.split(' ')
            .map(|w| {
                if w.starts_with("/nix/store/00000000000000000000000000000000-") {
                    let rest = w.splitn(5, '/').nth(4).unwrap_or("");
                    format!("<store>/{rest}")
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (service, unit) in units.as_object().unwrap() {
        let secrets: Vec<String> = unit["serviceConfig"]["LoadCredential"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let (name, path) = c.as_str().unwrap().split_once(':').unwrap();
                        format!("{name:?} = {path:?};")
                    })
                    .collect()
            })
            .unwrap_or_default();
        let module = run_ok(
            common::nix()
                .args(["eval", "--json", "--file"])
                .arg(catalog.join("lib/testing/eval-module.nix"))
                .arg(format!(
                    "config.systemd.services.atproto-{service}.serviceConfig"
                ))
                .args(["--arg", "lib"])
                .arg(format!("import {nixpkgs_lib}"))
                .args(["--argstr", "service", service])
                .args(["--arg", "config"])
                .arg(format!("{{ secrets = {{ {} }}; }}", secrets.join(" "))),
        );
        let mut from_module: serde_json::Map<String, Value> =
            serde_json::from_str(&module).unwrap();
        let mut offline = unit["serviceConfig"].as_object().unwrap().clone();
        let exec = from_module.remove("ExecStart").unwrap();
        assert_eq!(
            store_path(exec.as_str().unwrap()),
            store_path(unit["execStart"].as_str().unwrap()),
            "{service}: ExecStart"
        );
        offline.remove("ExecStart");
        assert_eq!(
            from_module, offline,
            "{service}: serviceConfig of the module vs offline.nix"
        );
    }
    println!(
        "{} modules match their offline units",
        units.as_object().unwrap().len()
    );
}

// ------------------------------------------------------------------ flake outputs (stub nixpkgs)

/// package.toml files of the repository catalog, parsed.
fn catalog_tomls() -> Vec<toml::Table> {
    let mut out = Vec::new();
    let pkgs = catalog_dir().join("pkgs");
    for org in std::fs::read_dir(&pkgs).unwrap() {
        for pkg in std::fs::read_dir(org.unwrap().path()).unwrap() {
            let file = pkg.unwrap().path().join("package.toml");
            if let Ok(text) = std::fs::read_to_string(&file) {
                out.push(
                    text.parse()
                        .unwrap_or_else(|e| panic!("{}: {e}", file.display())),
                );
            }
        }
    }
    out
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// With nixpkgs' lib at hand (`ATWB_NIXPKGS_LIB`, see above), evaluate the flake's outputs
/// against `catalog/lib/testing/stub-nixpkgs.nix` (inert builders): every package and check
/// argument evaluates, and the outputs list what the catalog holds. Builds are not tested.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --ignored"]
fn flake_outputs_evaluate_with_stub_nixpkgs() {
    let nixpkgs_lib = std::env::var("ATWB_NIXPKGS_LIB")
        .expect("set ATWB_NIXPKGS_LIB to a nixpkgs lib/ directory to evaluate the flake's outputs");
    if !common::require_tool("nix") {
        return;
    }
    let tomls = catalog_tomls();
    let mut tools: BTreeSet<String> = BTreeSet::new();
    for t in &tomls {
        let build = t.get("build");
        tools.extend(strings(build.and_then(|b| b.get("build_inputs"))));
        tools.extend(strings(build.and_then(|b| b.get("native_build_inputs"))));
    }

    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("nixpkgs");
    copy_dir(Path::new(&nixpkgs_lib), &fake.join("lib"));
    std::fs::copy(
        catalog_dir().join("lib/testing/stub-nixpkgs.nix"),
        fake.join("stub.nix"),
    )
    .unwrap();
    std::fs::write(
        fake.join("flake.nix"),
        "{ outputs = { self }: { lib = import ./lib; }; }\n",
    )
    .unwrap();
    let names: Vec<String> = tools.iter().map(|t| format!("{t:?}")).collect();
    std::fs::write(
        fake.join("default.nix"),
        format!(
            "args: import ./stub.nix (args // {{ lib = import ./lib; toolNames = [ {} ]; }})\n",
            names.join(" ")
        ),
    )
    .unwrap();
    let repo = tmp.path().join("repo");
    for dir in ["src", "catalog", "assets"] {
        let from = common::repo_root().join(dir);
        if from.is_dir() {
            copy_dir(&from, &repo.join(dir));
        }
    }
    for file in ["flake.nix", "Cargo.toml", "Cargo.lock"] {
        std::fs::copy(common::repo_root().join(file), repo.join(file)).unwrap();
    }

    let eval = |attr: &str, apply: &str| -> Value {
        let out = run_ok(
            common::nix()
                .args(["eval", "--json", "--override-input", "nixpkgs"])
                .arg(format!("path:{}", fake.display()))
                .arg(format!("path:{}#{attr}", repo.display()))
                .args(["--apply", apply]),
        );
        serde_json::from_str(&out).unwrap()
    };
    let names_of = |v: Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    // deepSeq: every argument of every (inert) derivation is evaluated.
    let force = "x: builtins.deepSeq x (builtins.attrNames x)";
    // atwb's own source is a lib.fileset, which needs builtins newer than Nix 2.8: names only.
    let packages = names_of(eval(
        "packages.x86_64-linux",
        "x: builtins.deepSeq (removeAttrs x [ \"atwb\" \"default\" ]) (builtins.attrNames x)",
    ));
    let checks = names_of(eval("checks.x86_64-linux", force));
    let modules = names_of(eval("nixosModules", "builtins.attrNames"));

    let here = |t: &toml::Table| {
        let p = strings(t.get("platforms"));
        p.is_empty() || p.iter().any(|p| p == "x86_64-linux")
    };
    for t in tomls.iter().filter(|t| here(t)) {
        let name = t["name"].as_str().unwrap();
        assert!(
            packages.contains(name),
            "packages.x86_64-linux lacks {name}"
        );
        assert!(
            checks.contains(&format!("{name}-smoke")),
            "no {name}-smoke check"
        );
        if let Some(services) = t.get("services").and_then(|s| s.as_table()) {
            for svc in services.keys() {
                assert!(
                    checks.contains(&format!("{name}-{svc}-vm")),
                    "no {name}-{svc}-vm check"
                );
                assert!(modules.contains(svc), "no nixosModules.{svc}");
            }
        }
    }
    for must in ["atwb", "default"] {
        assert!(packages.contains(must), "packages lacks {must}");
    }
    assert!(modules.contains("default"));
    assert!(
        checks.contains("ecosystem"),
        "no ecosystem check: {checks:?}"
    );
    let tiers = eval(
        "legacyPackages.x86_64-linux.byTier",
        "builtins.mapAttrs (_: builtins.attrNames)",
    );
    assert!(
        tiers["tier1"].as_array().is_some_and(|a| !a.is_empty()),
        "{tiers}"
    );
    println!(
        "flake: {} packages, {} checks, {} modules evaluate",
        packages.len(),
        checks.len(),
        modules.len()
    );
}

// ------------------------------------------------------------------ pure helpers

/// The library's pure functions evaluate with builtins only, as documented.
#[test]
fn pure_helpers_evaluate_without_nixpkgs() {
    if !common::require_tool("nix") {
        return;
    }
    let lib = catalog_dir().join("lib");
    let expr = format!(
        r#"let
          common = import {common};
          core = import {core} {{ }};
        in {{
          low = common.mkServiceSecurity {{ ports = {{ http = 443; metrics = 9100; }}; }};
          high = common.mkServiceSecurity {{ ports = {{ http = 8080; }}; jit = true;
            exceptions.ProtectHome = {{ value = "read-only"; reason = "reads ~/.config"; }}; }};
          pg = core.mkAtprotoDatabase {{ type = "postgresql"; name = "relay"; }};
          lite = core.mkAtprotoDatabase {{ type = "sqlite"; name = "pds"; }};
          remote = common.mkDatabaseIntegration {{ type = "postgresql"; name = "r"; user = "r";
            dataDir = "/var/lib/r"; host = "db.example"; }};
          did = core.mkDidResolver {{ cacheTtlSeconds = 60; }};
        }}"#,
        common = lib.join("service-common.nix").display(),
        core = lib.join("atproto-core.nix").display(),
    );
    let v: Value = serde_json::from_str(&run_ok(
        common::nix()
            .args(["eval", "--impure", "--json", "--expr"])
            .arg(expr),
    ))
    .unwrap();
    assert_eq!(
        v["low"]["CapabilityBoundingSet"],
        serde_json::json!(["CAP_NET_BIND_SERVICE"])
    );
    assert_eq!(v["low"]["PrivateUsers"], false);
    assert_eq!(v["low"]["MemoryDenyWriteExecute"], true);
    assert_eq!(v["high"]["CapabilityBoundingSet"], serde_json::json!([""]));
    assert_eq!(v["high"]["PrivateUsers"], true);
    assert_eq!(v["high"]["MemoryDenyWriteExecute"], false);
    assert_eq!(v["high"]["ProtectHome"], "read-only");
    assert_eq!(v["high"]["UMask"], "0077");
    assert_eq!(
        v["pg"]["url"],
        "postgresql://relay@/relay?host=/run/postgresql"
    );
    assert_eq!(v["lite"]["path"], "/var/lib/atproto/pds/pds.sqlite");
    assert_eq!(
        v["remote"]["postgresql"],
        Value::Null,
        "a remote database is not created locally"
    );
    assert_eq!(v["did"]["ATPROTO_DID_CACHE_TTL"], "60");
}
