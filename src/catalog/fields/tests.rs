//! The field API against a real shipped file copied into a temporary package folder.

use std::path::{Path, PathBuf};

use super::*;
use crate::catalog::model::OptionType;

fn shipped(org_name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("catalog/pkgs")
        .join(org_name)
        .join("package.toml");
    std::fs::read_to_string(p).unwrap()
}

/// `pkgs/<org>/<name>/package.toml` in a temp dir holding `text`.
fn package(dir: &tempfile::TempDir, org_name: &str, text: &str) -> PathBuf {
    let folder = dir.path().join("pkgs").join(org_name);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("package.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn pds() -> (tempfile::TempDir, PathBuf, Draft) {
    let dir = tempfile::tempdir().unwrap();
    let text = shipped("bluesky-social/bluesky-pds");
    // test.nix is what makes `smoke = false` valid.
    let file = package(&dir, "bluesky-social/bluesky-pds", &text);
    std::fs::write(file.with_file_name("test.nix"), "{ ... }: null\n").unwrap();
    std::fs::write(
        file.with_file_name("package.nix"),
        "{ generated }: generated\n",
    )
    .unwrap();
    let draft = Draft::open(&file, Context::none()).unwrap();
    (dir, file, draft)
}

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

/// The lines of `a` and `b` that differ, as (line number, old, new).
fn changed_lines(a: &str, b: &str) -> Vec<(usize, String, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a.len(), b.len(), "line count changed");
    a.iter()
        .zip(&b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, (*x).to_string(), (*y).to_string()))
        .collect()
}

#[test]
fn the_schema_lists_metadata_and_service_fields_with_kinds_and_values() {
    let (_dir, _file, draft) = pds();
    assert!(
        validate_all(&draft).is_empty(),
        "{:?}",
        validate_all(&draft)
    );
    let schema = schema_for(&draft);
    let get = |s: &str| {
        schema
            .iter()
            .find(|f| f.path.to_string() == s)
            .unwrap_or_else(|| panic!("{s}"))
    };
    let tier = get("tier");
    assert!(tier.required);
    assert_eq!(tier.value, Some(toml::Value::Integer(1)));
    assert!(matches!(&tier.kind, FieldKind::Enum { choices, .. } if choices.len() == 3));
    assert_eq!(tier.line, 3);
    assert_eq!(get("long_description").kind, FieldKind::MultiLineText);
    assert!(
        matches!(&get("license").kind, FieldKind::List { item } if matches!(**item, FieldKind::Enum { open: true, .. }))
    );
    let port = get("services.bluesky-pds.options.pds_port.default");
    assert_eq!(port.kind, FieldKind::Text, "a str option's default is text");
    assert_eq!(port.value, Some(toml::Value::String("{port:http}".into())));
    assert_eq!(
        get("services.bluesky-pds.options.jwt_secret.default").kind,
        FieldKind::SecretFile
    );
    assert_eq!(get("services.bluesky-pds.ports.http").kind, FieldKind::Port);
    assert!(matches!(
        get("services.bluesky-pds.options.blob_upload_limit.default").kind,
        FieldKind::Integer { .. }
    ));
    // pnpm builder: nodejs and pnpm apply, go does not.
    assert!(schema.iter().any(|f| f.path.to_string() == "build.pnpm"));
    assert!(!schema.iter().any(|f| f.path.to_string() == "build.go"));
    assert!(!schema.iter().any(|f| f.path.to_string() == "source.url"));
    assert!(schema.iter().all(|f| !f.doc.is_empty()));
}

#[test]
fn each_kind_reads_typed_text_and_refuses_what_does_not_fit() {
    let int = FieldKind::Integer { min: 1, max: 3 };
    assert_eq!(parse_input(&int, " 2 ").unwrap(), toml::Value::Integer(2));
    assert!(
        parse_input(&int, "4")
            .unwrap_err()
            .message
            .contains("out of range")
    );
    assert!(parse_input(&int, "two").is_err());
    assert_eq!(
        parse_input(&FieldKind::Port, "443").unwrap(),
        toml::Value::Integer(443)
    );
    assert!(parse_input(&FieldKind::Port, "http").is_err());
    assert_eq!(
        parse_input(&FieldKind::Bool, "true").unwrap(),
        toml::Value::Boolean(true)
    );
    assert!(parse_input(&FieldKind::Bool, "yes").is_err());
    let e = FieldKind::Enum {
        choices: vec![Choice::text("sqlite"), Choice::text("rocksdb")],
        open: false,
    };
    assert_eq!(
        parse_input(&e, "sqlite").unwrap(),
        toml::Value::String("sqlite".into())
    );
    // Not a choice: read as text, for the validator to refuse in its words.
    assert_eq!(
        parse_input(&e, "sqlit").unwrap(),
        toml::Value::String("sqlit".into())
    );
    assert!(check_kind(&e, &toml::Value::Integer(1)).is_err());
    let tier = FieldKind::Enum {
        choices: vec![Choice {
            value: 1.into(),
            label: "1 foundation".into(),
        }],
        open: false,
    };
    assert_eq!(
        parse_input(&tier, "1 foundation").unwrap(),
        toml::Value::Integer(1)
    );
    assert_eq!(parse_input(&tier, "7").unwrap(), toml::Value::Integer(7));
    let list = FieldKind::list_of(FieldKind::Text);
    assert_eq!(
        parse_input(&list, r#"["a", "b"]"#).unwrap(),
        toml::Value::Array(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        parse_input(&list, "MIT").unwrap(),
        toml::Value::Array(vec!["MIT".into()])
    );
    assert!(parse_input(&FieldKind::list_of(FieldKind::Port), "[1, \"x\"]").is_err());
    assert!(parse_input(&list, "[1").is_err());
    assert_eq!(
        parse_input(&FieldKind::Text, "a \"b\"").unwrap(),
        toml::Value::String("a \"b\"".into())
    );
    assert_eq!(
        parse_input(&FieldKind::Toml, "false").unwrap(),
        toml::Value::Boolean(false)
    );
    assert!(parse_input(&FieldKind::Path, "/var/lib/x").is_ok());
    let secret = parse_input(
        &FieldKind::SecretFile,
        "ghp_0123456789abcdefABCDEF0123456789abcd",
    )
    .unwrap_err();
    assert!(
        secret.message.contains("looks like a secret itself"),
        "{secret:?}"
    );
    assert!(secret.message.contains("GitHub"), "{secret:?}");
    assert!(parse_input(&FieldKind::SecretFile, "-----BEGIN PRIVATE KEY-----").is_err());
    assert!(parse_input(&FieldKind::SecretFile, "/run/secrets/pds-jwt").is_ok());
}

#[test]
fn a_set_changes_exactly_its_line_and_saves_atomically() {
    let (_dir, file, mut draft) = pds();
    let before = std::fs::read_to_string(&file).unwrap();
    draft.set(&p("tier"), toml::Value::Integer(2)).unwrap();
    draft
        .set(
            &p("services.bluesky-pds.options.pds_port.default"),
            toml::Value::String("3000".into()),
        )
        .unwrap();
    let saved = draft.save().unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    let lines = changed_lines(&before, &after);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].2, "tier = 2");
    assert_eq!(lines[1].2, "default = \"3000\"");
    let fields: Vec<String> = saved.changes.iter().map(|c| c.field.to_string()).collect();
    assert_eq!(
        fields,
        ["services.bluesky-pds.options.pds_port.default", "tier"]
    );
    assert!(!draft.is_dirty());
    // Saving again writes nothing.
    assert!(draft.save().unwrap().changes.is_empty());
}

#[test]
fn invalid_values_are_reported_with_the_validators_words_and_never_written() {
    let (_dir, file, mut draft) = pds();
    let before = std::fs::read(&file).unwrap();
    let path = p("description");
    let d = validate_field(&draft, &path, Some(&toml::Value::String("The PDS.".into())));
    assert!(!d.is_empty());
    assert!(d.iter().all(|d| d.field == "description"), "{d:?}");
    assert!(d.iter().any(|d| d.message.contains("period")), "{d:?}");
    draft
        .set(&path, toml::Value::String("The PDS.".into()))
        .unwrap();
    let Err(SaveError::Invalid(problems)) = draft.save() else {
        panic!("an invalid draft was saved");
    };
    assert!(
        problems
            .iter()
            .any(|d| d.field == "description" && d.line == 5),
        "{problems:?}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the file is untouched"
    );

    // A kind mismatch is refused before it reaches the draft.
    let err = draft.set(&p("tier"), "two".into()).unwrap_err();
    assert_eq!(err.field, "tier");
    assert_eq!(err.line, 3);
    // A value of the right type is the validator's to judge, in its words.
    let d = validate_field(&draft, &p("tier"), Some(&toml::Value::Integer(7)));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "tier 7 is out of range");
    assert_eq!(d[0].line, 3);
    // A port that breaks a placeholder elsewhere is reported as caused by this change.
    let d = validate_field(&draft, &p("services.bluesky-pds.ports.http"), None);
    assert!(d.iter().any(|d| d.message.contains("{port:http}")), "{d:?}");
}

#[test]
fn a_secret_file_field_takes_no_secret_and_the_catalog_no_default() {
    let (_dir, _file, draft) = pds();
    let path = p("services.bluesky-pds.options.jwt_secret.default");
    let key = toml::Value::String("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA".into());
    let d = validate_field(&draft, &path, Some(&key));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("looks like a secret itself"), "{d:?}");
    assert!(d[0].message.contains("PEM block"), "{d:?}");
    // A path is of the field's kind, and the catalog's rule still says no default here.
    let d = validate_field(&draft, &path, Some(&"/run/secrets/jwt".into()));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "a secret-file option never has a default");
    // Written by hand, the validator names the secret too.
    let text = draft.text().replace(
        "type = \"secret-file\"\ndescription = \"File holding the JWT",
        "type = \"secret-file\"\ndefault = \"ghp_0123456789abcdefABCDEF0123456789abcd\"\ndescription = \"File holding the JWT",
    );
    let by_hand = Draft::from_bytes(draft.path(), text.into_bytes(), Context::none()).unwrap();
    let d = validate_all(&by_hand);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.ends_with(
            "looks like the secret itself (it starts like a GitHub personal access token)"
        ),
        "{d:?}"
    );
}

#[test]
fn unknown_fields_get_a_did_you_mean() {
    let (_dir, _file, mut draft) = pds();
    let err = draft.set(&p("teir"), toml::Value::Integer(2)).unwrap_err();
    assert!(err.message.contains("unknown field `teir`"), "{err:?}");
    assert_eq!(err.hint.as_deref(), Some("did you mean `tier`?"));
}

#[test]
fn a_change_on_disk_is_a_conflict_with_three_values_per_field() {
    let (_dir, file, mut draft) = pds();
    draft.set(&p("tier"), toml::Value::Integer(2)).unwrap();
    draft
        .set(&p("category"), toml::Value::String("application".into()))
        .unwrap();
    // Someone else changes the tier and the homepage meanwhile.
    let theirs = std::fs::read_to_string(&file)
        .unwrap()
        .replace("tier = 1", "tier = 3")
        .replace(
            "https://github.com/bluesky-social/pds",
            "https://example.org/pds",
        );
    std::fs::write(&file, &theirs).unwrap();
    let Err(SaveError::Conflict(c)) = draft.save() else {
        panic!("overwrote a file changed on disk");
    };
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        theirs,
        "nothing written"
    );
    let tier = c
        .fields
        .iter()
        .find(|f| f.field.to_string() == "tier")
        .unwrap();
    assert_eq!(
        (tier.base.clone(), tier.ours.clone(), tier.theirs.clone()),
        (Some(1.into()), Some(2.into()), Some(3.into()))
    );
    assert!(tier.is_both_changed());
    let home = c
        .fields
        .iter()
        .find(|f| f.field.to_string() == "homepage")
        .unwrap();
    assert!(!home.is_both_changed());

    let mut disk_wins = draft.resolve(&c, Resolution::TakeDisk).unwrap();
    assert_eq!(disk_wins.value(&p("tier")), Some(3.into()));
    assert_eq!(disk_wins.value(&p("category")), Some("application".into()));
    let mut mine = draft.resolve(&c, Resolution::KeepMine).unwrap();
    assert_eq!(mine.value(&p("tier")), Some(2.into()));
    assert_eq!(
        mine.value(&p("homepage")),
        Some("https://example.org/pds".into())
    );
    let chosen = draft.resolve_per_field(&c, &[p("category")]).unwrap();
    assert_eq!(
        chosen.value(&p("tier")),
        Some(2.into()),
        "ours, not chosen for the disk"
    );
    assert_eq!(chosen.value(&p("category")), Some("infrastructure".into()));
    let reopened = draft.resolve(&c, Resolution::Reopen).unwrap();
    assert!(reopened.changes().is_empty());
    mine.save().unwrap();
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.contains("tier = 2") && now.contains("https://example.org/pds"));
    // The other resolution was based on the same disk bytes, which are gone now.
    assert!(matches!(disk_wins.save(), Err(SaveError::Conflict(_))));
}

#[test]
fn services_and_options_are_added_and_removed() {
    let (_dir, _file, mut draft) = pds();
    let before = draft.text();
    draft
        .apply(Change::Structural(Structural::AddOption {
            service: "bluesky-pds".into(),
            name: "log_level".into(),
            ty: OptionType::Enum,
            description: "Log level".into(),
        }))
        .unwrap();
    let d = validate_all(&draft);
    assert!(
        d.iter().any(|d| d.field.ends_with("log_level.values")),
        "{d:?}"
    );
    draft
        .set(
            &p("services.bluesky-pds.options.log_level.values"),
            toml::Value::Array(vec!["info".into(), "debug".into()]),
        )
        .unwrap();
    draft
        .set(
            &p("services.bluesky-pds.options.log_level.default"),
            "info".into(),
        )
        .unwrap();
    draft
        .set(
            &p("services.bluesky-pds.options.log_level.env"),
            "LOG_LEVEL".into(),
        )
        .unwrap();
    assert!(
        validate_all(&draft).is_empty(),
        "{:?}",
        validate_all(&draft)
    );
    let text = draft.text();
    assert!(
        text.starts_with(&before),
        "the new option is appended after the last one:\n{text}"
    );
    assert!(text.ends_with(
        "\n[services.bluesky-pds.options.log_level]\ntype = \"enum\"\ndescription = \"Log level\"\nvalues = [\"info\", \"debug\"]\ndefault = \"info\"\nenv = \"LOG_LEVEL\"\n"
    ) || text.contains("[services.bluesky-pds.options.log_level]\ntype = \"enum\"\ndefault = \"info\"\ndescription = \"Log level\"\nenv = \"LOG_LEVEL\"\nvalues = [\"info\", \"debug\"]\n"), "{text}");
    let existing = Change::Structural(Structural::AddOption {
        service: "bluesky-pds".into(),
        name: "log_level".into(),
        ty: OptionType::Str,
        description: String::new(),
    });
    assert!(
        draft
            .apply(existing)
            .unwrap_err()
            .message
            .contains("already exists")
    );
    draft
        .apply(Change::Structural(Structural::AddService {
            name: "pds-extra".into(),
            exec: vec!["pds".into()],
        }))
        .unwrap();
    assert!(
        draft
            .text()
            .ends_with("\n[services.pds-extra]\nexec = [\"pds\"]\n"),
        "{}",
        draft.text()
    );
    assert!(
        validate_all(&draft).is_empty(),
        "{:?}",
        validate_all(&draft)
    );
    draft
        .apply(Change::Structural(Structural::RemoveService {
            name: "pds-extra".into(),
        }))
        .unwrap();
    draft
        .apply(Change::Structural(Structural::RemoveOption {
            service: "bluesky-pds".into(),
            name: "log_level".into(),
        }))
        .unwrap();
    assert_eq!(draft.text(), before);
}

#[test]
fn list_items_are_inserted_moved_and_removed_in_place() {
    let (_dir, _file, mut draft) = pds();
    let list = p("build.native_build_inputs");
    let op = |s: Structural| Change::Structural(s);
    draft
        .apply(op(Structural::ListInsert {
            list: list.clone(),
            index: 0,
            value: "cmake".into(),
        }))
        .unwrap();
    assert!(
        draft
            .text()
            .contains("native_build_inputs = [\"cmake\", \"python3\", \"pkg-config\"]"),
        "{}",
        draft.text()
    );
    draft
        .apply(op(Structural::ListMove {
            list: list.clone(),
            from: 0,
            to: 2,
        }))
        .unwrap();
    assert!(
        draft
            .text()
            .contains("native_build_inputs = [\"python3\", \"pkg-config\", \"cmake\"]"),
        "{}",
        draft.text()
    );
    draft
        .apply(op(Structural::ListRemove {
            list: list.clone(),
            index: 0,
        }))
        .unwrap();
    assert!(
        draft
            .text()
            .contains("native_build_inputs = [\"pkg-config\", \"cmake\"]"),
        "{}",
        draft.text()
    );
    assert!(
        draft
            .apply(op(Structural::ListRemove {
                list: list.clone(),
                index: 5
            }))
            .is_err()
    );
    let bad = op(Structural::ListInsert {
        list: p("services.bluesky-pds.public_ports"),
        index: 0,
        value: "nope".into(),
    });
    draft.apply(bad).unwrap();
    let d = validate_all(&draft);
    assert!(
        d.iter()
            .any(|d| d.message == "`nope` names no port of this service"),
        "{d:?}"
    );
    assert!(draft.undo());
    let bad = op(Structural::ListInsert {
        list: p("build.build_inputs"),
        index: 0,
        value: 1.into(),
    });
    assert!(
        draft.apply(bad).is_err(),
        "a number is no item of a text list"
    );
    // Undo walks back through the changes, redo forward again.
    assert!(draft.undo() && draft.undo());
    assert!(
        draft
            .text()
            .contains("native_build_inputs = [\"cmake\", \"python3\", \"pkg-config\"]")
    );
    assert!(draft.redo());
    assert!(
        draft
            .text()
            .contains("native_build_inputs = [\"python3\", \"pkg-config\", \"cmake\"]")
    );
}

#[test]
fn unset_keeps_comments_and_new_keys_go_where_the_format_lists_them() {
    let (_dir, _file, mut draft) = pds();
    draft.unset(&p("main_program")).unwrap();
    assert!(!draft.text().contains("main_program"));
    draft.set(&p("main_program"), "pds".into()).unwrap();
    assert!(
        draft.text().contains(
            "platforms = [\"x86_64-linux\", \"aarch64-linux\"]\nmain_program = \"pds\"\n"
        ),
        "{}",
        draft.text()
    );
    // The comment above `smoke` survives its removal: it moves to the next key.
    draft.unset(&p("check.smoke")).unwrap();
    draft.set(&p("check.smoke_expect"), "Usage".into()).unwrap();
    assert!(
        draft.text().contains("[check]\n# `pds` takes no arguments"),
        "{}",
        draft.text()
    );
    assert!(
        draft
            .unset(&p("tier"))
            .unwrap_err()
            .message
            .contains("required")
    );
    // A map entry is a field of its own; a missing map is created inline.
    draft
        .set(
            &p("build.env.NODE_OPTIONS"),
            "--max-old-space-size=4096".into(),
        )
        .unwrap();
    assert!(
        draft
            .text()
            .contains("env = { NODE_OPTIONS = \"--max-old-space-size=4096\" }"),
        "{}",
        draft.text()
    );
}

#[test]
fn a_multi_line_description_is_written_as_a_multi_line_string() {
    let (_dir, _file, mut draft) = pds();
    draft
        .set(
            &p("long_description"),
            "First line.\nSecond \"line\".".into(),
        )
        .unwrap();
    assert!(
        draft
            .text()
            .contains("long_description = \"\"\"\nFirst line.\nSecond \"line\".\"\"\"\n"),
        "{}",
        draft.text()
    );
    assert!(validate_all(&draft).is_empty());
}
