//! Where things live: the catalog to open, the flake that builds it, and the XDG config and state
//! directories.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Environment variable naming the catalog directory.
pub const CATALOG_ENV: &str = "ATWB_CATALOG";

/// Resolve the catalog: `--catalog PATH`, else `$ATWB_CATALOG`, else `catalog/` at the top of the
/// enclosing git repository (searched upward from `cwd`).
pub fn find_catalog(flag: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(p) = flag {
        return check_catalog_dir(p, "--catalog");
    }
    if let Some(p) = std::env::var_os(CATALOG_ENV).filter(|v| !v.is_empty()) {
        return check_catalog_dir(Path::new(&p), "$ATWB_CATALOG");
    }
    match work_tree_top(cwd) {
        Some(top) if top.join("catalog").is_dir() => Ok(top.join("catalog")),
        Some(top) => bail!(
            "no catalog found: the git repository at {} has no catalog/ directory.\n\
             Pass --catalog PATH or set ${CATALOG_ENV}.",
            top.display()
        ),
        None => bail!(
            "no catalog found: {} is not inside a git repository.\n\
             Pass --catalog PATH, set ${CATALOG_ENV}, or run atwb from a clone of the catalog repository.",
            cwd.display()
        ),
    }
}

/// The top of the git work tree holding `dir`: the nearest directory with a `.git` (a
/// directory, or the file of a linked worktree or submodule). Read by hand rather than by
/// libgit2, whose first use sets up OpenSSL and reads every system certificate (about 25 ms,
/// which every command would pay only to find its catalog).
fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).ok()?;
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// [`find_catalog`] from the current directory.
pub fn locate_catalog(flag: Option<&Path>) -> Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    find_catalog(flag, &cwd)
}

fn check_catalog_dir(p: &Path, from: &str) -> Result<PathBuf> {
    let p = std::path::absolute(p).with_context(|| format!("resolving {from} {}", p.display()))?;
    if !p.is_dir() {
        bail!("catalog {} (from {from}) is not a directory", p.display());
    }
    Ok(p)
}

/// The flake of the repository holding the catalog (its parent directory).
pub fn repo_flake(catalog: &Path) -> Result<String> {
    let repo: PathBuf = catalog
        .parent()
        .with_context(|| {
            format!(
                "the catalog {} has no parent directory to use as the flake",
                catalog.display()
            )
        })?
        .to_path_buf();
    if !repo.join("flake.nix").is_file() {
        bail!(
            "{} has no flake.nix, so there is nothing to build the catalog from; pass --flake REF or set [jobs] flake in the config",
            repo.display()
        );
    }
    // A git flake shows nix only tracked files; an untracked flake.nix fails obscurely later.
    if let Ok(git) = git2::Repository::open(&repo)
        && git
            .status_file(Path::new("flake.nix"))
            .is_ok_and(|s| s.contains(git2::Status::WT_NEW))
    {
        bail!(
            "{}/flake.nix is not tracked by git, and nix sees only tracked files of a git flake; \
             `git add flake.nix catalog` first (no commit needed)",
            repo.display()
        );
    }
    Ok(repo.to_string_lossy().into_owned())
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "atwb")
}

/// `~/.config/atwb` (or `$XDG_CONFIG_HOME/atwb`).
pub fn config_dir() -> PathBuf {
    project_dirs().map_or_else(
        || PathBuf::from(".atwb/config"),
        |d| d.config_dir().to_path_buf(),
    )
}

/// `~/.local/state/atwb` (or `$XDG_STATE_HOME/atwb`): logs, build status, job logs.
pub fn state_dir() -> PathBuf {
    project_dirs()
        .and_then(|d| d.state_dir().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(".atwb/state"))
}

/// Per-catalog state directory: the status store keeps one directory per catalog path.
pub fn catalog_state_dir(catalog: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(catalog.as_os_str().as_encoded_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let tail = catalog
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| "catalog".into(), |n| n.to_string_lossy().into_owned());
    state_dir().join("catalogs").join(format!("{tail}-{short}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_found_from_anywhere_in_the_work_tree() {
        let repo = tempfile::tempdir().unwrap();
        git2::Repository::init(repo.path()).unwrap();
        std::fs::create_dir_all(repo.path().join("catalog/a/b")).unwrap();
        let deep = repo.path().join("catalog/a/b");
        assert_eq!(
            find_catalog(None, &deep).unwrap(),
            std::path::absolute(repo.path().join("catalog")).unwrap()
        );
        // A linked worktree has a `.git` file; a directory outside any repository has none.
        let wt = tempfile::tempdir().unwrap();
        std::fs::write(wt.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(work_tree_top(wt.path()).as_deref(), Some(wt.path()));
        let e = find_catalog(None, wt.path()).unwrap_err().to_string();
        assert!(e.contains("has no catalog/ directory"), "{e}");
    }
}
