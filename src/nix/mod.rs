//! Talking to nix: command lines, the `--log-format internal-json` parser, the error classifier,
//! and NAR hashing.
