//! The hash action's effects: computing a package's hashes and writing them, on a blocking
//! thread each (git objects and every crate's SHA-256 take seconds on a large lockfile), with
//! progress and results sent back as `Feedback`.

use crate::jobs::rehash::{self, HashStep, PackageHashes};

use super::action::Feedback;
use super::effects::{Effects, reload_catalog};

/// Progress is sent at most this often (a 300-crate lockfile would otherwise send 300).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

impl Effects {
    pub fn compute_hashes(&self, package: String) {
        let root = self.catalog_root.clone();
        let opts = self.hash_options.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let last = std::sync::Mutex::new(None::<std::time::Instant>);
            let progress = |step: HashStep| {
                let mut last = last.lock().expect("progress lock");
                // Steps always go out; crate counts only every PROGRESS_EVERY, and the last one.
                let throttled = matches!(step, HashStep::Crates { done, total } if done < total)
                    && last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY);
                if !throttled {
                    *last = Some(std::time::Instant::now());
                    let _ = tx.send(Feedback::HashProgress {
                        package: package.clone(),
                        step,
                    });
                }
            };
            let result = rehash::compute(&root, &package, &opts, &progress)
                .map(Box::new)
                .map_err(|e| format!("{e:#}"));
            let _ = tx.send(Feedback::HashesComputed { package, result });
        });
    }

    pub fn write_hashes(&self, hashes: PackageHashes) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = rehash::write(&root, &hashes).map_err(|e| format!("{e:#}"));
            let ok = result.is_ok();
            let _ = tx.send(Feedback::HashesWritten {
                package: hashes.package.clone(),
                result,
            });
            if ok {
                reload_catalog(&root, &tx);
            }
        });
    }
}
