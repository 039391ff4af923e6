//! The loader on catalogs built to hurt it: nesting deep enough to overflow a stack, package files
//! that are `/dev/zero`, a FIFO, a huge file or a link out of the catalog. Each case loads in a
//! child process (this test binary run again with `ATWB_HOSTILE_CATALOG` set) on a thread with a
//! 64 KiB stack (the TUI reloads on a worker thread), under a 1 GiB address-space limit and a
//! timeout, so a stack overflow, an endless read or a hang fails that one test with a message
//! instead of taking the whole test binary (or the machine's memory) down.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use atwb::catalog;

const CHILD_CATALOG: &str = "ATWB_HOSTILE_CATALOG";
const CHILD_OUT: &str = "ATWB_HOSTILE_OUT";
const STACK: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(20);

/// The child's side: load the catalog named by the environment on a small stack and write every
/// diagnostic to the output file. Outside a child run (no environment) there is nothing to do.
#[test]
fn hostile_child_entry_point() {
    let (Some(root), Some(out)) = (std::env::var_os(CHILD_CATALOG), std::env::var_os(CHILD_OUT))
    else {
        return;
    };
    let text = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || match catalog::load(Path::new(&root)) {
            Ok(loaded) => {
                let mut text = format!("packages: {}\n", loaded.catalog.packages.len());
                for d in &loaded.diagnostics {
                    text.push_str(&format!("{d}\n"));
                }
                text
            }
            Err(e) => format!("load error: {e}\n"),
        })
        .unwrap()
        .join()
        .unwrap();
    fs::write(out, text).unwrap();
}

/// Load `root` in a child process; the diagnostics as `atwb check` prints them, or why the child
/// did not finish.
fn load_in_child(root: &Path) -> Result<String, String> {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("diagnostics.txt");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "hostile_child_entry_point",
        "--exact",
        "--test-threads=1",
        "--nocapture",
    ])
    .env(CHILD_CATALOG, root)
    .env(CHILD_OUT, &out)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    // An endless read must fail inside the child, not exhaust the machine.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &raw const limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            return Err(format!("the loader did not finish within {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    if !status.success() {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(format!("the loader's process ended with {status}: {tail}"));
    }
    fs::read_to_string(&out).map_err(|e| format!("no output ({e}); stderr: {stderr}"))
}

/// A temporary catalog with one valid package, `pkgs/example-go/firehose-tap/`.
struct Catalog {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Catalog {
    fn new() -> Catalog {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("catalog");
        let pkg = root.join("pkgs/example-go/firehose-tap");
        fs::create_dir_all(&pkg).unwrap();
        fs::copy(good_package(), pkg.join("package.toml")).unwrap();
        Catalog { _dir: dir, root }
    }

    fn package_dir(&self) -> PathBuf {
        self.root.join("pkgs/example-go/firehose-tap")
    }

    fn package_toml(&self) -> PathBuf {
        self.package_dir().join("package.toml")
    }

    /// Put `before` in front of the good file's text (top-level keys) and `after` behind it.
    fn wrap(&self, before: &str, after: &str) {
        let good = fs::read_to_string(good_package()).unwrap();
        fs::write(self.package_toml(), format!("{before}{good}{after}")).unwrap();
    }

    /// A directory beside the catalog (outside it) holding a copy of the good package.
    fn outside(&self) -> PathBuf {
        let dir = self.root.parent().unwrap().join("elsewhere/firehose-tap");
        fs::create_dir_all(&dir).unwrap();
        fs::copy(good_package(), dir.join("package.toml")).unwrap();
        dir
    }

    fn load(&self) -> String {
        load_in_child(&self.root).unwrap_or_else(|e| panic!("{e}"))
    }
}

fn good_package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/good/catalog/pkgs/example-go/firehose-tap/package.toml")
}

/// The output names `needle` in a diagnostic, and the package did not load.
fn assert_rejected(out: &str, needle: &str) {
    assert!(out.starts_with("packages: 0\n"), "loaded anyway:\n{out}");
    assert!(out.contains(needle), "no `{needle}` in:\n{}", short(out));
    assert!(out.contains("\n  hint: "), "no hint in:\n{}", short(out));
}

fn short(out: &str) -> String {
    out.chars().take(2000).collect()
}

fn parts(n: usize) -> String {
    vec!["a"; n].join(".")
}

#[test]
fn the_unmodified_package_loads_in_a_child_on_a_small_stack() {
    assert_eq!(Catalog::new().load(), "packages: 1\n");
}

#[test]
fn the_shipped_catalog_loads_in_a_child_on_a_small_stack() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
    let out = load_in_child(&shipped).unwrap_or_else(|e| panic!("{e}"));
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("packages: ") && first != "packages: 0",
        "{out}"
    );
}

// ------------------------------------------------------------------ nesting

#[test]
fn a_table_header_with_30000_parts_is_a_diagnostic_not_a_stack_overflow() {
    let c = Catalog::new();
    c.wrap("", &format!("\n[{}]\nx = 1\n", parts(30_000)));
    let out = c.load();
    assert_rejected(&out, "nested more than 32 levels");
    // It points at the header's line, where the 33rd part is.
    let line = fs::read_to_string(c.package_toml())
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(
        out.contains(&format!("package.toml:{line}:")),
        "{}",
        short(&out)
    );
}

#[test]
fn a_dotted_key_with_30000_parts_is_a_diagnostic_not_a_stack_overflow() {
    let c = Catalog::new();
    c.wrap(&format!("{} = 1\n", parts(30_000)), "");
    assert_rejected(&c.load(), "nested more than 32 levels");
}

#[test]
fn a_long_dotted_key_inside_an_inline_table_is_a_diagnostic() {
    let c = Catalog::new();
    c.wrap(&format!("x = {{ {} = 1 }}\n", parts(30_000)), "");
    assert_rejected(&c.load(), "nested more than 32 levels");
}

#[test]
fn arrays_nested_300_deep_are_a_diagnostic_not_a_stack_overflow() {
    let c = Catalog::new();
    c.wrap(&format!("x = {}{}\n", "[".repeat(300), "]".repeat(300)), "");
    assert_rejected(
        &c.load(),
        "package.toml:1:21: toml: arrays and inline tables nested more than 16 deep",
    );
}

#[test]
fn unclosed_arrays_nested_300_deep_are_a_diagnostic() {
    let c = Catalog::new();
    c.wrap("", &format!("\nx = {}\n", "[".repeat(300)));
    assert_rejected(&c.load(), "nested more than 16 deep");
}

#[test]
fn inline_tables_nested_300_deep_are_a_diagnostic_not_a_stack_overflow() {
    let c = Catalog::new();
    c.wrap(
        &format!("x = {}1{}\n", "{a=".repeat(300), "}".repeat(300)),
        "",
    );
    assert_rejected(&c.load(), "nested more than 16 deep");
}

#[test]
fn brackets_inside_strings_and_comments_are_not_nesting() {
    let c = Catalog::new();
    let deep = "[".repeat(300);
    c.wrap(
        &format!(
            "# {deep}\nlong_description = \"\"\"{deep}\"\"\"\nmaintainers = ['{deep}', \"{deep}\\\"\"]\n"
        ),
        "",
    );
    assert_eq!(c.load(), "packages: 1\n");
}

#[test]
fn recovering_from_a_syntax_error_inside_a_string_survives_deep_nesting_after_it() {
    // The invalid escape stops the parser inside the multi-line string; recovering, it resumes at
    // the next line, which the nesting count had (rightly, for valid TOML) taken as string text.
    let c = Catalog::new();
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    c.wrap(&format!("x = \"\"\"\\q\ny = {deep}\n\"\"\"\n"), "");
    assert_rejected(
        &c.load(),
        "package.toml:1:9: x: TOML syntax error: invalid escape",
    );
}

// ------------------------------------------------------------------ what a package file is

#[test]
fn package_toml_linked_to_dev_zero_is_refused_without_reading_it() {
    let c = Catalog::new();
    fs::remove_file(c.package_toml()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", c.package_toml()).unwrap();
    assert_rejected(&c.load(), "outside the catalog");
}

#[test]
fn package_toml_that_is_a_folder_is_refused() {
    let c = Catalog::new();
    fs::remove_file(c.package_toml()).unwrap();
    fs::create_dir(c.package_toml()).unwrap();
    assert_rejected(
        &c.load(),
        "package.toml:0:0: file: is a folder, not a regular file",
    );
}

#[test]
fn package_toml_that_is_a_fifo_is_refused_without_blocking() {
    let c = Catalog::new();
    fs::remove_file(c.package_toml()).unwrap();
    mkfifo(&c.package_toml());
    assert_rejected(&c.load(), "is a FIFO, not a regular file");
}

#[test]
fn package_nix_that_is_a_fifo_is_refused() {
    // atwb does not read package.nix, but Nix would block on it in every evaluation.
    let c = Catalog::new();
    mkfifo(&c.package_dir().join("package.nix"));
    assert_rejected(
        &c.load(),
        "package.nix:0:0: file: is a FIFO, not a regular file",
    );
}

#[test]
fn package_toml_over_one_mib_is_refused_naming_the_cap() {
    let c = Catalog::new();
    let filler = "# padding padding padding padding padding padding padding padding\n";
    c.wrap("", &filler.repeat((2 << 20) / filler.len()));
    assert_rejected(&c.load(), "atwb reads package files of at most 1 MiB");
}

#[test]
fn package_toml_linked_out_of_the_catalog_is_not_followed() {
    let c = Catalog::new();
    let outside = c.outside();
    fs::remove_file(c.package_toml()).unwrap();
    std::os::unix::fs::symlink(outside.join("package.toml"), c.package_toml()).unwrap();
    assert_rejected(&c.load(), "outside the catalog");
}

#[test]
fn package_folder_linked_out_of_the_catalog_is_not_followed() {
    let c = Catalog::new();
    let outside = c.outside();
    fs::remove_dir_all(c.package_dir()).unwrap();
    std::os::unix::fs::symlink(&outside, c.package_dir()).unwrap();
    let out = c.load();
    assert_rejected(
        &out,
        "pkgs/example-go/firehose-tap:0:0: folder: is a link to ",
    );
    assert!(out.contains("outside the catalog"), "{out}");
}

#[test]
fn org_folder_linked_out_of_the_catalog_is_not_followed() {
    let c = Catalog::new();
    let outside = c.outside();
    let org = c.root.join("pkgs/example-go");
    fs::remove_dir_all(&org).unwrap();
    std::os::unix::fs::symlink(outside.parent().unwrap(), &org).unwrap();
    assert_rejected(&c.load(), "pkgs/example-go:0:0: folder: is a link to ");
}

#[test]
fn pkgs_folder_linked_out_of_the_catalog_is_a_load_error() {
    let c = Catalog::new();
    let outside = c.root.parent().unwrap().join("other-pkgs");
    fs::rename(c.root.join("pkgs"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, c.root.join("pkgs")).unwrap();
    let out = c.load();
    assert!(out.starts_with("load error: "), "{out}");
    assert!(out.contains("outside the catalog"), "{out}");
}

#[test]
fn links_that_stay_inside_the_catalog_are_followed() {
    // The documented policy (catalog/README.md): links are followed when they resolve inside the
    // catalog, to a regular file or a folder as the place requires.
    let c = Catalog::new();
    let shared = c.root.join("shared");
    fs::create_dir_all(&shared).unwrap();
    fs::rename(c.package_toml(), shared.join("firehose-tap.toml")).unwrap();
    std::os::unix::fs::symlink("../../../shared/firehose-tap.toml", c.package_toml()).unwrap();
    let orgs = c.root.join("orgs");
    fs::create_dir_all(&orgs).unwrap();
    fs::rename(c.root.join("pkgs/example-go"), orgs.join("example-go")).unwrap();
    std::os::unix::fs::symlink("../orgs/example-go", c.root.join("pkgs/example-go")).unwrap();
    assert_eq!(c.load(), "packages: 1\n");
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}
