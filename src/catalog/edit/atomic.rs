//! Crash-safe writes: one file replaced atomically ([`write_atomic`]), several replaced all or
//! none ([`Transaction`]), and the temporary files a killed atwb left behind removed
//! ([`clean_stale_temp_files`]).
//!
//! Every temporary file is named `.<target>.atwb-<pid>.tmp` (a kept original `.orig`) beside its
//! target, so a rename never crosses a file system and a leftover is recognisably ours.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{EditError, digest};

/// A leftover older than this is removed even when its process is alive (a write takes
/// milliseconds; the pid has been reused, or the process is stuck).
pub const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

const TMP: &str = "tmp";
const ORIG: &str = "orig";

/// `.<name>.atwb-<pid>.<suffix>` beside `path`.
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.atwb-{}.{suffix}", std::process::id()))
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync a directory, so the renames in it survive a power loss.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Write `bytes` to a temp file beside `target` (with the target's permissions) and fsync it.
fn stage(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = side_file(target, TMP);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(target) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            // Not ours to remove if creating it failed (e.g. something else is at that path).
            if tmp.is_file() {
                let _ = std::fs::remove_file(&tmp);
            }
            Err(e)
        }
    }
}

/// Temp file + fsync + rename in the same directory + fsync of the directory, keeping the
/// original's permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let werr = |source| EditError::Write {
        path: path.into(),
        source,
    };
    let tmp = stage(path, bytes).map_err(werr)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(werr(e));
    }
    sync_dir(dir_of(path)).map_err(werr)
}

/// [`write_atomic`] without the fsync of the directory: for a file written just before another
/// [`write_atomic`] in the same directory, whose directory fsync makes both renames durable.
pub fn write_atomic_dir_unsynced(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let werr = |source| EditError::Write {
        path: path.into(),
        source,
    };
    let tmp = stage(path, bytes).map_err(werr)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(e)
    })
}

/// One file of a [`Transaction`].
struct Entry {
    target: PathBuf,
    bytes: Vec<u8>,
    /// The digest the target must still have when the transaction commits.
    expected: [u8; 32],
}

/// Several files replaced together: all are written or none is. Commit writes and fsyncs every
/// temp file, checks that no target changed since it was read, keeps each original (a hard
/// link), renames the temp files over their targets, and on any failure renames the originals
/// back; the directories are fsynced before the originals are dropped.
#[derive(Default)]
pub struct Transaction {
    entries: Vec<Entry>,
}

impl Transaction {
    pub fn new() -> Self {
        Transaction::default()
    }

    /// Replace `target`, which must still hash to `expected` (the digest it was read with).
    pub fn replace(&mut self, target: &Path, bytes: Vec<u8>, expected: [u8; 32]) {
        self.entries.push(Entry {
            target: target.into(),
            bytes,
            expected,
        });
    }

    pub fn commit(self) -> Result<(), EditError> {
        self.commit_with(&mut |from, to| std::fs::rename(from, to))
    }

    /// `commit`, with the rename that installs each new file given (tests make it fail).
    pub(super) fn commit_with(
        self,
        install: &mut dyn FnMut(&Path, &Path) -> io::Result<()>,
    ) -> Result<(), EditError> {
        let mut staged = Staged::default();
        let result = self.run(&mut staged, install);
        staged.finish();
        result
    }

    fn run(
        &self,
        staged: &mut Staged,
        install: &mut dyn FnMut(&Path, &Path) -> io::Result<()>,
    ) -> Result<(), EditError> {
        let werr = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EditError::Write { path, source }
        };
        for e in &self.entries {
            staged
                .tmps
                .push(stage(&e.target, &e.bytes).map_err(werr(&e.target))?);
        }
        // Every file checked before any is replaced: a concurrent edit leaves all untouched.
        for e in &self.entries {
            let now = std::fs::read(&e.target).map_err(|source| EditError::Read {
                path: e.target.clone(),
                source,
            })?;
            if digest(&now) != e.expected {
                return Err(EditError::ChangedOnDisk {
                    path: e.target.clone(),
                });
            }
        }
        for e in &self.entries {
            staged
                .origs
                .push(keep_original(&e.target).map_err(werr(&e.target))?);
        }
        for (i, e) in self.entries.iter().enumerate() {
            if let Err(source) = install(&staged.tmps[i], &e.target) {
                let restored = staged.roll_back(&self.entries[..i]);
                return Err(EditError::RolledBack {
                    path: e.target.clone(),
                    source,
                    restored,
                });
            }
        }
        for dir in self.dirs() {
            sync_dir(dir).map_err(werr(dir))?;
        }
        Ok(())
    }

    fn dirs(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = self.entries.iter().map(|e| dir_of(&e.target)).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }
}

/// The side files of a commit in progress, removed whatever happens (except an original that
/// could not be put back).
#[derive(Default)]
struct Staged {
    tmps: Vec<PathBuf>,
    origs: Vec<PathBuf>,
}

impl Staged {
    /// Put the originals of `installed` (the entries already renamed over) back. Returns whether
    /// every one was restored; one that could not be keeps its `.orig` file.
    fn roll_back(&mut self, installed: &[Entry]) -> bool {
        let mut all = true;
        for (i, e) in installed.iter().enumerate().rev() {
            let orig = std::mem::take(&mut self.origs[i]);
            if let Err(err) = std::fs::rename(&orig, &e.target) {
                tracing::error!(
                    "restoring {} from {}: {err}",
                    e.target.display(),
                    orig.display()
                );
                all = false;
            }
        }
        for dir in installed.iter().map(|e| dir_of(&e.target)) {
            let _ = sync_dir(dir);
        }
        all
    }

    fn finish(self) {
        // A temp file already renamed over its target no longer exists: removing it fails
        // harmlessly.
        for t in &self.tmps {
            let _ = std::fs::remove_file(t);
        }
        for o in self.origs.iter().filter(|o| !o.as_os_str().is_empty()) {
            let _ = std::fs::remove_file(o);
        }
    }
}

/// A second name for `target`'s current content, so it can be put back after the rename. A
/// hard link costs nothing; where links are not supported, a synced copy.
fn keep_original(target: &Path) -> io::Result<PathBuf> {
    let orig = side_file(target, ORIG);
    match std::fs::remove_file(&orig) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if std::fs::hard_link(target, &orig).is_err() {
        std::fs::copy(target, &orig)?;
        std::fs::File::open(&orig)?.sync_all()?;
    }
    Ok(orig)
}

/// Remove what a killed atwb left in `dir`: files named `.<name>.atwb-<pid>.tmp` or `.orig`
/// whose process is gone, or older than [`STALE_AFTER`]. Returns how many were removed.
pub fn clean_stale_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(our_side_file_pid) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if meta.is_file()
            && (old || !process_alive(pid))
            && std::fs::remove_file(entry.path()).is_ok()
        {
            tracing::info!("removed a stale temporary file {}", entry.path().display());
            removed += 1;
        }
    }
    removed
}

/// The pid in `.<name>.atwb-<pid>.tmp` / `.orig`, for names of that shape only.
fn our_side_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let rest = rest
        .strip_suffix(".tmp")
        .or_else(|| rest.strip_suffix(".orig"))?;
    let (_, pid) = rest.rsplit_once(".atwb-")?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_file_names_parse_back() {
        let p = side_file(Path::new("/x/status.json"), TMP);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(our_side_file_pid(name), Some(std::process::id()));
        assert_eq!(our_side_file_pid(".a.atwb-12.orig"), Some(12));
        for other in [
            "a.atwb-1.tmp",
            ".a.atwb-.tmp",
            ".a.atwb-x1.tmp",
            ".a.tmp",
            ".a.atwb-1",
        ] {
            assert_eq!(our_side_file_pid(other), None, "{other}");
        }
    }

    #[test]
    fn stale_files_of_dead_processes_are_removed_live_ones_kept() {
        let t = tempfile::tempdir().unwrap();
        // A pid that cannot exist (above the kernel's pid_max limit of 2^22).
        let dead = t.path().join(".status.json.atwb-99999999.tmp");
        let dead_orig = t.path().join(".package.toml.atwb-99999999.orig");
        let live = side_file(&t.path().join("status.json"), TMP);
        let unrelated = t.path().join(".status.json.tmp");
        for f in [&dead, &dead_orig, &live, &unrelated] {
            std::fs::write(f, "x").unwrap();
        }
        assert_eq!(clean_stale_temp_files(t.path()), 2);
        assert!(!dead.exists() && !dead_orig.exists());
        assert!(live.exists(), "a file of a live process is being written");
        assert!(unrelated.exists(), "not our naming pattern");
    }
}
