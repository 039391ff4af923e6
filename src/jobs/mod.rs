//! Background nix jobs: a tokio scheduler with a concurrency limit, cancellation by SIGINT to
//! nix's own process group, and the persisted per-package status store.
