//! What the runtime does for the new-package wizard: detection and writing run on a blocking
//! thread (cloning and hashing take seconds), reporting each step back as `Feedback`.

use super::action::Feedback;
use super::effects::{Effects, reload_catalog};
use crate::scaffold::{self, Proposal, Request};

impl Effects {
    pub fn detect_package(&self, source: String) {
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let request = Request {
                source: source.clone(),
                ..Request::default()
            };
            let progress_tx = tx.clone();
            let of = source.clone();
            let mut progress = move |step: &str| {
                let _ = progress_tx.send(Feedback::WizardProgress {
                    source: of.clone(),
                    step: step.to_string(),
                });
            };
            let result = scaffold::detect(&request, &mut progress)
                .map(Box::new)
                .map_err(|e| e.to_string());
            let _ = tx.send(Feedback::WizardDetected { source, result });
        });
    }

    pub fn write_package(&self, proposal: Proposal) {
        let root = self.catalog_root.clone();
        let tx = self.feedback.clone();
        tokio::task::spawn_blocking(move || {
            let result = scaffold::write_packages(&root, &proposal)
                .map(|written| written.into_iter().map(|w| w.name).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            let ok = result.is_ok();
            let _ = tx.send(Feedback::WizardWritten(result));
            if ok {
                reload_catalog(&root, &tx);
            }
        });
    }
}
