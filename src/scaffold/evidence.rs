//! What upstream's deployment files say about running it: ports and environment variables from
//! `.env.example` files, `docker-compose*.yml` services, Dockerfiles (`EXPOSE`, `ENV`) and README
//! tables of variables. Each finding names the file it came from and, where the file says, the
//! service or folder it belongs to, so it can be given to the right part.

use super::repo::{CommitFiles, basename};

/// One environment variable as a file documents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

/// Findings of one file (or one compose service).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub file: String,
    /// The compose service, folder or Dockerfile suffix it belongs to; None: the repository.
    pub hint: Option<String>,
    pub ports: Vec<u16>,
    pub env: Vec<EnvVar>,
}

/// Everything found in the commit, in path order.
pub fn collect(files: &CommitFiles) -> Vec<Evidence> {
    let mut out = Vec::new();
    for path in files.find_files(3, &|n| is_env_example(n)) {
        let Some(text) = files.read(&path) else {
            continue;
        };
        out.push(Evidence {
            hint: folder_hint(&path),
            env: env_file(&text),
            file: path,
            ports: Vec::new(),
        });
    }
    for path in files.find_files(2, &|n| is_compose(n)) {
        if let Some(text) = files.read(&path) {
            out.extend(compose(&path, &text));
        }
    }
    for path in files.find_files(3, &|n| {
        n == "Dockerfile" || n.starts_with("Dockerfile.") || n.ends_with(".Dockerfile")
    }) {
        let Some(text) = files.read(&path) else {
            continue;
        };
        let name = basename(&path);
        let hint = name
            .strip_prefix("Dockerfile.")
            .or_else(|| name.strip_suffix(".Dockerfile"))
            .map(str::to_string)
            .or_else(|| folder_hint(&path));
        let (ports, env) = dockerfile(&text);
        out.push(Evidence {
            file: path,
            hint,
            ports,
            env,
        });
    }
    for path in files.find_files(0, &|n| n.eq_ignore_ascii_case("README.md")) {
        let Some(text) = files.read(&path) else {
            continue;
        };
        let env = readme_table(&text);
        if !env.is_empty() {
            out.push(Evidence {
                file: path,
                hint: None,
                ports: Vec::new(),
                env,
            });
        }
    }
    out.retain(|e| !e.ports.is_empty() || !e.env.is_empty());
    out
}

fn is_env_example(name: &str) -> bool {
    matches!(
        name,
        ".env.example"
            | ".env.sample"
            | ".env.template"
            | "env.example"
            | "example.env"
            | ".env.dist"
    )
}

fn is_compose(name: &str) -> bool {
    (name.starts_with("docker-compose") || name.starts_with("compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// The folder a file is in, as a hint (None at the top).
fn folder_hint(path: &str) -> Option<String> {
    let (dir, _) = path.rsplit_once('/')?;
    Some(basename(dir).to_string())
}

fn is_env_name(name: &str) -> bool {
    name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let q = v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if q {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// `KEY=value` lines (`export`, quotes and trailing ` # comments` handled; a `# comment` line just
/// above a variable describes it).
pub fn env_file(text: &str) -> Vec<EnvVar> {
    let mut out: Vec<EnvVar> = Vec::new();
    let mut comment: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix('#') {
            // A commented-out assignment is still a documented variable.
            if let Some(v) = parse_assignment(c.trim()) {
                push_var(&mut out, v);
            } else {
                comment = Some(c.trim().to_string()).filter(|c| !c.is_empty());
            }
            continue;
        }
        match parse_assignment(line) {
            Some(mut v) => {
                v.description = comment.take();
                push_var(&mut out, v);
            }
            None => comment = None,
        }
    }
    out
}

fn push_var(out: &mut Vec<EnvVar>, mut v: EnvVar) {
    // Upstream text: no control character survives into proposals, files or the screen.
    let clean = |s: String| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    v.value = v.value.map(clean);
    v.description = v.description.map(clean);
    if !out.iter().any(|o| o.name == v.name) {
        out.push(v);
    }
}

fn parse_assignment(line: &str) -> Option<EnvVar> {
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    if !is_env_name(name) {
        return None;
    }
    let value = value.trim();
    let value = if value.starts_with(['"', '\'']) {
        unquote(value)
    } else {
        value.split(" #").next().unwrap_or("").trim().to_string()
    };
    Some(EnvVar {
        name: name.to_string(),
        value: (!value.is_empty()).then_some(value),
        description: None,
    })
}

/// `EXPOSE 3000 9090/tcp` and `ENV KEY=value KEY2=value` / `ENV KEY value`.
fn dockerfile(text: &str) -> (Vec<u16>, Vec<EnvVar>) {
    let (mut ports, mut env) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next().map(str::to_ascii_uppercase).as_deref() {
            Some("EXPOSE") => {
                for w in words {
                    if let Ok(p) = w.split('/').next().unwrap_or("").parse::<u16>()
                        && p > 0
                        && !ports.contains(&p)
                    {
                        ports.push(p);
                    }
                }
            }
            Some("ENV") => {
                let rest: Vec<&str> = words.collect();
                if rest.first().is_some_and(|w| w.contains('=')) {
                    for w in rest {
                        if let Some(v) = parse_assignment(w) {
                            push_var(&mut env, v);
                        }
                    }
                } else if let [name, value @ ..] = rest.as_slice()
                    && is_env_name(name)
                {
                    let value = unquote(&value.join(" "));
                    push_var(
                        &mut env,
                        EnvVar {
                            name: (*name).to_string(),
                            value: (!value.is_empty()).then_some(value),
                            description: None,
                        },
                    );
                }
            }
            _ => {}
        }
    }
    (ports, env)
}

/// The services of a compose file: each one's container ports (`"8080:3000"` -> 3000) and
/// `environment` (a list of `KEY=value` or a map). A small reader for the indentation-based
/// shape compose files have, not a YAML parser.
fn compose(path: &str, text: &str) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = Vec::new();
    let mut in_services = false;
    let mut service_indent = None;
    let mut section: Option<(String, usize)> = None;
    for raw in text.lines() {
        let line = raw.split(" #").next().unwrap_or("").trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_services = trimmed == "services:";
            service_indent = None;
            continue;
        }
        if !in_services {
            continue;
        }
        let indent_of_service = *service_indent.get_or_insert(indent);
        if indent == indent_of_service {
            if let Some(name) = trimmed.strip_suffix(':') {
                out.push(Evidence {
                    file: path.to_string(),
                    hint: Some(unquote(name)),
                    ..Evidence::default()
                });
            }
            section = None;
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        if let Some((_, depth)) = &section
            && indent <= *depth
        {
            section = None;
        }
        if section.is_none() {
            if let Some(key) = trimmed.strip_suffix(':') {
                section = Some((key.to_string(), indent));
            } else if let Some(("environment" | "ports", _)) = trimmed.split_once(": [") {
                // Flow lists are rare in compose files and skipped.
            }
            continue;
        }
        let (key, _) = section.as_ref().expect("checked above");
        let item = trimmed.strip_prefix("- ").map(unquote);
        match (key.as_str(), item) {
            ("ports", Some(item)) => {
                let container = item
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .rsplit(':')
                    .next()
                    .unwrap_or("");
                if let Ok(p) = container.parse::<u16>()
                    && p > 0
                    && !current.ports.contains(&p)
                {
                    current.ports.push(p);
                }
            }
            ("environment", Some(item)) => {
                if let Some(v) = parse_assignment(&item).or_else(|| {
                    is_env_name(&item).then(|| EnvVar {
                        name: item.clone(),
                        value: None,
                        description: None,
                    })
                }) {
                    push_var(&mut current.env, v);
                }
            }
            ("environment", None) => {
                if let Some((name, value)) = trimmed.split_once(':')
                    && is_env_name(name.trim())
                {
                    let value = unquote(value);
                    push_var(
                        &mut current.env,
                        EnvVar {
                            name: name.trim().to_string(),
                            value: (!value.is_empty()).then_some(value),
                            description: None,
                        },
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// Rows of Markdown tables whose first cell is an environment variable name; a column headed
/// "default" gives its value, one headed "description" (or the last) its description.
fn readme_table(text: &str) -> Vec<EnvVar> {
    let mut out = Vec::new();
    let mut header: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if !t.starts_with('|') {
            header.clear();
            continue;
        }
        let cells: Vec<String> = t
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').trim().to_string())
            .collect();
        if header.is_empty() {
            header = cells.iter().map(|c| c.to_lowercase()).collect();
            continue;
        }
        if cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
            continue;
        }
        let Some(name) = cells.first().filter(|n| is_env_name(n)) else {
            continue;
        };
        let col = |want: &str| {
            header
                .iter()
                .position(|h| h.contains(want))
                .and_then(|i| cells.get(i))
        };
        let value = col("default")
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("none") && *v != "-");
        let description = col("description").or(cells.last().filter(|_| cells.len() > 1));
        push_var(
            &mut out,
            EnvVar {
                name: name.clone(),
                value: value.cloned(),
                description: description.filter(|d| !d.is_empty()).cloned(),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_services_ports_and_environment() {
        let yml = "version: '3'\nservices:\n  api:\n    build: .\n    ports:\n      - \"8080:3000\"\n    environment:\n      - API_PORT=3000\n      - API_SECRET\n  worker:\n    environment:\n      WORKER_DB_PATH: ./data/w.db\nvolumes:\n  x:\n";
        let ev = compose("docker-compose.yml", yml);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].hint.as_deref(), Some("api"));
        assert_eq!(ev[0].ports, [3000]);
        assert_eq!(ev[0].env[0].value.as_deref(), Some("3000"));
        assert_eq!(ev[0].env[1].name, "API_SECRET");
        assert_eq!(ev[1].env[0].name, "WORKER_DB_PATH");
        assert_eq!(ev[1].env[0].value.as_deref(), Some("./data/w.db"));
    }

    #[test]
    fn env_files_dockerfiles_and_readme_tables() {
        let env = env_file(
            "# where it listens\nexport PORT=8080\nNAME=\"x y\"\n# OPTIONAL_URL=https://a\nlower=1\n",
        );
        let names: Vec<_> = env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["PORT", "NAME", "OPTIONAL_URL"]);
        assert_eq!(env[0].description.as_deref(), Some("where it listens"));
        assert_eq!(env[1].value.as_deref(), Some("x y"));
        let (ports, env) =
            dockerfile("FROM x\nEXPOSE 3000 9090/tcp\nENV A_DIR=/data B2=2\nENV C_URL http://x\n");
        assert_eq!(ports, [3000, 9090]);
        assert_eq!(env.len(), 3);
        let readme = "| Variable | Default | Description |\n|---|---|---|\n| `LOG_LEVEL` | `info` | How much to log |\n| not a var | x | y |\n";
        let vars = readme_table(readme);
        assert_eq!(vars.len(), 1);
        assert_eq!(vars[0].value.as_deref(), Some("info"));
        assert_eq!(vars[0].description.as_deref(), Some("How much to log"));
    }
}
