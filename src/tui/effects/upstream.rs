//! The updates view's effects: asking upstream (rows streamed back as they come), computing a
//! bump's plan, and writing it. A plan is kept here between its preview and the yes, so what
//! is written is exactly the diff the user saw (and refused if a file changed meanwhile).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::catalog::bump::{BumpOptions, BumpPlan, BumpTarget, plan};
use crate::jobs::upstream::{UpstreamOptions, UpstreamQuery, check_all};
use crate::tui::action::Feedback;
use crate::tui::updates::BumpPreview;

use super::Effects;

/// Plans shown and not yet answered, by package.
pub type PendingBumps = Arc<Mutex<HashMap<String, BumpPlan>>>;

impl Effects {
    pub fn check_upstream(&self, check: u64, queries: Vec<UpstreamQuery>) {
        let tx = self.feedback.clone();
        tokio::spawn(async move {
            let mut rx = check_all(queries, UpstreamOptions::default());
            while let Some(row) = rx.recv().await {
                if tx.send(Feedback::Upstream { check, row }).is_err() {
                    return;
                }
            }
        });
    }

    pub fn plan_bump(&self, package: String, to: Option<String>) {
        let root = self.catalog_root.clone();
        let (tx, pending) = (self.feedback.clone(), self.bumps.clone());
        tokio::task::spawn_blocking(move || {
            let target = to.map_or(BumpTarget::Default, BumpTarget::To);
            let opts = BumpOptions {
                fetch: true,
                ..BumpOptions::default()
            };
            let result = plan(&root, &package, &target, &opts)
                .map(|p| {
                    let preview = preview(&p);
                    if let Ok(mut map) = pending.lock() {
                        map.insert(package.clone(), p);
                    }
                    preview
                })
                .map_err(|e| format!("{e:#}"));
            let _ = tx.send(Feedback::BumpPlanned { package, result });
        });
    }

    pub fn write_bump(&self, package: String) {
        let root = self.catalog_root.clone();
        let (tx, pending) = (self.feedback.clone(), self.bumps.clone());
        tokio::task::spawn_blocking(move || {
            let plan = pending.lock().ok().and_then(|mut m| m.remove(&package));
            let result = match plan {
                None => Err("no plan for it any more; press Enter on its row again".to_string()),
                Some(mut p) => p.write().map(|_| p.packages()).map_err(|e| e.to_string()),
            };
            let ok = result.is_ok();
            let _ = tx.send(Feedback::BumpWritten { package, result });
            if ok {
                super::reload_catalog(&root, &tx);
            }
        });
    }
}

fn preview(p: &BumpPlan) -> BumpPreview {
    let short = |r: &str| r.get(..12).unwrap_or(r).to_string();
    let summary = if p.is_noop() {
        format!("already at {} ({})", short(&p.new_rev), p.new_version)
    } else {
        let tag = p
            .tag
            .as_deref()
            .map_or_else(String::new, |t| format!(" (tag {t})"));
        format!(
            "{} {} -> {} {}{tag}",
            p.old_version,
            short(&p.old_rev),
            p.new_version,
            short(&p.new_rev)
        )
    };
    BumpPreview {
        summary,
        diff: p.diff.clone(),
        deps_note: p.deps.new.as_ref().err().map(|why| {
            format!("build.deps_hash becomes \"unknown\" (deps_verified = false): {why}")
        }),
        packages: p.packages(),
    }
}
