//! Background nix jobs: a tokio scheduler with a concurrency limit, cancellation by SIGINT to
//! nix's own process group, and the persisted per-package status store.
//!
//! How a front end uses it (the TUI runtime, `atwb build`):
//!
//! ```no_run
//! # async fn demo(catalog: &std::path::Path, cfg: &atwb::config::Config) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use atwb::jobs::{Engine, EngineConfig, JobEvent, JobSpec, StatusStore};
//! use atwb::nix::command::{Installable, current_system};
//!
//! let store = Arc::new(StatusStore::open(catalog)?);
//! let mut engine_cfg = EngineConfig::from_config(&cfg.jobs, catalog);
//! engine_cfg.store = Some(store.clone());
//! let engine = Engine::new(engine_cfg); // inside a tokio runtime; dropping it cancels all jobs
//! let mut events = engine.subscribe(); // or subscribe_lifecycle() without log lines
//! let attr = format!("packages.{}.constellation", current_system());
//! let id = engine.handle().submit(JobSpec::build("constellation", Installable::new("/repo", attr)));
//! while let Some(ev) = events.recv().await {
//!     if let JobEvent::Finished(r) = ev {
//!         if r.id == id { break; }
//!     }
//! }
//! let status = store.status("constellation"); // last result, history, stale
//! # Ok(()) }
//! ```
//!
//! Scrollback beyond the in-memory ring (`EngineHandle::log_ring`) is read from the job's log
//! file with [`LogPager`], or as display-line pages, seeks and plain-text saves with
//! [`logpage`]; a hash mismatch is fixed with `catalog::edit::fix_hash_mismatch`.

pub mod cache;
pub mod cache_check;
pub mod engine;
pub mod evaluate;
pub mod fingerprint;
pub mod interpret;
pub mod junit;
pub mod logpage;
pub mod logstore;
pub mod process;
pub mod rehash;
pub mod spec;
pub mod store;
pub mod upstream;

pub use engine::{Engine, EngineConfig, EngineHandle, JobInfo, JobState};
pub use logstore::{LogPager, LogRing};
pub use spec::{JobEvent, JobId, JobKind, JobResult, JobSpec, Outcome, Progress};
pub use store::{PackageStatus, RunRecord, StatusStore};
