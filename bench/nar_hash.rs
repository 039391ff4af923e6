//! The native hashes as a small program, for `bench/nar.sh` (the `atwb` commands that will
//! expose them come later). Prints the SRI hash on stdout.
//!
//! ```text
//! nar_hash path DIR                      like `nix hash path DIR`
//! nar_hash github REPO REV               fetchFromGitHub's hash of REV, from git objects
//! nar_hash git REPO REV                  fetchgit's hash (submodules from local objects)
//! nar_hash cargo LOCKFILE [CARGO_HOME]   fetchCargoVendor's cargoHash
//! ```

use std::path::Path;
use std::process::ExitCode;

use atwb::nix::cargo_lock::Lockfile;
use atwb::nix::cargo_vendor::{CrateSources, cargo_vendor_hash};
use atwb::nix::disk_tree::hash_path;
use atwb::nix::fetcher::{FetchArgs, Rev, prefetch};
use atwb::nix::submodules::LocalRepos;

fn run(args: &[String]) -> Result<String, String> {
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| "usage: nar_hash path DIR | github REPO REV | git REPO REV | cargo LOCKFILE [CARGO_HOME]".to_string())
    };
    let hash = match arg(0)? {
        "path" => hash_path(Path::new(arg(1)?)).map_err(|e| e.to_string())?,
        mode @ ("github" | "git") => {
            let fetch = if mode == "git" {
                FetchArgs::git()
            } else {
                FetchArgs::github()
            };
            let rev = Rev::Rev(arg(2)?.to_string());
            prefetch(Path::new(arg(1)?), &rev, &fetch, &LocalRepos::default())
                .map_err(|e| e.to_string())?
                .hash
        }
        "cargo" => {
            let lock = Lockfile::read(Path::new(arg(1)?)).map_err(|e| e.to_string())?;
            let mut sources = CrateSources::from_env();
            if let Some(home) = args.get(2) {
                sources.cargo_home = Some(home.into());
            }
            cargo_vendor_hash(&lock, &sources).map_err(|e| e.to_string())?
        }
        other => return Err(format!("unknown mode `{other}`")),
    };
    Ok(hash.sri())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(sri) => {
            println!("{sri}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nar_hash: {e}");
            ExitCode::FAILURE
        }
    }
}
