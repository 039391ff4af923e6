//! Nix's messages: listings, warnings and errors, and what an error says about a derivation.

use super::wording::{DrvFailure, FailureKind, drv_failure};
use super::{BuildState, Diagnostic, DrvStatus, Listing, MAX_KEPT_LINE, MAX_MESSAGES, clip};
use crate::nix::ansi;
use crate::nix::internal_json::{Message, level};

impl BuildState {
    pub(super) fn on_msg(&mut self, m: &Message<'_>) {
        let plain = ansi::strip(&m.msg);
        if self.on_listing(&plain) {
            return;
        }
        if is_error(m, &plain) {
            self.errors_total += 1;
            // Only nix's own errors say what happened to a derivation; a builder can print
            // any message (see `Diagnostic::from_nix`).
            if m.raw_msg.is_some() {
                self.attribute_error(&plain);
            }
            if self.errors.len() < MAX_MESSAGES {
                self.errors.push(Diagnostic::from_msg(m));
            }
        } else if m.level == level::WARN {
            self.warnings_total += 1;
            if self.warnings.len() < MAX_MESSAGES {
                self.warnings.push(Diagnostic::from_msg(m));
            }
        }
    }

    /// Nix prints "these 2 derivations will be built:" and then one message per path (level 0
    /// in 2.8, although they are not errors). Returns whether `plain` was part of a listing.
    fn on_listing(&mut self, plain: &str) -> bool {
        if plain.starts_with("these ") || plain.starts_with("this ") {
            if plain.ends_with("will be built:") {
                self.listing = Listing::ToBuild;
                return true;
            }
            if plain.contains(" will be fetched") || plain.ends_with(':') {
                self.listing = Listing::Other;
                return true;
            }
        }
        if self.listing != Listing::None {
            if let Some(path) = plain.strip_prefix("  ") {
                if self.listing == Listing::ToBuild && path.ends_with(".drv") {
                    self.drv_mut(path.trim(), DrvStatus::Planned);
                }
                return true;
            }
            self.listing = Listing::None;
        }
        false
    }

    /// Mark the derivation an error message names as failed.
    pub(super) fn attribute_error(&mut self, plain: &str) {
        let first = plain.lines().next().unwrap_or("");
        if first.contains("interrupted by the user") {
            self.interrupted = true;
            // Only the derivations still unsettled: the work is theirs, not every one seen.
            let unsettled: Vec<usize> =
                self.building.iter().chain(&self.stopped).copied().collect();
            for i in unsettled {
                self.set_status(i, DrvStatus::Cancelled);
            }
            self.counts.interrupted();
            return;
        }
        let Some(DrvFailure { drv, kind }) = drv_failure(plain) else {
            return;
        };
        let exit_code = match kind {
            FailureKind::Builder { exit_code } => exit_code,
            _ => None,
        };
        let Some(i) = self.drv_mut(drv, DrvStatus::Failed) else {
            return;
        };
        // The failure's count is this build's, not that of a build still running that nix kills
        // next; a done count it took belongs to another build.
        self.count_failure_of(i);
        self.set_status(i, DrvStatus::Failed);
        let d = &mut self.drvs[i];
        if d.exit_code.is_none() {
            d.exit_code = exit_code;
        }
        if d.error.is_none() {
            d.error = Some(clip(first, MAX_KEPT_LINE).to_string());
        }
        if d.log_lines == 0
            && let Some((tail, count)) = self.plain.take(&d.name)
        {
            d.tail = tail;
            d.log_lines = count;
        }
    }
}

/// Level-0 messages that are errors: nix's errors carry `raw_msg` and start with `error:`;
/// listings and the `(use '--show-trace' ...)` hint are level 0 too but are not errors.
fn is_error(m: &Message<'_>, plain: &str) -> bool {
    m.level == level::ERROR && (m.raw_msg.is_some() || plain.starts_with("error:"))
}
