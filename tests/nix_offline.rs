//! The catalog's Nix side, checked with real nix and no nixpkgs:
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

use common::{copy_dir, nix_files};

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
         nurModules = builtins.mapAttrs (_: builtins.typeOf) c.modules.nixos; \
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
    expected.extend(["lib", "overlays", "modules", "nixosModules"].map(String::from));
    assert_eq!(names, expected, "default.nix attributes vs atwb list");
    assert_eq!(shape["modules"]["default"], "path");
    assert_eq!(
        shape["nurModules"]["default"], "path",
        "NUR's modules.nixos.default"
    );
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
                && code.contains("pkgs ? import <nixpkgs> {}");
            for word in forbidden {
                assert!(
                    !code.contains(word) || allowed_default,
                    "{}:{}: `{word}` makes evaluation impure: {line}",
                    file.display(),
                    i + 1
                );
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

/// nixpkgs' lib for the tests that evaluate modules (`ATWB_NIXPKGS_LIB=/path/to/nixpkgs.lib/lib`,
/// e.g. the lib/ of a clone of github:nix-community/nixpkgs.lib). nixpkgs cannot be downloaded
/// where these tests run, so without it they skip with the reason; a set but wrong path fails.
fn nixpkgs_lib() -> Option<String> {
    let Ok(path) = std::env::var("ATWB_NIXPKGS_LIB") else {
        eprintln!(
            "SKIPPED: set ATWB_NIXPKGS_LIB to a nixpkgs lib/ directory (the lib/ of a clone of \
             github:nix-community/nixpkgs.lib) to evaluate the modules with the strict NixOS stand-in"
        );
        return None;
    };
    assert!(
        Path::new(&path).join("default.nix").is_file(),
        "ATWB_NIXPKGS_LIB={path} is not a nixpkgs lib/ directory (it has no default.nix)"
    );
    common::require_tool("nix").then_some(path)
}

/// With nixpkgs' lib (see `nixpkgs_lib`), evaluate every generated NixOS module with the strict
/// stand-in and check that its `systemd.services.atproto-<name>.serviceConfig` is exactly what
/// `atwb unit` renders from offline.nix. A package's module.nix may change the module's
/// defaults (tangled-knot runs as `git`); the comparison pins user and group to the generated
/// defaults, which is what offline.nix shows.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
fn generated_modules_produce_the_offline_units() {
    let Some(nixpkgs_lib) = nixpkgs_lib() else {
        return;
    };
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
                .arg(format!(
                    "{{ secrets = {{ {} }}; user = \"atproto-{service}\"; group = \"atproto-{service}\"; }}",
                    secrets.join(" ")
                )),
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
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
#[allow(clippy::too_many_lines)] // one scenario, step by step
fn flake_outputs_evaluate_with_stub_nixpkgs() {
    let Some(nixpkgs_lib) = nixpkgs_lib() else {
        return;
    };
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
          own = (core.mkAtprotoService {{ name = "own"; exec = [ "/bin/own" "--greeting" "50% of $HOME" ]; }} {{ }})
            .systemd.services.own.serviceConfig.ExecStart;
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
    // systemd's quoting, not the shell's: nothing in the arguments is expanded.
    assert_eq!(v["own"], r#"/bin/own --greeting "50%% of $$HOME""#);
}

// ------------------------------------------------------------------ the strict NixOS stand-in

/// `nix-instantiate --eval --strict --json` of `body`, where `e` is catalog/lib/testing/eval.nix
/// (the strict stand-in with nixpkgs' lib) for `catalog`, and `lib` is nixpkgs' lib.
fn eval_standin(nixpkgs_lib: &str, catalog: Option<&Path>, body: &str) -> std::process::Output {
    let eval_nix = catalog_dir().join("lib/testing/eval.nix");
    let catalog_arg = catalog
        .map(|c| format!("catalogDir = \"{}\";", c.display()))
        .unwrap_or_default();
    let expr = format!(
        "let lib = import {nixpkgs_lib}; e = import {} {{ inherit lib; {catalog_arg} }}; in {body}",
        eval_nix.display()
    );
    Command::new("nix-instantiate")
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .args(["--eval", "--strict", "--json", "-E"])
        .arg(expr)
        .output()
        .expect("running nix-instantiate")
}

/// `eval_standin` that must succeed; its JSON.
fn eval_standin_ok(nixpkgs_lib: &str, catalog: Option<&Path>, body: &str) -> Value {
    let out = eval_standin(nixpkgs_lib, catalog, body);
    assert!(
        out.status.success(),
        "evaluating {body} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `eval_standin` that must fail; its stderr.
fn eval_standin_err(nixpkgs_lib: &str, catalog: Option<&Path>, body: &str) -> String {
    let out = eval_standin(nixpkgs_lib, catalog, body);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "{body} evaluated, but must fail; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

/// Every configuration the catalog produces, evaluated as NixOS would evaluate it (forcing the
/// system's toplevel: rendered units, assertions): the modules imported with nothing enabled,
/// each service alone with the values its VM test uses, all services on one machine, every VM
/// test's machines (with each package's test.nix), and examples/*.nix.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
fn strict_stand_in_evaluates_every_configuration() {
    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let report = eval_standin_ok(&lib, None, "e.report");
    let system = "/nix/store/00000000000000000000000000000000-nixos-system-stand-in";
    assert_eq!(report["nothingEnabled"], system);

    let units: Value =
        serde_json::from_slice(&eval_offline(&catalog_dir(), "units").stdout).unwrap();
    let services: BTreeSet<String> = units.as_object().unwrap().keys().cloned().collect();
    let alone: BTreeSet<String> = report["alone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(alone, services, "each service alone");
    for forced in report["aloneForced"].as_array().unwrap() {
        assert_eq!(forced, system);
    }

    let together = &report["together"];
    assert_eq!(together["toplevel"], system);
    assert_eq!(
        together["portClashes"],
        serde_json::json!({}),
        "ports clash on one machine"
    );
    assert_eq!(
        together["databaseClashes"],
        serde_json::json!([]),
        "databases clash"
    );

    let vm_tests = report["vmTests"].as_object().unwrap();
    let mut machines = 0;
    for (name, test) in vm_tests {
        assert!(
            test["script"].as_u64().unwrap() > 0,
            "{name}: empty test script"
        );
        for (node, toplevel) in test["toplevel"].as_object().unwrap() {
            assert_eq!(toplevel, system, "{name}: node {node}");
            machines += 1;
        }
    }
    for service in &services {
        assert!(
            vm_tests
                .keys()
                .any(|t| t.ends_with(&format!("-{service}-vm"))),
            "no VM test for {service}"
        );
    }
    assert!(vm_tests.contains_key("ecosystem"), "no ecosystem test");

    let examples = report["examples"].as_object().unwrap();
    for must in ["pds", "relay-stack"] {
        assert_eq!(
            examples.get(must),
            Some(&Value::from(system)),
            "examples/{must}.nix"
        );
    }
    let counts = &report["counts"];
    println!(
        "strict stand-in: {} services ({} options) evaluated alone and together ({} units, databases {}); \
         {} VM tests with {machines} machines; {} examples; {} machines in all",
        counts["services"],
        counts["options"],
        together["units"],
        together["databases"],
        vm_tests.len(),
        examples.len(),
        counts["machines"]
    );
}

/// The stand-in is as strict as NixOS where the catalog meets it: each case is a module that
/// NixOS accepts (`ok`) or refuses (the message it must fail with). First among them the shape
/// that broke every NixOS configuration importing the catalog: `services.postgresql = null`
/// under a false `mkIf`.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
#[allow(clippy::too_many_lines)] // one case per line, in one table
fn strict_stand_in_refuses_what_nixos_refuses() {
    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "old catalog shape: services.postgresql = null under mkIf false",
            Some("services.postgresql"),
            "{ lib, ... }: { config = lib.mkMerge [ { } (lib.mkIf false { services.postgresql = null; }) ]; }",
        ),
        (
            "services.postgresql = null",
            Some("services.postgresql"),
            "{ services.postgresql = null; }",
        ),
        (
            "services.postgresql as one string",
            Some("services.postgresql"),
            "{ services.postgresql = \"yes\"; }",
        ),
        (
            "removed ensurePermissions",
            Some("does not exist"),
            "{ services.postgresql = { enable = true; ensureUsers = [ { name = \"a\"; ensurePermissions = { }; } ]; }; }",
        ),
        (
            "ensureDBOwnership without the database",
            Some("ensureDBOwnership"),
            "{ services.postgresql = { enable = true; ensureDatabases = [ \"other\" ]; ensureUsers = [ { name = \"a\"; ensureDBOwnership = true; } ]; }; }",
        ),
        (
            "postgresql set up properly",
            None,
            "{ services.postgresql = { enable = true; ensureDatabases = [ \"a\" ]; ensureUsers = [ { name = \"a\"; ensureDBOwnership = true; } ]; }; }",
        ),
        (
            "postgresql.port renamed to settings.port",
            None,
            "{ services.postgresql.port = 5433; }",
        ),
        (
            "user without a group",
            Some("group is unset"),
            "{ users.users.a.isSystemUser = true; }",
        ),
        (
            "user with an undeclared group",
            Some("primary group that is undefined"),
            "{ users.users.a = { isSystemUser = true; group = \"a\"; }; }",
        ),
        (
            "user neither system nor normal",
            Some("Exactly one of"),
            "{ users.users.a.group = \"a\"; users.groups.a = { }; }",
        ),
        (
            "system user",
            None,
            "{ users.users.a = { isSystemUser = true; group = \"a\"; }; users.groups.a = { }; }",
        ),
        (
            "unit name without a suffix",
            Some("is not of type"),
            "{ systemd.services.x.after = [ \"network-online\" ]; }",
        ),
        (
            "Restart= not a systemd value",
            Some("Restart"),
            "{ systemd.services.x.serviceConfig.Restart = \"sometimes\"; }",
        ),
        (
            "environment value an int",
            Some("is not of type"),
            "{ systemd.services.x.environment.A = 1; }",
        ),
        (
            "multi-line description",
            Some("is not of type"),
            "{ systemd.services.x.description = \"a\\nb\"; }",
        ),
        (
            "a set as a unit value",
            Some("cannot coerce"),
            "{ systemd.services.x.serviceConfig.User = { name = \"a\"; }; }",
        ),
        (
            "two different User=",
            Some("conflicting definition"),
            "{ imports = [ { systemd.services.x.serviceConfig.User = \"a\"; } { systemd.services.x.serviceConfig.User = \"b\"; } ]; }",
        ),
        (
            "list and string merge as lists",
            None,
            "{ imports = [ { systemd.services.x.serviceConfig.ReadWritePaths = [ \"/a\" ]; } { systemd.services.x.serviceConfig.ReadWritePaths = \"/b\"; } ]; }",
        ),
        (
            "script and ExecStart both",
            Some("conflicting definition"),
            "{ systemd.services.x = { script = \"true\"; serviceConfig.ExecStart = \"/bin/true\"; }; }",
        ),
        (
            "PATH set by hand",
            Some("conflicting definition"),
            "{ systemd.services.x.environment.PATH = \"/bin\"; }",
        ),
        (
            "firewall port out of range",
            Some("is not of type"),
            "{ networking.firewall.allowedTCPPorts = [ 70000 ]; }",
        ),
        (
            "firewall port as a string",
            Some("is not of type"),
            "{ networking.firewall.allowedTCPPorts = [ \"80\" ]; }",
        ),
        (
            "tmpfiles rules as one string",
            Some("is not of type"),
            "{ systemd.tmpfiles.rules = \"d /x\"; }",
        ),
        (
            "/etc file as a string",
            Some("is not of type"),
            "{ environment.etc.x = \"abc\"; }",
        ),
        (
            "failed assertion",
            Some("Failed assertions"),
            "{ assertions = [ { assertion = false; message = \"boom\"; } ]; }",
        ),
        (
            "option NixOS does not have",
            Some("does not exist"),
            "{ services.nosuchservice.enable = true; }",
        ),
        (
            "memory size zero",
            Some("is not of type"),
            "{ virtualisation.memorySize = 0; }",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, expect, module) in cases {
        let out = eval_standin(&lib, None, &format!("(e.machine [ ({module}) ]).toplevel"));
        let err = String::from_utf8_lossy(&out.stderr);
        let right = match expect {
            None => out.status.success(),
            Some(pattern) => !out.status.success() && err.contains(pattern),
        };
        if !right {
            wrong.push(format!(
                "{name}: expected {expect:?}, got {}:\n{err}",
                out.status
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    println!("{} cases behave as NixOS does", cases.len());
}

/// What each defect of the catalog on real NixOS got wrong, read back from the packages, checks
/// and modules (tests/fixtures/nix/catalog-facts.nix) evaluated with the strict stand-in.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
#[allow(clippy::too_many_lines)] // one assertion per catalog fact, in one list
fn catalog_facts_on_nixos() {
    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let facts = common::repo_root().join("tests/fixtures/nix/catalog-facts.nix");
    let out = Command::new("nix-instantiate")
        .env("NIX_CONFIG", common::NIX_CONFIG)
        .args(["--eval", "--strict", "--json", "-E"])
        .arg(format!(
            "import {} {{ lib = import {lib}; catalog = {}; }}",
            facts.display(),
            catalog_dir().display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f: Value = serde_json::from_slice(&out.stdout).unwrap();
    let has = |v: &Value, s: &str| v.as_str().is_some_and(|t| t.contains(s));
    let list_has = |v: &Value, s: &str| v.as_array().unwrap().iter().any(|x| x == s);

    // Toolchains from [build], not hard-coded.
    let t = &f["toolchains"];
    assert_eq!(t["lexCli"]["pnpm"], "pnpm_11");
    assert!(
        list_has(&t["lexCli"]["nativeBuildInputs"], "nodejs_22"),
        "{t}"
    );
    assert_eq!(t["blueskyPds"]["pnpm"], "pnpm_9");
    assert!(
        list_has(&t["blueskyPds"]["nativeBuildInputs"], "nodejs_20"),
        "{t}"
    );
    for go in ["cocoon", "goat", "jetstream", "indigo"] {
        assert_eq!(t["goBuilders"][go], "buildGo126Module", "{go}");
    }
    assert_eq!(
        t["goBuilders"]["konbini"], "buildGoModule",
        "no `go`: nixpkgs' default"
    );
    // lex-cli: the whole lockfile installed, lex-cli built with its workspace dependencies.
    assert_eq!(t["lexCli"]["filtersInstall"], false);
    assert!(
        has(
            &t["lexCli"]["buildPhase"],
            "--filter @atproto/lex-cli... run"
        ),
        "{t}"
    );

    // Builds that would not work, fixed in package.nix.
    let p = &f["packages"];
    for needle in ["better-sqlite3@*", "build-release", "--nodedir="] {
        assert!(
            has(&p["blueskyPds"]["postBuild"], needle),
            "bluesky-pds postBuild lacks {needle}"
        );
    }
    for needle in [
        "--enable-source-maps",
        "NODE_ENV production",
        "UV_USE_IO_URING 0",
        "listen-host.cjs",
    ] {
        assert!(
            has(&p["blueskyPds"]["postInstall"], needle),
            "bluesky-pds wrapper lacks {needle}"
        );
    }
    assert_eq!(
        p["leaflet"]["dontNpmBuild"], true,
        "leaflet has no build script"
    );
    assert!(has(&p["leaflet"]["buildPhase"], "npm run build-appview"));
    assert!(has(&p["leaflet"]["installPhase"], "appview/dist/index.js"));
    assert_eq!(p["leaflet"]["nodejs"], "nodejs_22");
    assert!(
        has(&p["konbiniFrontend"]["installPhase"], "cp -a build/."),
        "{p}"
    );
    assert!(has(&p["tangledKnot"]["buildCommand"], "--prefix PATH"));
    assert!(has(&p["tangledKnot"]["buildCommand"], "git"));
    assert!(has(&p["tealCadet"]["postPatch"], "CADET_METRICS_LISTEN"));
    assert!(
        !has(&p["tealCadet"]["shared"], "CADET_METRICS_LISTEN"),
        "teal-aqua keeps the shared build"
    );

    // meta nixpkgs would accept: lib.licenses entries, no invented maintainer.
    for (name, m) in f["meta"].as_object().unwrap() {
        assert_eq!(m["maintainers"], serde_json::json!([]), "{name}");
        assert!(!m["licenses"].as_array().unwrap().is_empty(), "{name}");
        assert!(m["platforms"].as_u64().unwrap() > 0, "{name}");
    }
    assert_eq!(
        f["meta"]["bluesky-pds"]["licenses"],
        serde_json::json!(["MIT", "Apache-2.0"])
    );
    assert_eq!(f["meta"]["bluesky-pds"]["mainProgram"], "pds");

    // Smoke checks that can pass: from [check], or the package's test.nix.
    let s = &f["smoke"];
    assert!(has(&s["rsky-relay-smoke"], "bin/rsky-relay --help"), "{s}");
    assert!(has(&s["bluesky-pds-smoke"], "better-sqlite3"), "{s}");
    assert!(has(&s["rsky-pds-smoke"], "/xrpc/_health"), "{s}");
    assert!(has(&s["tangled-spindle-smoke"], "hostname"), "{s}");
    assert!(has(&s["teal-cadet-smoke"], "DATABASE_URL"), "{s}");
    assert!(has(&s["constellation-smoke"], "--version"), "{s}");

    // VM tests fed examples and key files made by the package's own tools.
    let vm = &f["vm"];
    assert!(
        has(
            &vm["cocoonKeys"],
            "bin/cocoon create-rotation-key --out /var/lib/atproto-test/cocoon/rotation_key"
        ),
        "{vm}"
    );
    assert!(
        has(
            &vm["cocoonKeys"],
            "create-private-jwk --out /var/lib/atproto-test/cocoon/jwk"
        ),
        "{vm}"
    );
    assert_eq!(
        vm["cocoonSecrets"]["jwk"],
        "/var/lib/atproto-test/cocoon/jwk"
    );
    assert_eq!(
        vm["konbiniSettings"]["database_url"],
        "postgres:///atproto-konbini?host=/run/postgresql"
    );
    for (test, redis) in vm["redis"].as_object().unwrap() {
        let wanted = ["indigo-bluepages", "teal-aqua", "teal-cadet"]
            .iter()
            .any(|p| test.starts_with(&format!("{p}-")));
        assert_eq!(
            redis,
            &Value::Bool(wanted),
            "{test}: a local Redis exactly for packages depending on redis"
        );
    }
    assert_eq!(vm["allegedly"]["mode"], "wrap");
    assert_eq!(vm["allegedly"]["plc"], true);
    for step in [
        "com.atproto.server.createAccount",
        "/admin/pds/requestCrawl",
        "com.atproto.repo.createRecord",
        "getLatestCommit",
        "/links/count",
    ] {
        assert!(has(&vm["ecosystem"], step), "ecosystem script lacks {step}");
    }

    // Modules: public ports only, ordering after postgresql.target, knot's git user and sshd.
    let m = &f["modules"];
    assert_eq!(
        m["firewall"]["constellation"],
        serde_json::json!([6789]),
        "no metrics port"
    );
    assert_eq!(
        m["firewall"]["konbini"],
        serde_json::json!([4444, 4446]),
        "no pprof port"
    );
    assert!(
        list_has(&m["tealCadet"]["after"], "postgresql.target"),
        "{m}"
    );
    assert!(
        list_has(&m["tealCadet"]["requires"], "postgresql.target"),
        "{m}"
    );
    assert_eq!(
        m["tealCadet"]["postgresql"]["ensureDatabases"],
        serde_json::json!(["atproto-teal-cadet"])
    );
    assert_eq!(
        m["tealCadet"]["ensureUsers"],
        serde_json::json!([{"name": "atproto-teal-cadet", "ensureDBOwnership": true}])
    );
    assert!(has(
        &m["blueskyPdsUnit"],
        "Environment=\"ATWB_LISTEN_HOST=127.0.0.1\""
    ));
    assert!(has(&m["blueskyPdsUnit"], "Environment=\"PDS_PORT=2583\""));
    assert_eq!(m["knot"]["user"], "git");
    assert_eq!(m["knot"]["sshd"], true);
    assert!(has(
        &m["knot"]["sshConfig"],
        "AuthorizedKeysCommand /etc/ssh/atproto-tangled-knot-keys"
    ));
    assert!(has(&m["knot"]["keys"], "knot keys -output authorized-keys"));
    assert!(list_has(&m["knot"]["packages"], "git"));
}

/// A fixture catalog with one service for the module tests below.
fn module_fixture(extra_service: &str, options: &str) -> tempfile::TempDir {
    temp_catalog(&[(
        "alpha",
        "plain",
        package_toml(
            "plain",
            1,
            "rust-package",
            "",
            &format!(
                "\n[services.plain]\nexec = [\"plain\", \"--listen\", \"{{listen_address}}:{{port:http}}\"]\n\
                 ports = {{ http = 8080, metrics = 8081 }}\ndatabase = \"postgresql\"\n{extra_service}\n{options}"
            ),
        ),
    )])
}

/// A value that looks like a credential must not become a setting (the unit is in the
/// world-readable store): each shape fails naming the option and what to use instead.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
fn credentials_in_settings_fail_naming_the_secret_option() {
    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let option = |name: &str, ty: &str, env: &str| {
        let default = if ty == "list" { "[]" } else { "\"\"" };
        format!(
            "\n[services.plain.options.{name}]\ntype = \"{ty}\"\ndefault = {default}\nenv = \"{env}\"\n"
        )
    };
    let options = [
        option("db_url", "str", "DATABASE_URL"),
        option("relays", "list", "RELAYS"),
        option("app_secret", "str", "APP_SECRET"),
        option("app_password", "str", "APP_PASSWORD"),
        option("app_key", "str", "APP_KEY"),
        option("app_token", "str", "APP_TOKEN"),
        "\n[services.plain.options.token]\ntype = \"secret-file\"\nenv = \"TOKEN\"\n".to_string(),
    ]
    .concat();
    let dir = module_fixture("", &options);
    let machine = |cfg: &str| {
        format!(
            "(e.machine [ {{ services.atproto.plain = {{ enable = true; secrets.token = \"/run/t\"; {cfg} }}; }} ]).toplevel"
        )
    };
    let refused = [
        (
            "settings.db_url = \"postgres://u:pw@db.example/app\";",
            "services.atproto.plain.settings.db_url is a URL with a password",
        ),
        (
            "settings.relays = [ \"https://a.example\" \"https://user:pw@b.example\" ];",
            "settings.relays is a URL with a password",
        ),
        (
            "settings.app_secret = \"s3cret\";",
            "settings.app_secret sets APP_SECRET, a credential",
        ),
        (
            "settings.app_password = \"hunter2\";",
            "settings.app_password sets APP_PASSWORD",
        ),
        (
            "settings.app_key = \"abc\";",
            "settings.app_key sets APP_KEY",
        ),
        (
            "settings.app_token = \"abc\";",
            "settings.app_token sets APP_TOKEN",
        ),
        (
            "environment.OTHER_SECRET = \"x\";",
            "services.atproto.plain.environment.OTHER_SECRET looks like a credential",
        ),
        (
            "environment.UPSTREAM = \"http://u:p@h.example\";",
            "environment.UPSTREAM looks like a credential",
        ),
        (
            "database.url = \"postgres://u:pw@h/db\";",
            "database.url contains a password",
        ),
    ];
    for (cfg, message) in refused {
        let err = eval_standin_err(&lib, Some(dir.path()), &machine(cfg));
        assert!(
            err.contains(message),
            "{cfg}: expected {message:?} in:\n{err}"
        );
        if message.contains("settings.") {
            assert!(
                err.contains("services.atproto.plain.secrets.*: token"),
                "{cfg}: names the secret option:\n{err}"
            );
            assert!(err.contains("database.passwordFile"), "{cfg}: {err}");
        }
    }
    for cfg in [
        "settings.db_url = \"postgres:///app?host=/run/postgresql\";",
        "settings.relays = [ \"https://user@relay.example\" ];",
        "settings.app_secret = \"\";",
    ] {
        let out = eval_standin(&lib, Some(dir.path()), &machine(cfg));
        assert!(
            out.status.success(),
            "{cfg} must pass:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// ExecStart= arguments escaped as utils.escapeSystemdExecArg does, `%` doubled in
/// Environment=, and `{option:NAME}` in exec expanding the option's own placeholders. Checked
/// on offline.nix's unit (what `atwb unit` prints; the module writes the same, compared above).
#[test]
fn exec_and_environment_are_escaped_for_systemd() {
    if !common::require_tool("nix") {
        return;
    }
    let dir = temp_catalog(&[(
        "alpha",
        "plain",
        package_toml(
            "plain",
            1,
            "rust-package",
            "",
            r#"
[services.plain]
exec = ["plain", "--greeting", "{option:greeting}", "--sub", "{option:sub}", "--quote", "{option:quote}", "--percent", "100%"]
ports = { http = 8080 }

[services.plain.options.greeting]
type = "str"
default = "hello $HOME 50%"
env = "GREETING"

[services.plain.options.sub]
type = "str"
default = "{data_dir}/sub"

[services.plain.options.quote]
type = "str"
default = "a\"b\nc"
env = "QUOTE"
"#,
        ),
    )]);
    let out = eval_offline(dir.path(), "units.plain");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unit: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exec = unit["execStart"].as_str().unwrap();
    let args = exec.split_once("/bin/plain ").unwrap().1;
    assert_eq!(
        args,
        r#"--greeting "hello $$HOME 50%%" --sub /var/lib/atproto/plain/sub --quote "a\"b\nc" --percent "100%%""#
    );
    assert_eq!(unit["environment"]["GREETING"], "hello $HOME 50%%");
    assert_eq!(unit["environment"]["QUOTE"], "a\"b\nc");
}

/// Ports and listeners in data: a fixed listener refuses placeholders and changed values,
/// `public_ports` never names a metrics port, and toolchains are checked against the table.
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
fn listener_and_toolchain_data_are_checked() {
    if !common::require_tool("nix") {
        return;
    }
    let fails = |extra_service: &str, extra_build: &str, attr: &str, message: &str| {
        let text = package_toml(
            "plain",
            1,
            "rust-package",
            extra_build,
            &format!(
                "\n[services.plain]\nexec = [\"plain\", \"--listen\", \"{{listen_address}}:{{port:http}}\"]\nports = {{ http = 8080, metrics = 8081 }}\n{extra_service}\n"
            ),
        );
        let dir = temp_catalog(&[("alpha", "plain", text)]);
        let out = eval_offline(dir.path(), attr);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success() && err.contains(message),
            "expected {message:?}:\n{err}"
        );
    };
    fails(
        "fixed_listener = true",
        "",
        "units",
        "fixed_listener`: is true (upstream hard-codes its listener), so no value may use {listen_address}",
    );
    fails(
        "public_ports = [\"metrics\"]",
        "",
        "index",
        "\"metrics\" must never be opened in the firewall",
    );
    fails(
        "public_ports = [\"api\"]",
        "",
        "index",
        "\"api\" is not a port of this service",
    );
    fails(
        "",
        "rust = \"1.79\"",
        "index",
        "field `build.rust`: \"1.79\" is not a version nixpkgs has",
    );
    fails(
        "",
        "go = \"1.26\"",
        "index",
        "field `build.go`: is a toolchain for go-module builders, not rust-package",
    );
    fails(
        "",
        "pnpm = \"10\"",
        "index",
        "field `build.pnpm`: is a toolchain for pnpm-workspace builders",
    );

    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let konbini = |cfg: &str| {
        format!(
            "(e.machine [ {{ services.atproto.konbini = {{ enable = true; settings = {{ database_url = \"postgres:///atproto-konbini?host=/run/postgresql\"; handle = \"a.example.com\"; }}; {cfg} }}; }} ]).toplevel"
        )
    };
    for (cfg, message) in [
        (
            "ports.http = 5000;",
            "services.atproto.konbini.ports.http cannot be changed from 4444",
        ),
        (
            "listenAddress = \"0.0.0.0\";",
            "services.atproto.konbini.listenAddress cannot be changed",
        ),
        (
            "database.name = \"konbini\";",
            "database.name (konbini) must equal services.atproto.konbini.database.user",
        ),
    ] {
        let err = eval_standin_err(&lib, None, &konbini(cfg));
        assert!(err.contains(message), "{cfg}: {err}");
    }
    // A rust minimum newer than the nixpkgs in use stops the package with the field named.
    let dir = temp_catalog(&[(
        "alpha",
        "plain",
        package_toml("plain", 1, "rust-package", "rust = \"1.95\"", ""),
    )]);
    let err = eval_standin_err(
        &lib,
        Some(dir.path()),
        &format!(
            "(import {}/default.nix {{ pkgs = e.pkgs; }}).plain.drvPath",
            dir.path().display()
        ),
    );
    assert!(
        err.contains("field `build.rust`: needs rustc >= 1.95; this nixpkgs has 1.91.0"),
        "{err}"
    );
}

/// The flake's allowUnfreePredicate: packages whose only unfree license is NOASSERTION, nothing
/// else (before, a package needed *every* license to be NOASSERTION, and any package without a
/// license passed).
#[test]
#[ignore = "needs ATWB_NIXPKGS_LIB (a nixpkgs.lib clone's lib/); run with --include-ignored"]
fn unfree_predicate_allows_only_noassertion() {
    let Some(lib) = nixpkgs_lib() else {
        return;
    };
    let licenses = catalog_dir().join("lib/licenses.nix");
    let expr = format!(
        "let lib = import {lib}; l = import {} {{ inherit lib; }}; ok = ls: l.onlyNoAssertionUnfree {{ meta.license = ls; }}; in \
         [ (ok [ l.noAssertion ]) (ok [ lib.licenses.mit l.noAssertion ]) (ok [ lib.licenses.unfree ]) \
           (ok [ l.noAssertion lib.licenses.unfree ]) (ok [ ]) (ok l.noAssertion) ]",
        licenses.display()
    );
    let v: Value = serde_json::from_str(&run_ok(
        Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "-E"])
            .arg(expr),
    ))
    .unwrap();
    assert_eq!(
        v,
        serde_json::json!([true, true, false, false, false, true])
    );
}
