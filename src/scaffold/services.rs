//! Findings -> proposed `[services.*]` data: which part each finding belongs to, the named ports,
//! and one typed option per environment variable (port, path, bool, int, str, or secret-file for
//! credential names, with no default so no secret lands in the store).

use super::evidence::{EnvVar, Evidence};
use super::proposal::{OptValue, OptionProposal, Part, ServiceProposal};
use super::repo::basename;
use crate::catalog::model::Builder;
use crate::catalog::validate::{credential_name, url_with_password};

/// Gives each part the findings that name it (compose service, folder, Dockerfile suffix); the
/// findings that name no part go to the only part, or to the first when there are several.
pub fn assign(parts: &mut [Part], evidence: &[Evidence]) {
    let mut per_part: Vec<Vec<&Evidence>> = vec![Vec::new(); parts.len()];
    for e in evidence {
        let hinted = e
            .hint
            .as_deref()
            .and_then(|h| parts.iter().position(|p| matches_part(p, h)));
        match (hinted, &e.hint) {
            (Some(i), _) => per_part[i].push(e),
            // A compose service or folder that is no part (a database, a proxy) is not ours.
            (None, Some(_)) if parts.len() > 1 => {}
            _ if !parts.is_empty() => per_part[0].push(e),
            _ => {}
        }
    }
    for (part, found) in parts.iter_mut().zip(per_part) {
        if !found.is_empty() && !part.programs.is_empty() || !found.is_empty() && is_runtime(part) {
            part.service = Some(propose(part, &found));
        }
    }
}

/// Deno and Node projects are services through their runtime even without a `bin`.
fn is_runtime(part: &Part) -> bool {
    matches!(part.builder, Builder::NpmPackage | Builder::PnpmWorkspace)
        && part.scripts.iter().any(|s| s == "start")
}

fn matches_part(p: &Part, hint: &str) -> bool {
    let hint = hint.to_lowercase();
    hint == p.name
        || p.programs.iter().any(|b| b.to_lowercase() == hint)
        || (!p.dir.is_empty() && basename(&p.dir).to_lowercase() == hint)
}

fn propose(part: &Part, found: &[&Evidence]) -> ServiceProposal {
    let mut s = ServiceProposal {
        name: part.name.clone(),
        exec: vec![
            part.main_program
                .clone()
                .unwrap_or_else(|| part.name.clone()),
        ],
        ports: Vec::new(),
        database: "none".into(),
        jit: matches!(
            part.builder,
            Builder::NpmPackage | Builder::PnpmWorkspace | Builder::DenoApp
        ),
        options: Vec::new(),
        found_in: Vec::new(),
    };
    let mut vars: Vec<&EnvVar> = Vec::new();
    for e in found {
        if !s.found_in.contains(&e.file) {
            s.found_in.push(e.file.clone());
        }
        for v in &e.env {
            match vars.iter().position(|x| x.name == v.name) {
                // A later file with a value fills in one without.
                Some(i) if vars[i].value.is_none() && v.value.is_some() => vars[i] = v,
                Some(_) => {}
                None => vars.push(v),
            }
        }
    }
    for e in found {
        for &p in &e.ports {
            add_port(&mut s, p, None);
        }
    }
    for v in vars {
        let o = option_for(&mut s, v);
        s.options.push(o);
    }
    s
}

/// The port's name in `ports`: `http` for the first, else from the variable (`METRICS_PORT` ->
/// `metrics`), else `port<N>`.
fn add_port(s: &mut ServiceProposal, number: u16, var: Option<&str>) -> String {
    if let Some((name, _)) = s.ports.iter().find(|(_, n)| *n == number) {
        return name.clone();
    }
    let from_var = var
        .and_then(|v| v.strip_suffix("_PORT"))
        .map(|p| basename(&p.replace('_', "/")).to_lowercase())
        .filter(|n| !n.is_empty() && !matches!(n.as_str(), "http" | "server" | "app" | "api"));
    let name = if s.ports.is_empty() && from_var.as_deref() != Some("metrics") {
        "http".to_string()
    } else {
        from_var.unwrap_or_else(|| format!("port{number}"))
    };
    let name = if s.ports.iter().any(|(n, _)| *n == name) {
        format!("port{number}")
    } else {
        name
    };
    s.ports.push((name.clone(), number));
    name
}

fn option_for(s: &mut ServiceProposal, v: &EnvVar) -> OptionProposal {
    let name = v.name.to_lowercase();
    let from = v
        .description
        .clone()
        .unwrap_or_else(|| format!("{} (from upstream's files)", v.name));
    let mut o = OptionProposal {
        name: name.clone(),
        ty: "str".into(),
        env: v.name.clone(),
        default: None,
        example: None,
        description: from,
    };
    let value = v.value.clone().unwrap_or_default();
    let upper = v.name.as_str();
    if credential_name(upper).is_some()
        || credential_name(upper.trim_end_matches("_FILE")).is_some()
    {
        o.ty = "secret-file".into();
        return o;
    }
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        s.database = "postgresql".into();
    } else if upper.contains("SQLITE") || value.ends_with(".sqlite") || value.ends_with(".db") {
        s.database = "sqlite".into();
    }
    if url_with_password(&value).is_some() {
        o.example = Some(OptValue::Str(
            "postgresql:///atproto?host=/run/postgresql".into(),
        ));
        return o;
    }
    let is_port_var = upper == "PORT" || upper.ends_with("_PORT");
    if let (true, Ok(n)) = (is_port_var, value.parse::<u16>()) {
        let port = add_port(s, n, Some(upper));
        o.default = Some(OptValue::Str(format!("{{port:{port}}}")));
        return o;
    }
    if is_port_var {
        o.ty = "port".into();
        o.example = Some(OptValue::Int(8080));
        return o;
    }
    if let Some(port) = listen_port(&value) {
        let port = add_port(s, port, None);
        o.default = Some(OptValue::Str(format!("{{listen_address}}:{{port:{port}}}")));
        return o;
    }
    if value == "true" || value == "false" {
        o.ty = "bool".into();
        o.default = Some(OptValue::Bool(value == "true"));
    } else if let Ok(n) = value.parse::<i64>() {
        o.ty = "int".into();
        o.default = Some(OptValue::Int(n));
    } else if is_path(upper, &value) {
        o.ty = "path".into();
        o.default = path_default(&value);
        if o.default.is_none() {
            o.example = Some(OptValue::Str(format!("/var/lib/{}/{name}", s.name)));
        }
    } else if !value.is_empty() {
        o.default = Some(OptValue::Str(value));
    } else {
        let url = name.split('_').any(|w| matches!(w, "url" | "urls" | "uri"));
        o.example = Some(OptValue::Str(if url {
            "https://example.com".into()
        } else {
            "example".into()
        }));
    }
    o
}

/// `0.0.0.0:3000`, `127.0.0.1:8080`, `:3000`, `localhost:2583`: a listen address, its port.
fn listen_port(value: &str) -> Option<u16> {
    let (host, port) = value.rsplit_once(':')?;
    let host_ok = host.is_empty()
        || host == "localhost"
        || host.split('.').count() == 4 && host.split('.').all(|p| p.parse::<u8>().is_ok());
    host_ok.then(|| port.parse().ok()).flatten()
}

fn is_path(name: &str, value: &str) -> bool {
    let by_name = ["_PATH", "_DIR", "_FILE", "_DIRECTORY"]
        .iter()
        .any(|s| name.ends_with(s));
    by_name || value.starts_with('/') || value.starts_with("./")
}

/// An absolute path stays; a relative one lands in the data directory (the service's working
/// directory, where upstream's relative default would land too).
fn path_default(value: &str) -> Option<OptValue> {
    if value.starts_with('/') {
        return Some(OptValue::Str(value.to_string()));
    }
    let rel = value.trim_start_matches("./");
    (!rel.is_empty() && !rel.contains("..")).then(|| OptValue::Str(format!("{{data_dir}}/{rel}")))
}
