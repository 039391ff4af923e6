//! The status store's lock: `flock(LOCK_EX)` on a side file, waited for at most a timeout, so a
//! process that holds it (another atwb stuck, a debugger, `flock` in a script) cannot stall a
//! job's end forever; the error names the holder when the kernel says who it is.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long `record` waits for another process to release the store. Holders keep it for
/// the milliseconds a read and an atomic write take.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Held until dropped.
pub(super) struct FileLock(File);

impl FileLock {
    pub fn exclusive(path: &Path, timeout: Duration) -> Result<Self> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(err).with_context(|| format!("locking {}", path.display()));
            }
            if Instant::now() >= deadline {
                bail!(
                    "the status store is locked by {} and was not released within {:.0?} ({}); \
                     this result was not recorded",
                    holder(&mut f).unwrap_or_else(|| "another process".into()),
                    timeout,
                    path.display()
                );
            }
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        // Who holds it, for the message a waiting process prints (best effort).
        let me = format!(
            "{} {}\n",
            std::process::id(),
            process_name(std::process::id())
        );
        let _ = f.set_len(0).and_then(|()| f.write_all(me.as_bytes()));
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// `pid 1234 (atwb)`: from the kernel's lock table when it lists the file, else from what the
/// holder wrote into it.
fn holder(f: &mut File) -> Option<String> {
    if let Some(pid) = kernel_holder(f) {
        return Some(format!("pid {pid} ({})", process_name(pid)));
    }
    let mut text = String::new();
    f.rewind().ok()?;
    f.take(256).read_to_string(&mut text).ok()?;
    let (pid, name) = text.trim().split_once(' ')?;
    let pid: u32 = pid.parse().ok()?;
    Some(format!(
        "pid {pid} ({name}, as it wrote when it took the lock)"
    ))
}

/// The pid `/proc/locks` gives for a FLOCK on this file's inode (Linux).
fn kernel_holder(f: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = f.metadata().ok()?;
    let dev = meta.dev();
    let want = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|l| {
        let parts: Vec<&str> = l.split_whitespace().collect();
        // `1: FLOCK  ADVISORY  WRITE 2406 fd:00:1842353 0 EOF`; blocked waiters have `->`.
        let i = parts.iter().position(|p| *p == "FLOCK")?;
        (parts.get(1) != Some(&"->") && parts.get(i + 4) == Some(&want.as_str()))
            .then(|| parts.get(i + 3)?.parse().ok())
            .flatten()
    })
}

fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map_or_else(|_| "unknown".into(), |s| s.trim().to_string())
}
