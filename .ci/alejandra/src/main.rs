//! `alejandra [--check] [--quiet] [--exclude PATH]... [PATH...]`: format `.nix` files in place
//! (or, with `--check`, only report those that need it), with the command line and exit codes of
//! upstream's `alejandra` binary so that `alejandra --check .` means the same with either:
//! 0 all formatted (or formatted now), 1 an error (a file does not parse or cannot be written),
//! 2 `--check` found files to format. No path, or `-`, formats stdin to stdout.
//!
//! Directories are walked without following symlinks; `.git`, `target` and `node_modules` are
//! skipped (build output and vendored code are not ours to format).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alejandra::format::{self, Status};

const SKIPPED_DIRS: [&str; 3] = [".git", "target", "node_modules"];

const USAGE: &str = "\
Usage: alejandra [--check] [--quiet] [--exclude PATH]... [PATH...]

Formats every .nix file under PATH in place (stdin to stdout for no PATH or `-`).
  -c, --check         write nothing; list the files that need formatting
  -e, --exclude PATH  skip this file or directory (repeatable)
  -q, --quiet         once: no informational messages; twice: no error messages
  -V, --version       print the version of the formatter
Exit status: 1 on any error, 2 if --check found files to format, 0 otherwise.";

#[derive(Default)]
struct Args {
    check: bool,
    quiet: u8,
    include: Vec<PathBuf>,
    exclude: Vec<PathBuf>,
}

enum Parsed {
    Run(Args),
    Exit(ExitCode),
}

fn parse_args(words: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut args = Args::default();
    let mut words = words.into_iter();
    while let Some(arg) = words.next() {
        match arg.as_str() {
            "-c" | "--check" => args.check = true,
            "-q" | "--quiet" => args.quiet += 1,
            "-qq" => args.quiet += 2,
            "-e" | "--exclude" => {
                let path = words.next().ok_or("--exclude needs a path")?;
                args.exclude.push(path.into());
            }
            "-V" | "--version" => {
                println!("Alejandra {}", alejandra::version::VERSION);
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            flag if flag.starts_with('-') && flag != "-" => {
                return Err(format!("unknown option `{flag}`\n\n{USAGE}"));
            }
            path => args.include.push(path.into()),
        }
    }
    Ok(Parsed::Run(args))
}

/// `path` without `.` components, so `./a/b` and `a/b` compare equal.
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect()
}

/// Every `.nix` file under `path` (or `path` itself), not below an excluded path.
fn collect(path: &Path, exclude: &[PathBuf], out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if exclude.iter().any(|e| normal(path).starts_with(normal(e))) {
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        let mut entries = std::fs::read_dir(path)?.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let skipped = SKIPPED_DIRS.iter().any(|d| entry.file_name() == *d);
            if !(skipped && entry.file_type()?.is_dir()) {
                collect(&entry.path(), exclude, out)?;
            }
        }
    } else if meta.is_file() && path.extension().is_some_and(|e| e == "nix") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Replace `path` by `text` through a temporary file in the same directory, so a reader (or a
/// crash) never sees half a file; the original's permissions are kept.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.alejandra-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::metadata(path)?.permissions())?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether the file needed formatting; an error names what went wrong.
fn format_file(path: &Path, in_place: bool) -> Result<bool, String> {
    let before = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    match format::in_memory(path.display().to_string(), before) {
        (Status::Error(e), _) => Err(e),
        (Status::Changed(false), _) => Ok(false),
        (Status::Changed(true), after) => {
            if in_place {
                write_atomically(path, &after).map_err(|e| format!("writing: {e}"))?;
            }
            Ok(true)
        }
    }
}

fn format_stdin() -> ExitCode {
    let mut before = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut before) {
        eprintln!("reading stdin: {e}");
        return ExitCode::from(1);
    }
    let (status, after) = format::in_memory("<stdin>".into(), before);
    print!("{after}");
    match status {
        Status::Error(e) => {
            eprintln!("<stdin>: {e}");
            ExitCode::from(1)
        }
        Status::Changed(_) => ExitCode::SUCCESS,
    }
}

fn run(args: &Args) -> ExitCode {
    let mut files = Vec::new();
    for path in &args.include {
        if let Err(e) = collect(path, &args.exclude, &mut files) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    let info = args.quiet == 0;
    if info {
        eprintln!("Checking style in {} files.", files.len());
    }
    let (mut changed, mut errors) = (0, Vec::new());
    for file in &files {
        match format_file(file, !args.check) {
            Ok(false) => {}
            Ok(true) => {
                changed += 1;
                if info {
                    let what = if args.check {
                        "Requires formatting"
                    } else {
                        "Formatted"
                    };
                    println!("{what}: {}", file.display());
                }
            }
            Err(e) => errors.push(format!("- {}: {e}", file.display())),
        }
    }
    if !errors.is_empty() {
        if args.quiet < 2 {
            eprintln!(
                "Failed! {} errors found at:\n{}",
                errors.len(),
                errors.join("\n")
            );
        }
        return ExitCode::from(1);
    }
    if info {
        let verb = if args.check {
            "require formatting"
        } else {
            "were formatted"
        };
        eprintln!("{changed} of {} files {verb}.", files.len());
    }
    ExitCode::from(if args.check && changed > 0 { 2 } else { 0 })
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Ok(Parsed::Exit(code)) => code,
        Ok(Parsed::Run(args)) if args.include.is_empty() || args.include == [Path::new("-")] => {
            format_stdin()
        }
        Ok(Parsed::Run(args)) => run(&args),
    }
}
