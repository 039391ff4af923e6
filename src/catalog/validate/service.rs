//! `[services.<name>]`: exec, ports, database, hardening exceptions and typed options, and the
//! rules tying them together (port clashes, exec placeholders, option defaults).

use std::collections::BTreeMap;

use toml_spanner::Kind;

use super::doc::{self, Doc, Field, Table, Value};
use super::examples::{self, OptionShape};
use super::rules::{self, Placeholder, Problem};
use super::{accept, one_of, ports as port_rules, secrets};
use crate::catalog::model::{Database, HardeningException, OptionType, Service, ServiceOption};
use crate::search::did_you_mean;

pub(super) const SERVICE_KEYS: &[&str] = &[
    "exec",
    "ports",
    "database",
    "health_path",
    "jit",
    "hardening_exceptions",
    "options",
    "public_ports",
    "fixed_listener",
];
const HARDENING_KEYS: &[&str] = &["value", "reason"];
const OPTION_KEYS: &[&str] = &[
    "type",
    "default",
    "description",
    "env",
    "values",
    "example",
    "example_generate",
];

/// A port number seen in a service, to find clashes inside the package. Names borrow from the
/// file's text: nothing is allocated unless there is a clash.
struct PortUse<'i> {
    number: u16,
    service: &'i str,
    port: &'i str,
    span: std::ops::Range<usize>,
}

impl PortUse<'_> {
    fn field(&self) -> String {
        format!("services.{}.ports.{}", self.service, self.port)
    }
}

/// Service and option names follow the package name rule; a bad one is reported at its key.
fn key_is_a_name(
    doc: &mut Doc<'_>,
    span: std::ops::Range<usize>,
    field: &str,
    what: &str,
    name: &str,
) -> bool {
    let Err(p) = rules::name(name) else {
        return true;
    };
    doc.problem(
        span,
        field.to_string(),
        Problem {
            message: format!("{what} name {}", p.message),
            hint: p.hint,
        },
    );
    false
}

pub(super) fn read_services<'i>(
    doc: &mut Doc<'_>,
    t: &Table<'_, 'i>,
) -> Option<BTreeMap<String, Service>> {
    let mut services = BTreeMap::new();
    let mut ports: Vec<PortUse<'i>> = Vec::new();
    let mut ok = true;
    for (key, v) in t.in_file_order() {
        let name = key.name.to_string();
        let field = t.field(&name);
        ok &= key_is_a_name(doc, key.span.range(), &field, "service", &name);
        match doc
            .as_table(v, &field)
            .and_then(|svc| read_service(doc, key.name, &svc, &mut ports))
        {
            Some(s) => {
                services.insert(name, s);
            }
            None => ok = false,
        }
    }
    // Two services of one package listening on the same port cannot both start on one host.
    // A package has a handful of ports: a linear scan beats hashing.
    for (i, port) in ports.iter().enumerate() {
        if let Some(first) = ports[..i].iter().find(|p| p.number == port.number) {
            let (line, column) = doc.position(first.span.start);
            let msg = format!(
                "port {} is already used by {} (line {line}:{column})",
                port.number,
                first.field()
            );
            let free = (port.number..=u16::MAX)
                .find(|n| ports.iter().all(|p| p.number != *n))
                .unwrap_or(port.number);
            let hint = format!("give each port of a package its own number, e.g. {free}");
            doc.report(port.span.clone(), port.field(), msg, hint);
            ok = false;
        }
    }
    ok.then_some(services)
}

fn read_service<'i>(
    doc: &mut Doc<'_>,
    name: &'i str,
    t: &Table<'_, 'i>,
    port_uses: &mut Vec<PortUse<'i>>,
) -> Option<Service> {
    doc.unknown_keys(t, SERVICE_KEYS, &[]);
    let exec_value = doc.required(t, "exec");
    let exec = exec_value
        .and_then(|v| doc.as_str_list(v, t.at("exec")))
        .filter(|e| {
            let p = e.first().is_none_or(String::is_empty).then(|| {
                Problem::new(
                    "needs at least the program to run",
                    "write exec = [\"program\", \"--flag\", \"{data_dir}\"]",
                )
            });
            // The module runs `<package>/bin/<exec[0]>`: a path would run a file outside it.
            let p = p.or_else(|| {
                let prog = e.first()?;
                (prog.contains('/') || prog == "." || prog == "..").then(|| {
                    Problem::new(
                        format!("the program `{prog}` must be a name in the package's bin/, not a path (no `/`, `.` or `..`)"),
                        "write the program's bare name, e.g. exec = [\"program\", \"--flag\"]",
                    )
                })
            });
            accept(doc, t, "exec", p.map_or(Ok(()), Err))
        });
    let ports = match t.get("ports") {
        None => Some(BTreeMap::new()),
        Some(v) => doc
            .as_table(v, t.at("ports"))
            .and_then(|p| read_ports(doc, &p, name, port_uses)),
    };
    let databases = [
        Database::None,
        Database::Postgresql,
        Database::Sqlite,
        Database::Rocksdb,
    ]
    .map(|d| (d.as_str(), d));
    let database = match t.get("database") {
        None => Some(Database::None),
        Some(v) => one_of(doc, v, t.at("database"), &databases),
    };
    let health_path = doc.opt_str(t, "health_path").filter(|h| {
        let bad = h.as_deref().is_some_and(|h| !h.starts_with('/'));
        let p = Problem::new(
            "must be an absolute HTTP path",
            "write e.g. health_path = \"/xrpc/_health\"",
        );
        accept(doc, t, "health_path", if bad { Err(p) } else { Ok(()) })
    });
    let jit = doc.opt_bool(t, "jit", false);
    let hardening_exceptions = match t.get("hardening_exceptions") {
        None => Some(BTreeMap::new()),
        Some(v) => doc
            .as_table(v, t.at("hardening_exceptions"))
            .and_then(|h| read_hardening(doc, &h)),
    };
    let options = match t.get("options") {
        None => Some(Vec::new()),
        Some(v) => doc
            .as_table(v, t.at("options"))
            .and_then(|o| read_options(doc, &o)),
    };
    let public_ports = port_rules::read_public_ports(doc, t, ports.as_ref());
    let fixed_listener = doc.opt_bool(t, "fixed_listener", false);
    let exec_ok = exec_value.is_none_or(|v| secrets::check_exec(doc, t.at("exec"), v));
    let placeholders_ok = match (&ports, &options, database) {
        (Some(ports), Some(options), Some(database)) => {
            let scope = Scope {
                ports,
                options,
                database,
                fixed_listener: fixed_listener.unwrap_or(false),
            };
            let mut ok =
                exec_value.is_none_or(|v| check_placeholders(doc, t.at("exec"), v, &scope));
            // String option values take the same placeholders as exec (catalog/README.md).
            let option_tables = t.get("options").and_then(|o| o.as_table());
            for (key, opt) in option_tables.into_iter().flat_map(|o| o.iter()) {
                for which in ["default", "example"] {
                    let value = opt.as_table().and_then(|o| o.get(which));
                    if let Some(value) = value.filter(|d| may_hold_placeholder(d)) {
                        let field = format!("{}.options.{}.{which}", t.path, key.name);
                        ok &= check_placeholders(doc, Field::from(&field), value, &scope);
                    }
                }
            }
            ok
        }
        _ => true,
    };
    (placeholders_ok && exec_ok).then_some(())?;
    Some(Service {
        name: name.to_string(),
        exec: exec?,
        ports: ports?,
        database: database?,
        health_path: health_path?,
        jit: jit?,
        hardening_exceptions: hardening_exceptions?,
        options: options?,
        public_ports: public_ports?,
        fixed_listener: fixed_listener?,
    })
}

fn read_ports<'i>(
    doc: &mut Doc<'_>,
    t: &Table<'_, 'i>,
    service: &'i str,
    port_uses: &mut Vec<PortUse<'i>>,
) -> Option<BTreeMap<String, u16>> {
    let mut ports = BTreeMap::new();
    let mut ok = true;
    for (key, v) in t.in_file_order() {
        let field = t.at(key.name);
        let Some(n) = doc.as_int(v, field) else {
            ok = false;
            continue;
        };
        match port_number(n) {
            Ok(port) => {
                port_uses.push(PortUse {
                    number: port,
                    service,
                    port: key.name,
                    span: v.span().range(),
                });
                ports.insert(key.name.to_string(), port);
            }
            Err(p) => {
                doc.problem(v.span().range(), field, p);
                ok = false;
            }
        }
    }
    ok.then_some(ports)
}

fn port_number(n: i64) -> Result<u16, Problem> {
    match n {
        0 => Err(Problem::new(
            "port 0 would let the kernel pick a random port, which clients and the firewall cannot know",
            "choose a fixed port number (1-65535), e.g. the upstream default",
        )),
        1..=65535 => Ok(n as u16),
        _ => Err(Problem::new(
            format!("port {n} is out of range"),
            "ports are 1-65535",
        )),
    }
}

fn read_hardening(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
) -> Option<BTreeMap<String, HardeningException>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, v) in t.in_file_order() {
        let directive = key.name.to_string();
        let field = t.field(&directive);
        if !directive.starts_with(|c: char| c.is_ascii_uppercase())
            || !directive.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            let hint = "name the systemd setting as systemd spells it, e.g. `PrivateUsers` or `MemoryDenyWriteExecute`";
            doc.report(
                key.span.range(),
                field.clone(),
                format!("`{directive}` is not a systemd directive name"),
                hint,
            );
            ok = false;
        }
        let Some(entry) = doc.as_table(v, &field) else {
            ok = false;
            continue;
        };
        doc.unknown_keys(&entry, HARDENING_KEYS, &[]);
        let value = doc.required(&entry, "value").and_then(|v| match v.kind() {
            Kind::Table => {
                doc.report(
                    v.span().range(),
                    entry.field("value"),
                    "must be a plain value, not a table",
                    "write e.g. value = false",
                );
                None
            }
            _ => to_toml(doc, v, entry.at("value")),
        });
        let reason = doc.req_str(&entry, "reason").filter(|r| {
            let p = r
                .trim()
                .is_empty()
                .then(|| Problem::new("is empty", "say why this service needs the relaxation"));
            accept(doc, &entry, "reason", p.map_or(Ok(()), Err))
        });
        match (value, reason) {
            (Some(value), Some(reason)) => {
                out.insert(directive, HardeningException { value, reason });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

const OPTION_TYPES: [(&str, OptionType); 8] = [
    ("str", OptionType::Str),
    ("int", OptionType::Int),
    ("port", OptionType::Port),
    ("bool", OptionType::Bool),
    ("enum", OptionType::Enum),
    ("path", OptionType::Path),
    ("secret-file", OptionType::SecretFile),
    ("list", OptionType::List),
];

fn read_options(doc: &mut Doc<'_>, t: &Table<'_, '_>) -> Option<Vec<ServiceOption>> {
    let mut options = Vec::new();
    let mut ok = true;
    for (key, v) in t.in_file_order() {
        let name = key.name.to_string();
        let field = t.field(&name);
        ok &= key_is_a_name(doc, key.span.range(), &field, "option", &name);
        let Some(opt) = doc
            .as_table(v, &field)
            .and_then(|o| read_option(doc, &name, &o))
        else {
            ok = false;
            continue;
        };
        // Few options per service: look back through the ones read so far.
        if let Some(env) = &opt.env
            && let Some(other) = options
                .iter()
                .find(|o: &&ServiceOption| o.env.as_ref() == Some(env))
        {
            let other = &other.name;
            let span = v
                .as_table()
                .and_then(|o| o.get("env"))
                .map_or(key.span.range(), |e| e.span().range());
            let msg = format!("environment variable `{env}` is already set by option `{other}`");
            doc.report(
                span,
                format!("{field}.env"),
                msg,
                "give each option its own variable",
            );
            ok = false;
        }
        options.push(opt);
    }
    ok.then_some(options)
}

fn read_option(doc: &mut Doc<'_>, name: &str, t: &Table<'_, '_>) -> Option<ServiceOption> {
    doc.unknown_keys(t, OPTION_KEYS, &[]);
    let ty = doc
        .required(t, "type")
        .and_then(|v| one_of(doc, v, t.at("type"), &OPTION_TYPES));
    let description = doc.req_str(t, "description");
    let env = doc.opt_str(t, "env").filter(|e| {
        e.as_deref()
            .is_none_or(|e| accept(doc, t, "env", rules::env_var(e)))
    });
    let values = doc.opt_str_list(t, "values").filter(|values| match ty {
        Some(OptionType::Enum) if values.is_empty() => {
            let p = Problem::new(
                "an enum option needs its allowed `values`",
                "add values = [\"a\", \"b\"]",
            );
            accept(doc, t, "values", Err(p))
        }
        Some(other) if t.get("values").is_some() && other != OptionType::Enum => {
            let p = Problem::new(
                format!(
                    "`values` is only read for type = \"enum\" (this option is \"{}\")",
                    other.as_str()
                ),
                "remove `values`, or make the option an enum",
            );
            accept(doc, t, "values", Err(p))
        }
        _ => true,
    });
    let default = match (t.get("default"), ty, &values) {
        (None, ..) => Some(None),
        (Some(v), Some(ty), Some(values)) => {
            check_default(doc, t.at("default"), v, ty, values).map(Some)
        }
        _ => None,
    };
    let shape = OptionShape {
        name,
        ty,
        values: values.as_deref().unwrap_or_default(),
    };
    let example = examples::read_example(doc, t, &shape);
    let example_generate = examples::read_generate(doc, t, ty);
    // A credential is checked against the variable it would be written to (or the option's name).
    let credential_name = env.clone().flatten().unwrap_or_else(|| name.to_string());
    let mut secrets_ok = true;
    for which in ["default", "example"] {
        if let Some(v) = t.get(which).filter(|_| ty != Some(OptionType::SecretFile)) {
            secrets_ok &= secrets::check_value(doc, t.at(which), which, v, Some(&credential_name));
            if ty == Some(OptionType::Path) {
                secrets_ok &= secrets::check_path_value(doc, t.at(which), which, v);
            }
        }
    }
    secrets_ok.then_some(())?;
    Some(ServiceOption {
        name: name.to_string(),
        ty: ty?,
        default: default?,
        description: description?,
        env: env?,
        values: values?,
        example: example?,
        example_generate: example_generate?,
    })
}

/// A default must have the option's type; a secret never has one.
fn check_default(
    doc: &mut Doc<'_>,
    field: Field<'_>,
    v: &Value<'_>,
    ty: OptionType,
    values: &[String],
) -> Option<toml::Value> {
    let fits = match (ty, v.kind()) {
        (OptionType::SecretFile, _) => {
            let hint = "remove `default`: the user sets a path outside the Nix store (e.g. /run/secrets/...), \
                        so the secret never lands in the world-readable store";
            // Say so when the default is the secret itself: it is then already in the file.
            let message = match v.as_str().and_then(secrets::looks_like_secret) {
                Some(reason) => format!(
                    "a secret-file option never has a default, and this one looks like the secret itself ({reason})"
                ),
                None => "a secret-file option never has a default".to_string(),
            };
            doc.report(v.span().range(), field, message, hint);
            return None;
        }
        (OptionType::Str | OptionType::Path, Kind::String) => true,
        (OptionType::Int, Kind::Integer) => true,
        (OptionType::Port, Kind::Integer) => {
            let n = doc.as_int(v, field)?;
            if let Err(p) = port_number(n) {
                doc.problem(v.span().range(), field, p);
                return None;
            }
            true
        }
        (OptionType::Bool, Kind::Boolean) => true,
        (OptionType::List, Kind::Array) => true,
        (OptionType::Enum, Kind::String) => {
            let s = v.as_str().unwrap_or_default();
            if !values.iter().any(|x| x == s) {
                let hint = match did_you_mean(s, values.iter().map(String::as_str)) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("use one of the values: {}", values.join(", ")),
                };
                doc.report(
                    v.span().range(),
                    field,
                    format!("default `{s}` is not one of the enum's values"),
                    hint,
                );
                return None;
            }
            true
        }
        _ => false,
    };
    if !fits {
        let (expected, example) = match ty {
            OptionType::Str => ("a string", "\"text\""),
            OptionType::Path => ("a string (a path)", "\"/var/lib/x\""),
            OptionType::Int => ("an integer", "10"),
            OptionType::Port => ("an integer (a port)", "8080"),
            OptionType::Bool => ("true or false", "false"),
            OptionType::List => ("an array", "[\"a\", \"b\"]"),
            OptionType::Enum => ("one of the enum's values (a string)", "\"a\""),
            OptionType::SecretFile => unreachable!("handled above"),
        };
        let msg = format!(
            "default is {}, but the option's type is {}",
            doc::kind(v),
            ty.as_str()
        );
        if v.kind() != Kind::DateTime {
            doc.report(
                v.span().range(),
                field,
                msg,
                format!("write {expected}, e.g. default = {example}"),
            );
        }
        return None;
    }
    to_toml(doc, v, field)
}

/// Whether a string (or array) value contains a `{` at all: most defaults do not, and their
/// field name need not be built.
fn may_hold_placeholder(v: &Value<'_>) -> bool {
    match v.as_array() {
        Some(items) => items.iter().any(may_hold_placeholder),
        None => v.as_str().is_some_and(|s| s.contains('{')),
    }
}

/// What the placeholders of one service can refer to.
struct Scope<'a> {
    ports: &'a BTreeMap<String, u16>,
    options: &'a [ServiceOption],
    database: Database,
    fixed_listener: bool,
}

/// Check the placeholders in a string, or in each string of an array, against the service.
fn check_placeholders(
    doc: &mut Doc<'_>,
    field: Field<'_>,
    value: &Value<'_>,
    scope: &Scope<'_>,
) -> bool {
    if let Some(items) = value.as_array() {
        let mut ok = true;
        for item in items {
            ok &= check_placeholders(doc, field, item, scope);
        }
        return ok;
    }
    let Some(text) = value.as_str() else {
        return true;
    };
    let mut ok = true;
    for ph in rules::placeholders(text) {
        if let Some(p) = placeholder_problem(&ph, scope) {
            doc.problem(value.span().range(), field, p);
            ok = false;
        }
    }
    ok
}

fn placeholder_problem(ph: &Placeholder<'_>, scope: &Scope<'_>) -> Option<Problem> {
    let db = scope.database;
    if scope.fixed_listener
        && let Some(p) = port_rules::fixed_listener_problem(ph)
    {
        return Some(p);
    }
    match *ph {
        Placeholder::DataDir | Placeholder::ListenAddress => None,
        Placeholder::Port(n) if scope.ports.contains_key(n) => None,
        Placeholder::Option(n) if scope.options.iter().any(|o| o.name == n) => None,
        Placeholder::DatabaseUrl if matches!(db, Database::Postgresql | Database::Sqlite) => None,
        Placeholder::DatabasePath if matches!(db, Database::Sqlite | Database::Rocksdb) => None,
        Placeholder::Port(n) => Some(unknown_ref(
            "port",
            n,
            scope.ports.keys().map(String::as_str),
        )),
        Placeholder::Option(n) => Some(unknown_ref(
            "option",
            n,
            scope.options.iter().map(|o| o.name.as_str()),
        )),
        Placeholder::DatabaseUrl => Some(Problem::new(
            format!(
                "`{{database_url}}` has no value: this service's database is \"{}\"",
                db.as_str()
            ),
            "a database URL exists for database = \"postgresql\" or \"sqlite\" (rocksdb has {database_path})",
        )),
        Placeholder::DatabasePath => Some(Problem::new(
            format!(
                "`{{database_path}}` has no value: this service's database is \"{}\"",
                db.as_str()
            ),
            "a database path exists for database = \"sqlite\" or \"rocksdb\" (postgresql has {database_url})",
        )),
        Placeholder::Unsubstituted(inner) => Some(Problem::new(
            format!(
                "`{{{inner}}}` is not substituted: names in placeholders may only use letters, digits, _ . -"
            ),
            "rename the port or option, or write the text without braces",
        )),
        Placeholder::Unknown(p) => Some(Problem {
            message: format!("unknown placeholder `{{{p}}}`"),
            hint: match did_you_mean(p, rules::PLACEHOLDERS) {
                Some(m) => format!("did you mean `{{{m}}}`?"),
                None => format!(
                    "the placeholders are {}",
                    rules::PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ),
            },
        }),
    }
}

fn unknown_ref<'a>(
    kind: &str,
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Problem {
    let plural = if kind == "port" { "ports" } else { "options" };
    let hint = if let Some(m) = did_you_mean(name, known.clone()) {
        format!("did you mean `{{{kind}:{m}}}`?")
    } else {
        let list: Vec<&str> = known.collect();
        if list.is_empty() {
            format!("this service declares no {plural}; add it under [services.<name>.{plural}]")
        } else {
            format!("declared {plural}: {}", list.join(", "))
        }
    };
    Problem {
        message: format!("`{{{kind}:{name}}}` refers to no {kind} of this service"),
        hint,
    }
}

/// The plain TOML value (for option defaults and hardening values).
fn to_toml(doc: &mut Doc<'_>, v: &Value<'_>, field: Field<'_>) -> Option<toml::Value> {
    Some(match v.kind() {
        Kind::String => toml::Value::String(v.as_str().unwrap_or_default().to_string()),
        Kind::Integer => toml::Value::Integer(doc.as_int(v, field)?),
        Kind::Float => toml::Value::Float(v.as_f64().unwrap_or_default()),
        Kind::Boolean => toml::Value::Boolean(v.as_bool().unwrap_or_default()),
        // Dates are rejected for the whole file (Nix cannot read them); keep the text meanwhile.
        Kind::DateTime => toml::Value::String(doc.src[v.span().range()].to_string()),
        Kind::Array => {
            let items = v.as_array()?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(to_toml(doc, item, field)?);
            }
            toml::Value::Array(out)
        }
        Kind::Table => {
            let mut out = toml::Table::new();
            for (k, item) in v.as_table()? {
                out.insert(k.name.to_string(), to_toml(doc, item, field)?);
            }
            toml::Value::Table(out)
        }
    })
}
