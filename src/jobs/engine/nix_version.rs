//! What the installed nix is, asked once per engine the first time a job builds: its version
//! (`nix --version`), because newer Nix spells "all outputs of this drv" differently (see
//! `nix::version`), and its settings (`nix show-config --json`), which tell whether atwb may
//! answer nix's build-hook question itself (see `nix::build_hook`).

use std::process::Stdio;
use std::time::Duration;

use super::Inner;
use crate::nix::build_hook::{self, Facts};
use crate::nix::command::EXPERIMENTAL_FEATURES;
use crate::nix::version::{DrvOutputs, NixVersion, drv_outputs_of};

/// Long enough for a cold start on a loaded machine; neither command reads the store.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the engine's builds need to know about nix.
#[derive(Debug, Clone)]
pub(super) struct NixFacts {
    pub outputs: DrvOutputs,
    /// `--option build-hook` for builds: atwb's declining hook, when that is nix's own answer.
    pub build_hook: Option<String>,
    /// The store's paths are files on this machine (`NIX_REMOTE` or `store`: the local store
    /// or its daemon), so a job's plan can be read from its `.drv` files.
    pub local_store: bool,
}

impl Inner {
    pub(super) async fn nix_facts(&self) -> &NixFacts {
        self.nix_facts
            .get_or_init(|| async {
                let (printed, config) = tokio::join!(
                    nix_output(&["--version"]),
                    nix_output(&[
                        "--extra-experimental-features",
                        EXPERIMENTAL_FEATURES,
                        "show-config",
                        "--json"
                    ])
                );
                let outputs = drv_outputs_of(printed.as_deref());
                let config: serde_json::Value = config
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default();
                let state_dir = std::env::var_os("NIX_STATE_DIR")
                    .unwrap_or_else(|| "/nix/var/nix".into());
                let nix_remote = std::env::var("NIX_REMOTE").ok();
                let facts = Facts {
                    version: printed.as_deref().and_then(NixVersion::parse),
                    config: &config,
                    atwb_builders: self.cfg.nix.builders.as_deref(),
                    nix_remote: nix_remote.as_deref(),
                    state_dir_writable: build_hook::read_write_access(std::path::Path::new(
                        &state_dir,
                    )),
                };
                let local_store = crate::nix::drv_closure::store_is_local_files(facts.store());
                let build_hook = build_hook::hook_exe()
                    .and_then(|exe| {
                        build_hook::hook_link(&crate::paths::state_dir().join("bin"), exe)
                            .map_err(|e| tracing::warn!("the build-hook link: {e}"))
                            .ok()
                    })
                    .and_then(|link| build_hook::declining_hook(&facts, &link));
                tracing::info!(
                    "nix --version: {printed:?}: drv builds use {outputs:?}; build hook {build_hook:?}; local store {local_store}"
                );
                NixFacts {
                    outputs,
                    build_hook,
                    local_store,
                }
            })
            .await
    }

    /// How the drv builds of this engine name all of a derivation's outputs.
    pub(super) async fn drv_outputs(&self) -> DrvOutputs {
        self.nix_facts().await.outputs
    }
}

impl super::EngineHandle {
    /// Ask nix about itself now, in the background, so the first build does not wait for it:
    /// called when an evaluation starts, which takes longer.
    pub fn warm_up(&self) {
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            inner.nix_facts().await;
        });
    }
}

/// What `nix ARGS` printed on stdout; None when nix could not be run, failed or hung.
async fn nix_output(args: &[&str]) -> Option<String> {
    let run = tokio::process::Command::new("nix")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(ASK_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into()),
        _ => None,
    }
}
