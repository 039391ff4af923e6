//! The wordings nix uses to say that one derivation failed, and how.

/// What an error message says went wrong with one derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The builder exited non-zero.
    Builder {
        exit_code: Option<i32>,
    },
    /// It was not built because dependencies failed.
    Dependencies,
    HashMismatch,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrvFailure<'a> {
    pub drv: &'a str,
    pub kind: FailureKind,
}

/// The derivation an error message (ANSI stripped, possibly several lines) says failed, and how.
///
/// Nix 2.8 wordings (captured in `tests/fixtures/logs`): `builder for 'D' failed with exit code
/// N`, `hash mismatch in fixed-output derivation 'D':`, `N dependencies of derivation 'D' failed
/// to build`, `building of 'D!out' from .drv file timed out after N seconds`. Also read, for
/// logs captured in CI with other nix versions (wordings as printed in public bug reports, not
/// captured here): nix >= 2.25 `Cannot build 'D'.` with a `Reason: builder failed with exit
/// code N.` / `Reason: N dependencies failed.` line, and nix 2.3 `cannot build derivation 'D':
/// N dependencies couldn't be built`.
pub fn drv_failure(message: &str) -> Option<DrvFailure<'_>> {
    let first = message.lines().next()?;
    let found = |drv, kind| Some(DrvFailure { drv, kind });
    if let Some(drv) = quoted_drv(first, "hash mismatch in fixed-output derivation '") {
        return found(drv, FailureKind::HashMismatch);
    }
    if let Some(drv) = quoted_drv(first, "builder for '") {
        return found(
            drv,
            FailureKind::Builder {
                exit_code: exit_code(first),
            },
        );
    }
    if let Some(drv) = quoted_drv(first, "dependencies of derivation '")
        .or_else(|| quoted_drv(first, "cannot build derivation '"))
    {
        return found(drv, FailureKind::Dependencies);
    }
    if let Some(drv) = quoted_drv(first, "building of '").filter(|_| first.contains("timed out")) {
        return found(drv, FailureKind::Timeout);
    }
    let drv = quoted_drv(first, "Cannot build '")?;
    let reason = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("Reason: "))
        .unwrap_or("");
    let kind = if reason.contains("exit code") {
        FailureKind::Builder {
            exit_code: exit_code(reason),
        }
    } else if reason.contains("dependency failed") || reason.contains("dependencies failed") {
        FailureKind::Dependencies
    } else if reason.contains("timed out") {
        FailureKind::Timeout
    } else if reason.contains("hash mismatch") {
        FailureKind::HashMismatch
    } else {
        FailureKind::Builder { exit_code: None }
    };
    found(drv, kind)
}

/// The derivation path quoted after `marker` (`'/nix/store/...drv'`, an output suffix dropped:
/// `!out` in Nix 2.8, `^out` in Nix 2.26).
fn quoted_drv<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let path = &rest[..rest.find('\'')?];
    let path = path.split(['!', '^']).next().unwrap_or(path);
    path.ends_with(".drv").then_some(path)
}

/// `N` in `... exit code N;` / `exit code N.`.
fn exit_code(text: &str) -> Option<i32> {
    let (_, rest) = text.split_once("exit code ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The derivation a nix error message says failed (see [`drv_failure`]).
pub fn failed_drv_in(message: &str) -> Option<&str> {
    drv_failure(message).map(|f| f.drv)
}
