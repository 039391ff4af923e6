//! The new-package wizard's state: a source to type, detection running in the background (with
//! the step it reports), the proposals to accept or change one by one, and the write. Only
//! `update/wizard.rs` changes it; `views/wizard.rs` draws it.

use std::time::Instant;

use crate::scaffold::{FieldView, Proposal};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Typing a repository path or URL.
    Source { text: String },
    /// `scaffold::detect` runs; `step` is the last progress it reported.
    Detecting {
        source: String,
        step: String,
        started: Instant,
    },
    /// The proposals; `editing` holds the new text of the selected field while it is typed.
    Review {
        proposal: Box<Proposal>,
        selected: usize,
        editing: Option<String>,
        /// The last refused change, shown under the list.
        error: Option<String>,
    },
    /// Writing the files (and reloading the catalog).
    Writing { proposal: Box<Proposal> },
    /// Detection or writing failed: the message, and the source to try again with.
    Failed { message: String, source: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wizard {
    pub step: Step,
}

impl Wizard {
    pub fn new() -> Wizard {
        Wizard {
            step: Step::Source {
                text: String::new(),
            },
        }
    }

    /// The review list, when reviewing.
    pub fn fields(&self) -> Vec<FieldView> {
        match &self.step {
            Step::Review { proposal, .. } => proposal.fields(),
            _ => Vec::new(),
        }
    }

    /// Whether detection runs (the clock then moves the elapsed time on screen).
    pub fn is_busy(&self) -> bool {
        matches!(self.step, Step::Detecting { .. } | Step::Writing { .. })
    }
}

impl Default for Wizard {
    fn default() -> Self {
        Wizard::new()
    }
}
