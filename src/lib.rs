//! atwb: a terminal workbench for the ATproto Nix User Repository.
//!
//! The library holds everything; `main.rs` only parses arguments and hands over to `cli`.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod jobs;
pub mod nix;
pub mod paths;
pub mod scaffold;
pub mod search;
pub mod time;
pub mod tui;
