//! A cache check as a background task of the engine (`jobs::cache_check`): its progress and
//! its report go to the subscribers as `JobEvent::CacheCheck`, and quitting cancels it with
//! the jobs.

use tokio_util::sync::CancellationToken;

use super::EngineHandle;
use crate::jobs::cache_check::{self, CheckEvent, CheckSetup};
use crate::jobs::spec::{JobEvent, JobId, JobSpec};

impl EngineHandle {
    /// Evaluate `specs` and ask the caches about their outputs, in the background; the events
    /// carry the returned id.
    pub fn check_caches(&self, specs: Vec<JobSpec>) -> JobId {
        let id = JobId(
            self.inner
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        let cancel = CancellationToken::new();
        self.inner
            .evaluations
            .lock()
            .expect("evaluations")
            .push(cancel.clone());
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let subs = super::batch::substituters(&inner).await;
            let setup = CheckSetup {
                store: inner.cfg.store.as_deref(),
                substituters: Some(&subs),
                grace: inner.cfg.grace,
            };
            let progress = |stage| {
                let event = Box::new(CheckEvent::Stage(stage));
                inner.emit_droppable(JobEvent::CacheCheck { id, event });
            };
            let report = cache_check::check(&specs, setup, &cancel, &progress).await;
            cancel.cancel();
            inner
                .evaluations
                .lock()
                .expect("evaluations")
                .retain(|c| !c.is_cancelled());
            let event = Box::new(CheckEvent::Done(report));
            inner.emit(JobEvent::CacheCheck { id, event }).await;
        });
        id
    }
}
