//! Talking to nix: command lines, the `--log-format internal-json` parser, the error classifier,
//! and systemd unit rendering and scoring for the hardening checks.
pub mod ansi;
pub mod classify;
pub mod command;
pub mod failure_summary;
pub mod hardening;
pub mod internal_json;
pub mod logfile;
pub mod state;
pub mod unit;
