//! A build hook that declines at once, for builds on a machine with no remote builders.
//!
//! Before each local build nix starts its build hook (`build-remote`, or `nix __build-remote`
//! on newer Nix) to ask whether a remote machine should take it; with no machines configured the
//! hook reads nix's settings and answers `# decline-permanently` on its stderr. It is a second
//! nix binary to load every time: measured here, a fresh trivial `nix build DRV` costs 54 ms of
//! CPU with it and 27 ms with a hook that declines at once (Nix 2.8; 51 → 33 ms on Nix 2.34.8).
//! One nix process per target pays that once per target, so atwb points `build-hook` at itself,
//! through a symlink named [`HOOK_NAME`] (Nix 2.8 runs the setting as one path, newer Nix splits
//! it at spaces, so a plain path without arguments suits both; atwb knows by the name it was
//! started under). It gives the same answer, but only when the answer is certain:
//! no remote machine in atwb's config or nix's, nix's own hook in place, a local store (with a
//! daemon, `build-hook` is the daemon's and a client's value is ignored with a warning), and Nix
//! 2.8 or later: checked with 2.8 and 2.34.8, the two ends of that range, which speak the same
//! hook protocol; not Lix, whose builder code has been rewritten.

use std::io::{Read, Write};
use std::path::Path;

use super::version::NixVersion;
use crate::config::builders::{Entry, entries};

/// The name under which atwb is the declining hook.
pub const HOOK_NAME: &str = "atwb-nix-build-hook";

/// The executable that answers as the hook, set by atwb's `main` (a library user, a test binary
/// say, is not atwb and cannot answer: then nix keeps its own hook).
static HOOK_EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// This process is atwb, and `exe` can be started as the hook.
pub fn set_hook_exe(exe: std::path::PathBuf) {
    let _ = HOOK_EXE.set(exe);
}

pub fn hook_exe() -> Option<&'static Path> {
    HOOK_EXE.get().map(std::path::PathBuf::as_path)
}

/// Whether this process was started as the hook (by the name in `argv[0]`).
pub fn started_as_hook() -> bool {
    std::env::args_os()
        .next()
        .is_some_and(|a| Path::new(&a).file_name() == Some(HOOK_NAME.as_ref()))
}

/// `dir/atwb-nix-build-hook`, a symlink to `exe`, made (or repointed, atomically) if needed.
pub fn hook_link(dir: &Path, exe: &Path) -> std::io::Result<std::path::PathBuf> {
    let link = dir.join(HOOK_NAME);
    if std::fs::read_link(&link).is_ok_and(|t| t == exe) {
        return Ok(link);
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{HOOK_NAME}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(exe, &tmp)?;
    std::fs::rename(&tmp, &link)?;
    Ok(link)
}

/// Be the hook: decline, then read nix's settings and requests to their end, so nix never
/// writes into a closed pipe (it stops the hook itself once it has the answer).
pub fn run_declining_hook() -> std::process::ExitCode {
    let mut err = std::io::stderr();
    let _ = err.write_all(b"# decline-permanently\n");
    let _ = err.flush();
    let mut sink = [0u8; 4096];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    std::process::ExitCode::SUCCESS
}

/// What the engine knows when it decides.
pub struct Facts<'a> {
    pub version: Option<NixVersion>,
    /// `nix show-config --json`.
    pub config: &'a serde_json::Value,
    /// atwb's own `[jobs] builders`.
    pub atwb_builders: Option<&'a str>,
    /// `NIX_REMOTE` from the environment.
    pub nix_remote: Option<&'a str>,
    /// Whether nix's state directory (`/nix/var/nix`) is readable and writable to us, which is
    /// how nix's `auto` store picks the local store over the daemon.
    pub state_dir_writable: bool,
}

impl Facts<'_> {
    /// The store nix uses: `NIX_REMOTE`, else its `store` setting, else `auto`.
    pub fn store(&self) -> &str {
        self.nix_remote
            .or(self.config["store"]["value"].as_str())
            .unwrap_or("auto")
    }
}

/// Whether declining is certain to be nix's own answer, so `hook` (atwb under [`HOOK_NAME`])
/// may be nix's `build-hook`: its value then; None: leave nix's hook alone.
pub fn declining_hook(facts: &Facts, hook: &Path) -> Option<String> {
    let v = facts.version?;
    let checked = !v.lix && (v.major, v.minor) >= (2, 8);
    let setting = |name: &str| facts.config[name]["value"].as_str();
    let local = match facts.store() {
        "" | "auto" => facts.state_dir_writable,
        "local" => true,
        _ => false,
    };
    let own_hook = setting("build-hook")
        .is_some_and(|h| h.ends_with("/build-remote") || h.ends_with(" __build-remote"));
    let no_machines = facts.atwb_builders.is_none()
        && setting("builders").is_some_and(|b| !has_machines(b, &|p| std::fs::read_to_string(p)));
    // Newer nix splits the setting at spaces: a path with one cannot be given.
    let hook = hook.to_str().filter(|e| !e.contains(char::is_whitespace))?;
    (checked && local && own_hook && no_machines).then(|| hook.to_string())
}

/// Whether this process may read and write `path` (access(2), as nix checks its state dir).
pub fn read_write_access(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) == 0 }
}

/// Whether a `builders` value names a machine, its entries read as nix reads them (see
/// `config::builders`): a machine, or an `@FILE` whose text names one. A missing FILE names
/// none, as for nix; one that is there but cannot be read counts as a machine: nix passes over
/// only a missing file (any other read error is an error of its own), so declining would not
/// be certain.
fn has_machines(value: &str, read: &dyn Fn(&Path) -> std::io::Result<String>) -> bool {
    entries(value).any(|(_, entry)| match entry {
        Entry::Machine(_) => true,
        Entry::File(file) => match read(Path::new(file)) {
            Ok(text) => has_machines(&text, read),
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(builders: &str, hook: &str, store: &str) -> serde_json::Value {
        serde_json::json!({
            "builders": {"value": builders},
            "build-hook": {"value": hook},
            "store": {"value": store},
        })
    }

    fn facts<'a>(config: &'a serde_json::Value, version: &str) -> Facts<'a> {
        Facts {
            version: NixVersion::parse(version),
            config,
            atwb_builders: None,
            nix_remote: None,
            state_dir_writable: true,
        }
    }

    #[test]
    fn machines_are_counted_as_nix_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("machines");
        let read = |p: &Path| std::fs::read_to_string(p);
        let at = format!("@{}", file.display());
        assert!(!has_machines("", &read));
        assert!(!has_machines(&at, &read), "a missing file has none");
        std::fs::write(&file, "# none yet\n\n").unwrap();
        assert!(!has_machines(&at, &read));
        std::fs::write(&file, "ssh://builder x86_64-linux\n").unwrap();
        assert!(has_machines(&at, &read));
        assert!(has_machines("ssh://a x86_64-linux ; ssh://b", &read));
        assert!(!has_machines(" # ssh://a ;\n", &read), "comments only");
        // A file's text is entries too: `;`, comments and `@` in it as in the setting.
        let inner = dir.path().join("more");
        std::fs::write(&file, format!("# see\n@{} # there\n", inner.display())).unwrap();
        assert!(!has_machines(&at, &read), "the file it names is missing");
        std::fs::write(&inner, "; ssh://c x86_64-linux").unwrap();
        assert!(has_machines(&at, &read));
        // A file that is there but cannot be read: nix's hook would fail, so not certain.
        std::fs::write(&file, "").unwrap();
        let unreadable = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(has_machines(&at, &unreadable));
    }

    #[test]
    fn atwb_declines_only_where_nix_would() {
        let exe = Path::new("/state/atwb/bin/atwb-nix-build-hook");
        let plain = config("", "/usr/libexec/nix/build-remote", "auto");
        let want = Some("/state/atwb/bin/atwb-nix-build-hook".to_string());
        assert_eq!(declining_hook(&facts(&plain, "nix (Nix) 2.8.0"), exe), want);
        let newer = config("", "/usr/bin/nix __build-remote", "auto");
        assert_eq!(
            declining_hook(&facts(&newer, "nix (Nix) 2.34.8"), exe),
            want
        );
        // Lix, an unknown nix, a remote machine anywhere, a custom hook, a daemon, a space.
        let no = |f: &Facts, exe: &Path| assert_eq!(declining_hook(f, exe), None);
        no(&facts(&newer, "nix (Lix, like Nix) 2.91.1"), exe);
        no(&facts(&plain, "something else"), exe);
        let remote = config(
            "ssh://b x86_64-linux",
            "/usr/libexec/nix/build-remote",
            "auto",
        );
        no(&facts(&remote, "nix (Nix) 2.8.0"), exe);
        let mut f = facts(&plain, "nix (Nix) 2.8.0");
        f.atwb_builders = Some("ssh://b");
        no(&f, exe);
        no(
            &facts(
                &config("", "/usr/local/bin/my-hook", "auto"),
                "nix (Nix) 2.8.0",
            ),
            exe,
        );
        let mut f = facts(&plain, "nix (Nix) 2.8.0");
        f.state_dir_writable = false;
        no(&f, exe);
        no(
            &facts(
                &config("", "/usr/libexec/nix/build-remote", "daemon"),
                "nix (Nix) 2.8.0",
            ),
            exe,
        );
        let mut f = facts(&plain, "nix (Nix) 2.8.0");
        f.nix_remote = Some("daemon");
        no(&f, exe);
        no(
            &facts(&plain, "nix (Nix) 2.8.0"),
            Path::new("/my apps/atwb-nix-build-hook"),
        );
    }

    #[test]
    fn the_link_is_made_once_and_repointed_when_atwb_moved() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let link = hook_link(&bin, Path::new("/old/atwb")).unwrap();
        assert_eq!(link, bin.join(HOOK_NAME));
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/old/atwb"));
        hook_link(&bin, Path::new("/new/atwb")).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/new/atwb"));
        assert_eq!(
            std::fs::read_dir(&bin).unwrap().count(),
            1,
            "no temp link left"
        );
    }
}
