//! Saving a whole log as plain text (ANSI stripped), written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::jobs::interpret::LineInterpreter;

use super::file::{for_each_display, open};
use super::{NOT_YET_ON_DISK, RingSnapshot};

/// Writes the log to `<dir>/<name>-<stamp>.log` and returns that path. A running job's log is
/// its `ring` snapshot after the lines the ring dropped (read from `file`); a finished one's is
/// the whole `file`.
pub fn save_plain(
    dir: &Path,
    name: &str,
    ring: Option<&RingSnapshot>,
    file: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}-{}.log", crate::time::file_stamp()));
    let tmp = path.with_extension("log.tmp");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    match (ring, file) {
        (Some(snap), file) => write_running(&mut out, snap, file)?,
        (None, Some(f)) => write_file(&mut out, f)?,
        (None, None) => anyhow::bail!("this log has no lines to save"),
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The lines the ring dropped (from the file), then the ring's.
fn write_running(
    out: &mut impl Write,
    snap: &RingSnapshot,
    file: Option<&Path>,
) -> anyhow::Result<()> {
    let dropped = snap.first_display;
    if dropped > 0 {
        let f = file.context("the ring dropped lines and there is no log file")?;
        let mut err = None;
        let read = for_each_display(f, |n, l| {
            if n < dropped
                && err.is_none()
                && let Err(e) = writeln!(out, "{}", l.plain().trim_end())
            {
                err = Some(e);
            }
        })
        .with_context(|| format!("reading {}", f.display()))?;
        if let Some(e) = err {
            return Err(e.into());
        }
        if read < dropped {
            anyhow::bail!(NOT_YET_ON_DISK);
        }
    }
    for l in snap.plain_lines() {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Every display line of a log file.
fn write_file(out: &mut impl Write, f: &Path) -> anyhow::Result<()> {
    let reader = open(f).with_context(|| format!("opening {}", f.display()))?;
    let mut interp = LineInterpreter::default();
    let mut err = None;
    crate::nix::logfile::for_each_line(reader, |raw| {
        if let Some(t) = interp.feed(raw, true).text
            && err.is_none()
            && let Err(e) = writeln!(out, "{}", crate::nix::ansi::strip(&t).trim_end())
        {
            err = Some(e);
        }
    })?;
    match err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::logpage::LogLine;

    #[test]
    fn a_running_log_is_saved_as_its_dropped_lines_then_the_ring() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("job.log");
        std::fs::write(&log, "one\n\u{1b}[31mtwo\u{1b}[0m  \nthree\n").unwrap();
        let snap = RingSnapshot {
            lines: vec![LogLine::new("three", None), LogLine::new("four", None)],
            first_display: 2,
            ..Default::default()
        };
        let saved = save_plain(&dir.path().join("saved"), "demo", Some(&snap), Some(&log)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&saved).unwrap(),
            "one\ntwo\nthree\nfour\n"
        );
        assert!(
            saved
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("demo-")
        );
    }

    #[test]
    fn a_finished_log_is_saved_whole_and_nothing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("job.log");
        std::fs::write(&log, "a\n\u{1b}[1mb\u{1b}[0m\n").unwrap();
        let saved = save_plain(dir.path(), "x", None, Some(&log)).unwrap();
        assert_eq!(std::fs::read_to_string(saved).unwrap(), "a\nb\n");
        let err = save_plain(dir.path(), "y", None, None).unwrap_err();
        assert_eq!(err.to_string(), "this log has no lines to save");
    }
}
