//! The installed nix's version, asked once per engine (`nix --version`) the first time a job
//! builds by drv path, because newer Nix spells "all outputs of this drv" differently (see
//! `nix::version`).

use std::process::Stdio;
use std::time::Duration;

use super::Inner;
use crate::nix::version::{DrvOutputs, drv_outputs_of};

/// Long enough for a cold start on a loaded machine; `nix --version` reads no store.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

impl Inner {
    /// How the drv builds of this engine name all of a derivation's outputs.
    pub(super) async fn drv_outputs(&self) -> DrvOutputs {
        *self
            .drv_outputs
            .get_or_init(|| async {
                let printed = nix_version_output().await;
                let outputs = drv_outputs_of(printed.as_deref());
                tracing::info!("nix --version: {printed:?}: drv builds use {outputs:?}");
                outputs
            })
            .await
    }
}

/// What `nix --version` printed on stdout; None when nix could not be run, failed or hung.
async fn nix_version_output() -> Option<String> {
    let run = tokio::process::Command::new("nix")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(VERSION_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into()),
        _ => None,
    }
}
