//! `atwb show NAME [--json]`: everything about one package.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::{Mode, find_package, load_catalog, shown_path, with_stdout};
use super::status;
use crate::catalog::{
    AtprotoMeta, Build, DepsHash, OptionType, Package, Service, Smoke, SmokeCheck, Source,
};

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

/// `atwb show NAME`: everything about one package.
pub fn run(args: &ShowArgs, root: &Path) -> Result<ExitCode> {
    let (name, json) = (args.name.as_str(), args.json);
    let loaded = load_catalog(root)?;
    let Some(p) = find_package(loaded, name)? else {
        return Ok(ExitCode::from(1));
    };
    let store = status::open_store(root);
    let last_build = status::last_build(store.as_ref(), name);
    with_stdout(Mode::of(json), |out| {
        if json {
            let shown = Shown {
                package: p,
                last_build: last_build.as_ref().map(status::RunJson::from),
                cache: crate::jobs::store::CacheStatus::json(
                    store.as_ref().and_then(|s| s.cache_status(name)).as_ref(),
                ),
                cache_failure: store.as_ref().and_then(|s| s.cache_failure(name)),
            };
            serde_json::to_writer_pretty(&mut *out, &shown)?;
            return writeln!(out);
        }
        write_package(out, p)?;
        status::write_last_build(out, last_build.as_ref())?;
        let cache = store.as_ref().and_then(|s| s.cache_status(name));
        let failure = store.as_ref().and_then(|s| s.cache_failure(name));
        let text = match (cache.as_ref().and_then(|c| c.state.as_ref()), failure) {
            (Some(state), _) => state.describe(),
            (None, Some(f)) => format!(
                "unknown; the last ask could not evaluate it: {} (`atwb cache {name}` asks again)",
                failure_line(&f.error)
            ),
            (None, None) => "unknown (`atwb cache NAME` asks)".into(),
        };
        writeln!(out, "  {:<14}{text}", "cache")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `show --json`: the package's fields, and its newest recorded build.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    package: &'a Package,
    last_build: Option<status::RunJson<'a>>,
    /// The binary-cache state of its newest evaluation while current (`atwb cache` asks).
    cache: serde_json::Value,
    /// The last cache check that could not evaluate it, while its files are as they were then.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_failure: Option<crate::jobs::store::CacheFailure>,
}

/// The line of nix's message that says what failed (a bare `error:` heading is skipped).
fn failure_line(error: &str) -> &str {
    error
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && *l != "error:")
        .unwrap_or(error)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `  key           value`: one field of a section.
fn field(out: &mut dyn Write, k: &str, v: &str) -> io::Result<()> {
    writeln!(out, "  {k:<14}{v}")
}

fn write_package(out: &mut dyn Write, p: &Package) -> io::Result<()> {
    write_about(out, p)?;
    write_source(out, &p.source)?;
    write_build(out, &p.build)?;
    write_check(out, &p.check)?;
    write_atproto(out, &p.atproto)?;
    for svc in p.services.values() {
        write_service(out, svc)?;
    }
    Ok(())
}

/// Name, description, org and tier, then the package's own fields and files.
fn write_about(out: &mut dyn Write, p: &Package) -> io::Result<()> {
    let tier = p.tier;
    writeln!(out, "{} {}", p.name, p.version)?;
    writeln!(out, "{}", p.description)?;
    writeln!(
        out,
        "org {} · tier {} ({}) · {}",
        p.org,
        tier,
        tier.label(),
        p.category.as_str()
    )?;
    if !p.long_description.trim().is_empty() {
        writeln!(out)?;
        for l in p.long_description.trim().lines() {
            writeln!(out, "  {l}")?;
        }
    }
    writeln!(out)?;
    field(out, "homepage", &p.homepage)?;
    field(out, "license", &p.license.join(", "))?;
    if !p.maintainers.is_empty() {
        field(out, "maintainers", &p.maintainers.join(", "))?;
    }
    if !p.platforms.is_empty() {
        field(out, "platforms", &p.platforms.join(", "))?;
    }
    if let Some(m) = &p.main_program {
        field(out, "main program", m)?;
    }
    let x = &p.extra_files;
    let files: Vec<&str> = [
        ("package.toml", true),
        ("package.nix", x.package_nix),
        ("module.nix", x.module_nix),
        ("test.nix", x.test_nix),
    ]
    .into_iter()
    .filter_map(|(f, present)| present.then_some(f))
    .collect();
    field(
        out,
        "files",
        &format!("{}/ ({})", shown_path(&p.dir), files.join(", ")),
    )
}

fn write_source(out: &mut dyn Write, s: &Source) -> io::Result<()> {
    writeln!(out, "\nsource")?;
    field(out, "from", &s.short())?;
    if let Some(url) = s.git_url() {
        field(out, "git url", &url)?;
    }
    field(out, "rev", &s.rev)?;
    field(out, "hash", &s.hash)?;
    field(out, "submodules", yes_no(s.submodules))?;
    let verified = if s.verified {
        "yes (computed here from upstream content)"
    } else {
        "no (copied; see provenance)"
    };
    field(out, "verified", verified)?;
    field(out, "provenance", &s.provenance)
}

fn write_build(out: &mut dyn Write, b: &Build) -> io::Result<()> {
    writeln!(out, "\nbuild")?;
    field(
        out,
        "builder",
        &format!("{} ({})", b.builder.as_str(), b.language),
    )?;
    if let Some(w) = &b.workspace {
        field(out, "workspace", w)?;
    }
    for (k, v) in [
        ("members", &b.members),
        ("sub packages", &b.sub_packages),
        ("workspaces", &b.workspaces),
    ] {
        if !v.is_empty() {
            field(out, k, &v.join(", "))?;
        }
    }
    if let Some(r) = &b.source_root {
        field(out, "source root", r)?;
    }
    let deps = match &b.deps_hash {
        DepsHash::Known(h) => format!("{h} ({})", b.builder.deps_hash_nix_name()),
        DepsHash::Unknown => {
            format!(
                "unknown ({} is lib.fakeHash until a build reports it)",
                b.builder.deps_hash_nix_name()
            )
        }
    };
    field(out, "deps hash", &deps)?;
    for t in b.toolchains.summary() {
        field(out, "toolchain", &t)?;
    }
    for (k, v) in [
        ("build inputs", &b.build_inputs),
        ("native inputs", &b.native_build_inputs),
    ] {
        if !v.is_empty() {
            field(out, k, &v.join(", "))?;
        }
    }
    for (k, v) in &b.env {
        field(out, "env", &format!("{k}={v}"))?;
    }
    Ok(())
}

/// `[check]`, only when it says more than the default smoke check.
fn write_check(out: &mut dyn Write, c: &SmokeCheck) -> io::Result<()> {
    if *c == SmokeCheck::default() {
        return Ok(());
    }
    writeln!(out, "\ncheck")?;
    let smoke = match &c.smoke {
        Smoke::Default => "main program --version (default)".to_string(),
        Smoke::Command(argv) => argv.join(" "),
        Smoke::TestNix => "custom (test.nix)".to_string(),
    };
    field(out, "smoke", &smoke)?;
    for (k, v) in &c.smoke_env {
        field(out, "smoke env", &format!("{k}={v}"))?;
    }
    if let Some(e) = &c.smoke_expect {
        field(out, "expect", &format!("{e:?}"))?;
    }
    Ok(())
}

fn write_atproto(out: &mut dyn Write, a: &AtprotoMeta) -> io::Result<()> {
    if a.services.is_empty() && a.protocols.is_empty() && a.dependencies.is_empty() {
        return Ok(());
    }
    writeln!(out, "\natproto")?;
    for (k, v) in [
        ("roles", &a.services),
        ("protocols", &a.protocols),
        ("dependencies", &a.dependencies),
    ] {
        if !v.is_empty() {
            field(out, k, &v.join(", "))?;
        }
    }
    Ok(())
}

fn write_service(out: &mut dyn Write, svc: &Service) -> io::Result<()> {
    writeln!(
        out,
        "\nservice {} (services.atproto.{})",
        svc.name, svc.name
    )?;
    field(out, "exec", &svc.exec.join(" "))?;
    if !svc.ports.is_empty() {
        let ports: Vec<String> = svc.ports.iter().map(|(n, p)| format!("{n} {p}")).collect();
        field(out, "ports", &ports.join(", "))?;
        let public = if svc.public_ports.is_empty() {
            "none".to_string()
        } else {
            svc.public_ports.join(", ")
        };
        field(
            out,
            "public ports",
            &format!("{public} (opened by openFirewall)"),
        )?;
    }
    if svc.fixed_listener {
        field(
            out,
            "listener",
            "fixed upstream (listenAddress and ports cannot be changed)",
        )?;
    }
    field(out, "database", svc.database.as_str())?;
    if let Some(h) = &svc.health_path {
        field(out, "health path", h)?;
    }
    field(out, "jit runtime", yes_no(svc.jit))?;
    for (directive, e) in &svc.hardening_exceptions {
        field(
            out,
            "hardening",
            &format!("{directive} = {} ({})", e.value, e.reason),
        )?;
    }
    if svc.options.is_empty() {
        return Ok(());
    }
    writeln!(out, "  options")?;
    for o in &svc.options {
        let default = match &o.default {
            Some(v) => format!("default {v}"),
            None if o.ty == OptionType::SecretFile => "secret, no default".into(),
            None => "required".into(),
        };
        let env = o
            .env
            .as_deref()
            .map(|e| format!(", env {e}"))
            .unwrap_or_default();
        let values = if o.values.is_empty() {
            String::new()
        } else {
            format!(" [{}]", o.values.join(" | "))
        };
        let example = match (&o.example, o.example_generate.is_empty()) {
            (Some(v), _) => format!(", example {v}"),
            (None, false) => format!(", generated by `{}`", o.example_generate.join(" ")),
            (None, true) => String::new(),
        };
        writeln!(
            out,
            "    {} ({}{values}) {default}{env}{example}",
            o.name,
            o.ty.as_str()
        )?;
        writeln!(out, "      {}", o.description)?;
    }
    Ok(())
}
