//! `atwb set NAME FIELD VALUE [--json]`: the headless twin of the edit forms. The same field
//! schema, validation (the catalog validator's rules and messages) and writer
//! (format-preserving, atomic, conflict-refusing) as the TUI; invalid input exits 1 with the
//! diagnostics and leaves the file untouched.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use super::output::{
    JsonDiagnostic, Mode, load_catalog, shown_path, with_stdout, write_diagnostic,
};
use crate::catalog::Diagnostic;
use crate::catalog::edit::{find_package_file, package_files};
use crate::catalog::fields::{
    Context, Draft, FieldChange, FieldPath, SaveError, parse_input, render_value, schema_for,
    validate_all,
};
use crate::search::did_you_mean;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  atwb set leaflet tier 2\n  \
    atwb set bluesky-pds services.bluesky-pds.options.pds_port.default 3000\n  \
    atwb set goat license '[\"MIT\", \"Apache-2.0\"]'\n  atwb set goat main_program --unset\n  \
    atwb set goat --list")]
pub struct SetArgs {
    /// The package (its folder name).
    pub name: String,
    /// The field as a dotted key, e.g. `tier` or `services.<svc>.options.<opt>.default`.
    #[arg(required_unless_present = "list")]
    pub field: Option<String>,
    /// The new value: text as it is, numbers and booleans as written, lists as TOML
    /// (`'["a", "b"]'`).
    #[arg(required_unless_present_any = ["unset", "list"], conflicts_with = "unset")]
    pub value: Option<String>,
    /// Remove an optional field from the file.
    #[arg(long)]
    pub unset: bool,
    /// List the package's editable fields with their kinds and values.
    #[arg(long, conflicts_with_all = ["value", "unset"])]
    pub list: bool,
    /// Print what changed (or the diagnostics) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    file: String,
    changes: &'a [FieldChange],
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

pub fn run(args: &SetArgs, root: &Path) -> Result<ExitCode> {
    let file = package_file(root, &args.name)?;
    // The other packages take part in the catalog-wide rules (a default port no two share).
    let loaded = load_catalog(root)?;
    let mut draft = Draft::open(&file, Context::from_catalog(&loaded.catalog, &file))?;
    if args.list {
        return list_fields(&draft, args.json);
    }
    let field = args.field.as_deref().unwrap_or_default();
    let outcome = edit(&mut draft, field, args);
    let (changes, diagnostics) = match &outcome {
        Ok(changes) => (changes.as_slice(), Vec::new()),
        Err(diagnostics) => (&[][..], diagnostics.iter().collect::<Vec<_>>()),
    };
    with_stdout(Mode::of(args.json), |out| {
        if args.json {
            let report = Report {
                ok: outcome.is_ok(),
                file: shown_path(&file),
                changes,
                diagnostics: diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::from(*d))
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            return writeln!(out);
        }
        if outcome.is_ok() {
            write_changes(out, &file, changes)?;
        }
        Ok(())
    })?;
    if outcome.is_err() && !args.json {
        let mut err = super::output::Sanitized::new(std::io::stderr().lock(), Mode::Text);
        for d in &diagnostics {
            write_diagnostic(&mut err, d)?;
        }
        writeln!(err, "atwb: nothing written to {}", shown_path(&file))?;
        err.flush()?;
    }
    Ok(if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Apply the one change and save; the diagnostics when it is refused.
fn edit(
    draft: &mut Draft,
    field: &str,
    args: &SetArgs,
) -> Result<Vec<FieldChange>, Vec<Diagnostic>> {
    let file = draft.path().to_path_buf();
    let diag = |message: String, hint: &str| {
        vec![Diagnostic::new(file.clone(), (0, 0), field, message, hint)]
    };
    let Some(path) = FieldPath::parse(field) else {
        return Err(diag(
            format!("`{field}` is not a dotted field name"),
            "write e.g. tier, source.rev or services.<service>.ports.http; quote keys with dots: build.env.\"A.B\"",
        ));
    };
    // Problems the file has before the edit would block the save too: say so first.
    let before = validate_all(draft);
    if args.unset {
        draft.unset(&path).map_err(|d| vec![d])?;
    } else {
        let text = args.value.as_deref().unwrap_or_default();
        let Some(f) = draft.field(&path) else {
            // `set` reports the unknown field with its did-you-mean.
            return Err(vec![
                draft.set(&path, toml::Value::Boolean(false)).unwrap_err(),
            ]);
        };
        let value = parse_input(&f.kind, text).map_err(|p| {
            let line = draft.line_of(&path);
            vec![Diagnostic::new(
                draft.path().to_path_buf(),
                (line, usize::from(line > 0)),
                path.to_string(),
                p.message,
                p.hint,
            )]
        })?;
        draft.set(&path, value).map_err(|d| vec![d])?;
    }
    match draft.save() {
        Ok(saved) => Ok(saved.changes),
        Err(SaveError::Invalid(mut problems)) => {
            if !before.is_empty() {
                problems.push(Diagnostic::new(
                    draft.path().to_path_buf(),
                    (0, 0),
                    "",
                    format!(
                        "the file already had {} problem(s) before this change",
                        before.len()
                    ),
                    "fix those first (atwb check shows them): a save writes only a valid file",
                ));
            }
            Err(problems)
        }
        Err(SaveError::Conflict(c)) => Err(diag(
            format!(
                "{} changed on disk while it was being edited",
                shown_path(&c.file)
            ),
            "run the command again",
        )),
        Err(SaveError::Io(e)) => Err(diag(
            e.to_string(),
            "check the file's permissions and the disk",
        )),
    }
}

fn write_changes(out: &mut dyn Write, file: &Path, changes: &[FieldChange]) -> std::io::Result<()> {
    if changes.is_empty() {
        return writeln!(
            out,
            "{}: unchanged (the field already had that value)",
            shown_path(file)
        );
    }
    let show = |v: &Option<toml::Value>| v.as_ref().map_or("(unset)".to_string(), render_value);
    for c in changes {
        writeln!(
            out,
            "{}: {}: {} -> {}",
            shown_path(file),
            c.field,
            show(&c.old),
            show(&c.new)
        )?;
    }
    Ok(())
}

fn list_fields(draft: &Draft, json: bool) -> Result<ExitCode> {
    let schema = schema_for(draft);
    with_stdout(Mode::of(json), |out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, &schema)?;
            return writeln!(out);
        }
        for f in &schema {
            let value = f
                .value
                .as_ref()
                .map_or_else(|| "(unset)".to_string(), render_value);
            let req = if f.required { " (required)" } else { "" };
            writeln!(
                out,
                "{} = {value}  # {}{req}: {}",
                f.path,
                f.kind.describe(),
                f.doc
            )?;
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `pkgs/<org>/<name>/package.toml`, or an error naming the closest package.
fn package_file(root: &Path, name: &str) -> Result<std::path::PathBuf> {
    if let Some(f) = find_package_file(root, name) {
        return Ok(f);
    }
    let files = package_files(root);
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| {
            f.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .collect();
    match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(m) => bail!("no package named `{name}`; did you mean `{m}`?"),
        None => bail!("no package named `{name}` (run `atwb list` to see them all)"),
    }
}
