//! Ports as a catalog-wide fact: `public_ports` (what `openFirewall` opens), `fixed_listener`
//! (upstream hard-codes its listener, so nothing may pretend to move it), and default ports that
//! no two services of the catalog share, so that every service can run on one host.

use std::collections::BTreeMap;
use std::path::Path;

use super::doc::{Doc, Table};
use super::rules::{Placeholder, Problem};
use crate::catalog::diagnostic::Diagnostic;
use crate::catalog::model::Package;
use crate::catalog::position::line_column;
use crate::search::did_you_mean;

/// Port names that are for operators, never for the world.
pub const PRIVATE_PORTS: [&str; 3] = ["metrics", "pprof", "debug"];

/// `public_ports`; absent means `["http"]` when the service has an `http` port, else none.
/// `ports` is None when the service's ports were invalid (then names are not checked).
pub(super) fn read_public_ports(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    ports: Option<&BTreeMap<String, u16>>,
) -> Option<Vec<String>> {
    let Some(v) = t.get("public_ports") else {
        let http = ports.is_some_and(|p| p.contains_key("http"));
        return Some(if http {
            vec!["http".into()]
        } else {
            Vec::new()
        });
    };
    let field = t.field("public_ports");
    let names = doc.as_str_list(v, &field)?;
    let items: Vec<_> = v.as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let mut ok = true;
    for (i, (name, item)) in names.iter().zip(items).enumerate() {
        let problem = if PRIVATE_PORTS.contains(&name.as_str()) {
            Some(Problem::new(
                format!("`{name}` is not a public port: openFirewall would open it to the world"),
                format!("remove `{name}`; reach it over a private network or an SSH tunnel"),
            ))
        } else if names[..i].contains(name) {
            Some(Problem::new(
                format!("`{name}` is listed twice"),
                "list each public port once",
            ))
        } else {
            ports
                .filter(|p| !p.contains_key(name))
                .map(|p| unknown_port(name, p))
        };
        if let Some(p) = problem {
            doc.problem(item.span().range(), field.as_str(), p);
            ok = false;
        }
    }
    ok.then_some(names)
}

fn unknown_port(name: &str, ports: &BTreeMap<String, u16>) -> Problem {
    let names: Vec<&str> = ports.keys().map(String::as_str).collect();
    let hint = match did_you_mean(name, names.iter().copied()) {
        Some(m) => format!("did you mean `{m}`?"),
        None if names.is_empty() => "this service declares no ports; add them under `ports`".into(),
        None => format!("the service's ports are: {}", names.join(", ")),
    };
    Problem {
        message: format!("`{name}` names no port of this service"),
        hint,
    }
}

/// A placeholder a `fixed_listener` service may not use: the module cannot move the listener.
pub(super) fn fixed_listener_problem(ph: &Placeholder<'_>) -> Option<Problem> {
    let what = match ph {
        Placeholder::ListenAddress => "{listen_address}".to_string(),
        Placeholder::Port(n) => format!("{{port:{n}}}"),
        _ => return None,
    };
    Some(Problem::new(
        format!(
            "`{what}` in a fixed_listener service: upstream hard-codes its listener, so the module cannot move it"
        ),
        "write upstream's fixed value instead, or set fixed_listener = false if upstream does read it",
    ))
}

/// One default port of one valid package's service.
struct Site<'a> {
    index: usize,
    file: &'a Path,
    service: &'a str,
    port: &'a str,
    number: u16,
}

impl Site<'_> {
    fn field(&self) -> String {
        format!("services.{}.ports.{}", self.service, self.port)
    }
}

/// Every pair of valid packages whose services share a default port number: one diagnostic per
/// site, each naming the other sites by file:line:col and suggesting a distinct free port (the
/// next numbers no service of the catalog uses). `packages` are (caller's index, file, package);
/// the result pairs each diagnostic with the index of the package it belongs to.
pub fn catalog_port_clashes<'a>(
    packages: impl IntoIterator<Item = (usize, &'a Path, &'a Package)>,
    root: &Path,
) -> Vec<(usize, Diagnostic)> {
    let mut sites: Vec<Site<'a>> = Vec::new();
    for (index, file, p) in packages {
        for (service, svc) in &p.services {
            for (port, &number) in &svc.ports {
                sites.push(Site {
                    index,
                    file,
                    service,
                    port,
                    number,
                });
            }
        }
    }
    let mut used = vec![false; 1 << 16];
    for s in &sites {
        used[usize::from(s.number)] = true;
    }
    sites.sort_by(|a, b| {
        (a.number, a.file, a.service, a.port).cmp(&(b.number, b.file, b.service, b.port))
    });
    let mut out = Vec::new();
    for group in sites.chunk_by(|a, b| a.number == b.number) {
        // Two names of one service on one number are reported by the file's own check.
        if group.len() < 2 || group.iter().all(|s| s.index == group[0].index) {
            continue;
        }
        let located: Vec<(String, usize, usize)> = group.iter().map(|s| locate(s, root)).collect();
        for (k, site) in group.iter().enumerate() {
            let free = next_free(&mut used, site.number);
            let others: Vec<String> = group
                .iter()
                .zip(&located)
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, (o, (file, line, col)))| format!("{} ({file}:{line}:{col})", o.field()))
                .collect();
            let hint = if k == 0 {
                format!(
                    "ports are catalog-wide (every service can run on one host): keep {} here and move the \
                     other(s), or move this one to {free}, a port no catalog service uses",
                    site.number
                )
            } else {
                format!(
                    "ports are catalog-wide (every service can run on one host): move this one to {free}, a \
                     port no catalog service uses"
                )
            };
            let (_, line, column) = &located[k];
            out.push((
                site.index,
                Diagnostic {
                    file: site.file.to_path_buf(),
                    line: *line,
                    column: *column,
                    field: site.field(),
                    message: format!(
                        "default port {} is also used by {}",
                        site.number,
                        others.join(", ")
                    ),
                    hint: Some(hint),
                },
            ));
        }
    }
    out
}

/// The next port above `from` that nothing uses, marked used so each suggestion is distinct.
fn next_free(used: &mut [bool], from: u16) -> u16 {
    let start = usize::from(from) + 1;
    let found = (start..used.len())
        .chain(1024..start)
        .find(|&n| !used[n])
        .unwrap_or(usize::from(from));
    used[found] = true;
    u16::try_from(found).unwrap_or(from)
}

/// The site's file relative to the catalog root, and the line:col of its number. The file is
/// read again: clashes are rare, and the parse tree of the first pass is gone.
fn locate(s: &Site<'_>, root: &Path) -> (String, usize, usize) {
    let shown = s
        .file
        .strip_prefix(root)
        .unwrap_or(s.file)
        .display()
        .to_string();
    let position = std::fs::read_to_string(s.file).ok().and_then(|text| {
        let arena = toml_spanner::Arena::new();
        let doc = toml_spanner::parse(&text, &arena).ok()?;
        let ports = doc
            .table()
            .get("services")?
            .as_table()?
            .get(s.service)?
            .as_table()?
            .get("ports")?
            .as_table()?;
        let offset = ports.get(s.port)?.span().start as usize;
        Some(line_column(&text, offset))
    });
    let (line, column) = position.unwrap_or((1, 1));
    (shown, line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_skip_used_ones() {
        let mut used = vec![false; 1 << 16];
        for n in [8080, 8081, 8083] {
            used[n] = true;
        }
        assert_eq!(next_free(&mut used, 8080), 8082);
        assert_eq!(next_free(&mut used, 8080), 8084);
        used[65535] = true;
        assert_eq!(
            next_free(&mut used, 65535),
            1024,
            "wraps to the first unprivileged port"
        );
    }
}
