//! Talking to nix: command lines, the `--log-format internal-json` parser, the error classifier,
//! and systemd unit rendering and scoring for the hardening checks.
pub mod ansi;
pub mod cargo_lock;
pub mod cargo_vendor;
pub mod classify;
pub mod command;
pub mod disk_tree;
pub mod failure_summary;
pub mod fetcher;
pub mod git_attrs;
pub mod git_blobs;
pub mod git_filters;
pub mod git_objects;
pub mod git_tree;
pub mod hardening;
pub mod hash_error;
pub mod internal_json;
pub mod logfile;
pub mod nar;
pub mod npm_deps;
pub mod npm_integrity;
pub mod npm_lock;
pub mod npm_sources;
pub mod state;
pub mod submodules;
pub mod unit;
pub mod wildmatch;
