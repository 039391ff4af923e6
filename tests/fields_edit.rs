//! The field writer on every shipped catalog file (copied, with comments added): an edit of each
//! kind changes only that field's lines; invalid values never reach the disk; `atwb set` from
//! the command line; and a save loop killed with SIGKILL leaves the old or the new file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atwb::catalog::fields::{
    Change, Context, Draft, FieldKind, FieldPath, SaveError, Structural, schema_for, validate_all,
};
use toml_edit::DocumentMut;

mod common;

/// A copy of the shipped catalog in a temp dir, every key given a comment line above it and
/// every plain value a trailing comment, so the writer must keep comments everywhere.
fn commented_catalog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    common::copy_dir(&common::repo_root().join("catalog"), &root);
    for file in atwb::catalog::edit::package_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut doc: DocumentMut = text.parse().unwrap();
        add_comments(doc.as_table_mut(), &mut 0);
        let commented = doc.to_string();
        assert_ne!(commented, text);
        std::fs::write(&file, commented).unwrap();
    }
    (dir, root)
}

fn add_comments(t: &mut toml_edit::Table, n: &mut usize) {
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        *n += 1;
        let tag = *n;
        if let Some(mut k) = t.key_mut(&key) {
            let own = k
                .leaf_decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_string();
            k.leaf_decor_mut()
                .set_prefix(format!("{own}# note {tag}\n"));
        }
        match t.get_mut(&key) {
            Some(toml_edit::Item::Value(v)) => {
                v.decor_mut().set_suffix(format!(" # trailing {tag}"));
            }
            Some(toml_edit::Item::Table(sub)) => {
                if !sub.is_implicit() {
                    sub.decor_mut().set_suffix(format!(" # header {tag}"));
                }
                add_comments(sub, n);
            }
            _ => {}
        }
    }
}

fn comments(text: &str) -> usize {
    text.matches("# note ").count()
        + text.matches("# trailing ").count()
        + text.matches("# header ").count()
}

/// The lines that differ: (first changed line, 1-based; old middle; new middle), from the
/// longest common prefix and suffix.
fn middle<'a>(a: &'a str, b: &'a str) -> (usize, Vec<&'a str>, Vec<&'a str>) {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suf = a.len().min(b.len()) - pre;
    let suf = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suf)
        .take_while(|(x, y)| x == y)
        .count();
    (
        pre + 1,
        a[pre..a.len() - suf].to_vec(),
        b[pre..b.len() - suf].to_vec(),
    )
}

/// The 1-based lines from the key of `path` to the end of its value in `text` (the decor of the
/// value, such as a trailing comment, is on the last of them); None when it is not there.
fn field_lines(text: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let doc = toml_edit::Document::parse(text.to_string()).ok()?;
    let (leaf, parents) = path.keys().split_last()?;
    let mut t: &dyn toml_edit::TableLike = doc.as_table();
    for key in parents {
        t = t.get(key)?.as_table_like()?;
    }
    let (key, item) = t.get_key_value(leaf)?;
    let start = key.span()?.start;
    let end = item.span()?.end;
    let line = |at: usize| text[..at].matches('\n').count() + 1;
    Some((line(start), line(end)))
}

/// One edit per kind that applies to this file.
fn edits(draft: &Draft, i: usize) -> Vec<(Change, &'static str)> {
    let p = |s: &str| FieldPath::parse(s).unwrap();
    let set = |s: &str, v: toml::Value| Change::Set {
        path: p(s),
        value: v,
    };
    let tier = draft
        .value(&p("tier"))
        .and_then(|v| v.as_integer())
        .unwrap();
    let mut out = vec![
        (set("tier", toml::Value::Integer(tier % 3 + 1)), "enum"),
        (
            set(
                "description",
                "Edited description for the round trip".into(),
            ),
            "text",
        ),
        (
            set(
                "long_description",
                "First edited line.\nSecond edited line.".into(),
            ),
            "multi-line text",
        ),
        (
            set("maintainers", toml::Value::Array(vec!["someone".into()])),
            "list",
        ),
        (
            set(
                "source.verified",
                toml::Value::Boolean(draft.value(&p("source.verified")) != Some(true.into())),
            ),
            "bool",
        ),
        (set("build.source_root", "sub/dir".into()), "path"),
    ];
    if draft.value(&p("main_program")).is_some() {
        out.push((
            Change::Unset {
                path: p("main_program"),
            },
            "unset",
        ));
    }
    let list = p("build.native_build_inputs");
    out.push((
        Change::Structural(Structural::ListInsert {
            list,
            index: 0,
            value: "cmake".into(),
        }),
        "list insert",
    ));
    let schema = schema_for(draft);
    if let Some(port) = schema
        .iter()
        .find(|f| f.kind == FieldKind::Port && f.value.is_some())
    {
        // 40000 + i: a number no shipped service uses.
        out.push((
            set(
                &port.path.to_string(),
                toml::Value::Integer(40000 + i as i64),
            ),
            "port",
        ));
    }
    if let Some(opt) = schema.iter().find(|f| {
        f.kind == FieldKind::Text && f.path.leaf() == "description" && f.path.keys().len() == 5
    }) {
        out.push((
            set(&opt.path.to_string(), "Edited option description".into()),
            "option text",
        ));
    }
    out
}

#[test]
fn every_shipped_file_keeps_its_untouched_bytes_for_an_edit_of_each_kind() {
    let (_dir, root) = commented_catalog();
    let loaded = atwb::catalog::load(&root).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let files = atwb::catalog::edit::package_files(&root);
    assert_eq!(files.len(), loaded.catalog.packages.len());
    let mut kinds = std::collections::BTreeSet::new();
    for (i, file) in files.iter().enumerate() {
        let original = std::fs::read_to_string(file).unwrap();
        let context = Context::from_catalog(&loaded.catalog, file);
        let probe = Draft::open(file, context.clone()).unwrap();
        assert!(
            validate_all(&probe).is_empty(),
            "{}: {:?}",
            file.display(),
            validate_all(&probe)
        );
        for (change, kind) in edits(&probe, i) {
            std::fs::write(file, &original).unwrap();
            let mut draft = Draft::open(file, context.clone()).unwrap();
            let key_line = draft.line_of(&change.path());
            draft
                .apply(change.clone())
                .unwrap_or_else(|d| panic!("{}: {kind}: {d}", file.display()));
            draft
                .save()
                .unwrap_or_else(|e| panic!("{}: {kind}: {e}", file.display()));
            let after = std::fs::read_to_string(file).unwrap();
            let (first, old, new) = middle(&original, &after);
            let what = format!(
                "{}: {kind} ({change:?}):\n-{old:?}\n+{new:?}",
                file.display()
            );
            assert!(
                !old.is_empty() || !new.is_empty(),
                "{what}: nothing changed"
            );
            // Only the field's own lines changed: in the old text, the lines from its key to the
            // end of its value (or none, for a new key); in the new text, the same for the new
            // value (or none, when it was removed).
            let path = change.path();
            let within = |range: Option<(usize, usize)>, lines: &[&str]| match range {
                _ if lines.is_empty() => true,
                Some((from, to)) => first >= from && first + lines.len() - 1 <= to,
                None => false,
            };
            assert!(
                within(field_lines(&original, &path), &old),
                "{what}: other old lines changed"
            );
            assert!(
                within(field_lines(&after, &path), &new),
                "{what}: other new lines changed"
            );
            assert_eq!(
                key_line > 0,
                field_lines(&original, &path).is_some(),
                "{what}"
            );
            // A removed value takes its own trailing comment with it, nothing else.
            let gone = usize::from(matches!(change, Change::Unset { .. }));
            assert_eq!(
                comments(&after) + gone,
                comments(&original),
                "{what}: comments lost or duplicated"
            );
            let reloaded = atwb::catalog::load(&root).unwrap();
            assert!(
                reloaded.diagnostics.is_empty(),
                "{what}: {:?}",
                reloaded.diagnostics
            );
            kinds.insert(kind);
        }
        std::fs::write(file, &original).unwrap();
    }
    for kind in [
        "enum",
        "text",
        "multi-line text",
        "list",
        "bool",
        "path",
        "unset",
        "list insert",
        "port",
        "option text",
    ] {
        assert!(kinds.contains(kind), "no file had an edit of kind {kind}");
    }
}

/// Adding a service or an option inserts only its own table; removing it again gives back the
/// file byte for byte.
#[test]
fn structural_edits_insert_only_their_tables_and_undo_exactly() {
    let (_dir, root) = commented_catalog();
    let loaded = atwb::catalog::load(&root).unwrap();
    let p = |s: &str| FieldPath::parse(s).unwrap();
    let mut with_services = 0;
    for file in atwb::catalog::edit::package_files(&root) {
        let original = std::fs::read_to_string(&file).unwrap();
        let context = Context::from_catalog(&loaded.catalog, &file);
        let mut draft = Draft::open(&file, context).unwrap();
        let name = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let extra = format!("{name}-extra");
        let mut adds = vec![Structural::AddService {
            name: extra.clone(),
            exec: vec!["prog".into()],
        }];
        if let Some(svc) = draft.service_names().first().cloned() {
            with_services += 1;
            adds.push(Structural::AddOption {
                service: svc,
                name: "added_option".into(),
                ty: atwb::catalog::OptionType::Int,
                description: "Added by the test".into(),
            });
        }
        for add in adds {
            draft.apply(Change::Structural(add.clone())).unwrap();
            if let Structural::AddOption { service, .. } = &add {
                draft
                    .set(
                        &p(&format!("services.{service}.options.added_option.default")),
                        5.into(),
                    )
                    .unwrap();
            }
            draft
                .save()
                .unwrap_or_else(|e| panic!("{}: {add:?}: {e}", file.display()));
            let after = std::fs::read_to_string(&file).unwrap();
            let (_, old, new) = middle(&original, &after);
            assert!(
                old.is_empty(),
                "{}: {add:?} replaced {old:?}",
                file.display()
            );
            let header = format!("[{}]", add.path());
            assert!(
                new.iter().any(|l| *l == header),
                "{}: {add:?}: {new:?}",
                file.display()
            );
            let remove = match add {
                Structural::AddService { name, .. } => Structural::RemoveService { name },
                Structural::AddOption { service, name, .. } => {
                    Structural::RemoveOption { service, name }
                }
                _ => unreachable!(),
            };
            draft.apply(Change::Structural(remove)).unwrap();
            draft.save().unwrap();
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                original,
                "{}",
                file.display()
            );
        }
    }
    assert!(with_services > 10, "{with_services}");
}

#[test]
fn invalid_values_never_reach_the_disk() {
    let (_dir, root) = commented_catalog();
    let p = |s: &str| FieldPath::parse(s).unwrap();
    for file in atwb::catalog::edit::package_files(&root) {
        let before = std::fs::read(&file).unwrap();
        let bad: Vec<(&str, toml::Value)> = vec![
            ("description", "the thing.".into()),
            ("homepage", "ftp://example.org".into()),
            ("version", "v1.0".into()),
            ("source.rev", "main".into()),
            ("license", toml::Value::Array(vec![])),
            ("main_program", "bin/x".into()),
            ("build.deps_hash", "sha256-short".into()),
            ("tier", toml::Value::Integer(9)),
            ("category", "app".into()),
        ];
        for (field, value) in bad {
            let mut draft = Draft::open(&file, Context::none()).unwrap();
            draft.set(&p(field), value.clone()).unwrap();
            let Err(SaveError::Invalid(d)) = draft.save() else {
                panic!("{}: {field} = {value} was saved", file.display());
            };
            assert!(
                d.iter()
                    .any(|d| d.field == field && d.line > 0 && d.hint.is_some()),
                "{field}: {d:?}"
            );
            assert_eq!(
                std::fs::read(&file).unwrap(),
                before,
                "{}: {field}",
                file.display()
            );
        }
        // Kind errors are refused before the draft changes at all.
        let mut draft = Draft::open(&file, Context::none()).unwrap();
        assert!(draft.set(&p("tier"), "two".into()).is_err());
        assert!(draft.set(&p("source.verified"), "yes".into()).is_err());
        assert!(!draft.is_dirty());
    }
}

fn atwb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atwb"))
        .arg("--catalog")
        .arg(root)
        .args(args)
        .env_remove("ATWB_CATALOG")
        .output()
        .expect("run atwb")
}

fn goat(root: &Path) -> PathBuf {
    root.join("pkgs/bluesky-social/goat/package.toml")
}

#[test]
fn set_changes_one_line_and_reports_it() {
    let (_dir, root) = commented_catalog();
    let file = root.join("pkgs/bluesky-social/bluesky-pds/package.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let o = atwb(
        &root,
        &[
            "set",
            "bluesky-pds",
            "services.bluesky-pds.options.pds_port.default",
            "3000",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("services.bluesky-pds.options.pds_port.default: \"{port:http}\" -> \"3000\""),
        "{out}"
    );
    let after = std::fs::read_to_string(&file).unwrap();
    let (_, old, new) = middle(&before, &after);
    assert_eq!(old.len(), 1, "{old:?}");
    assert_eq!(new, [old[0].replace("\"{port:http}\"", "\"3000\"")]);

    let o = atwb(
        &root,
        &["set", "goat", "license", r#"["MIT", "ISC"]"#, "--json"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["changes"][0]["field"], "license");
    assert_eq!(json["changes"][0]["new"], serde_json::json!(["MIT", "ISC"]));
    assert!(
        json["file"]
            .as_str()
            .unwrap()
            .ends_with("goat/package.toml")
    );
}

#[test]
fn set_refuses_invalid_input_with_file_line_field_and_hint() {
    let (_dir, root) = commented_catalog();
    let file = goat(&root);
    let before = std::fs::read(&file).unwrap();
    let o = atwb(&root, &["set", "goat", "description", "The goat tool."]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    let line = String::from_utf8_lossy(&before)
        .lines()
        .position(|l| l.starts_with("description"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("goat/package.toml:{line}:")), "{err}");
    assert!(err.contains("description: ends with a period"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    let o = atwb(&root, &["set", "goat", "tier", "7"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tier: tier 7 is out of range"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = atwb(&root, &["set", "goat", "teir", "2", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["diagnostics"][0]["message"], "unknown field `teir`");
    assert_eq!(json["diagnostics"][0]["hint"], "did you mean `tier`?");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    let o = atwb(&root, &["set", "gaot", "tier", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `goat`?"));
}

#[test]
fn set_applies_the_catalog_wide_rules() {
    let (_dir, root) = commented_catalog();
    let loaded = atwb::catalog::load(&root).unwrap();
    let other = loaded.catalog.get("constellation").unwrap();
    let (svc, port) = other
        .services
        .iter()
        .find_map(|(s, svc)| Some((s.clone(), *svc.ports.values().next()?)))
        .unwrap();
    let file = root.join("pkgs/bluesky-social/bluesky-pds/package.toml");
    let before = std::fs::read(&file).unwrap();
    let o = atwb(
        &root,
        &[
            "set",
            "bluesky-pds",
            "services.bluesky-pds.ports.http",
            &port.to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "services.bluesky-pds.ports.http: default port {port} is also used by services.{svc}."
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A service another package defines is refused too.
    let mut draft = Draft::open(&file, Context::from_catalog(&loaded.catalog, &file)).unwrap();
    draft
        .apply(Change::Structural(Structural::AddService {
            name: svc.clone(),
            exec: vec!["pds".into()],
        }))
        .unwrap();
    let d = validate_all(&draft);
    assert!(
        d.iter().any(|d| d.field == format!("services.{svc}")
            && d.message
                .contains("is also defined by pkgs/microcosm/constellation/package.toml")),
        "{d:?}"
    );
}

#[test]
fn set_unset_removes_an_optional_field_and_refuses_a_required_one() {
    let (_dir, root) = commented_catalog();
    let file = goat(&root);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("main_program"));
    let o = atwb(&root, &["set", "goat", "main_program", "--unset"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains("main_program =")
    );
    let o = atwb(&root, &["set", "goat", "version", "--unset"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is required"));
}

/// `atwb set` run again and again, each run SIGKILLed after a random delay: whenever it dies,
/// the file is the version before that run or the one it was writing, never anything else.
#[test]
fn a_save_killed_at_any_moment_leaves_the_old_or_the_new_file() {
    let (_dir, root) = commented_catalog();
    let file = goat(&root);
    // How long one run takes here, so the kills spread over the whole run, write included.
    let start = std::time::Instant::now();
    assert!(
        atwb(
            &root,
            &[
                "set",
                "goat",
                "description",
                "Calibration run of the set command"
            ]
        )
        .status
        .success()
    );
    let run = start.elapsed().as_micros() as u64;
    let mut seed = u64::from(std::process::id()) | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut old_kept, mut new_written) = (0, 0);
    for i in 0..60 {
        let old = std::fs::read(&file).unwrap();
        let description = format!("Edited description number {i} of the kill loop");
        let mut child = Command::new(env!("CARGO_BIN_EXE_atwb"))
            .arg("--catalog")
            .arg(&root)
            .args(["set", "goat", "description", &description])
            .env_remove("ATWB_CATALOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill somewhere in 60%..110% of a run: most of the time goes to loading the catalog.
        let delay = run * 6 / 10 + rand() % (run / 2 + 1);
        std::thread::sleep(std::time::Duration::from_micros(delay));
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        let now = std::fs::read(&file).unwrap();
        let text = String::from_utf8(now.clone()).unwrap();
        if now == old {
            old_kept += 1;
        } else {
            assert!(
                text.contains(&format!("description = \"{description}\"")),
                "neither old nor new:\n{text}"
            );
            let old = String::from_utf8(old).unwrap();
            let (_, was, is) = middle(&old, &text);
            assert_eq!(
                (was.len(), is.len()),
                (1, 1),
                "more than the description changed"
            );
            let comment = &was[0][was[0].find(" # trailing").unwrap()..];
            assert_eq!(is[0], format!("description = \"{description}\"{comment}"));
            new_written += 1;
        }
    }
    eprintln!("kill loop: {old_kept} runs killed before the rename, {new_written} after it");
    assert!(atwb::catalog::load(&root).unwrap().diagnostics.is_empty());
}
