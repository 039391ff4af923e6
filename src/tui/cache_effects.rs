//! The cache key's effects: the check itself runs in the engine (`EngineHandle::check_caches`,
//! which reports through job events); here the packages only become build targets.

use crate::jobs::JobSpec;
use crate::nix::command::Installable;

use super::effects::Effects;

impl Effects {
    /// Start a cache check of `packages` (their package builds' drv and out paths).
    pub fn check_caches(&self, packages: &[String]) {
        let flake = match &self.flake {
            Ok(f) => f.clone(),
            Err(e) => {
                let text = format!("cannot ask the caches: {e}");
                let _ = self
                    .feedback
                    .send(super::action::Feedback::Notice(super::app::Notice {
                        text,
                        error: true,
                    }));
                return;
            }
        };
        let specs = packages
            .iter()
            .map(|name| {
                JobSpec::build(
                    name.clone(),
                    Installable::new(flake.clone(), format!("packages.{}.{name}", self.system)),
                )
            })
            .collect();
        self.engine.check_caches(specs);
    }
}
