//! Planned derivations nix fetches instead of building: a plan read from the `.drv` files
//! (`nix::drv_closure`) lists every derivation whose outputs are missing, but nix substitutes
//! those a binary cache has, and names the output path it fetches, not the derivation. The
//! caller, which knows the outputs of each planned derivation, says so here.

use super::{DrvTree, NodeKind, NodeState};

impl DrvTree {
    /// `drv_path`, planned, will not be built: nix is fetching its outputs. Its row goes (done
    /// without a time, which counts as no build; the download has its own row). False when it
    /// was not planned (unknown, or nix has started it meanwhile).
    pub fn unplan(&mut self, drv_path: &str) -> bool {
        let Some(&i) = self
            .names
            .lookup(drv_path)
            .and_then(|key| self.by_path.get(&key))
        else {
            return false;
        };
        let n = &mut self.nodes[i as usize];
        if n.kind != NodeKind::Build || n.state != NodeState::Planned {
            return false;
        }
        n.state = NodeState::Done;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unplanned_derivation_leaves_the_plan_without_counting_as_built() {
        let mut t = DrvTree::new();
        let a = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a.drv";
        let b = "/nix/store/1123456789abcdfghijklmnpqrsvwxyz-b.drv";
        t.plan(a);
        t.plan(b);
        assert_eq!(t.totals(0).builds_planned, 2);
        assert!(t.unplan(a));
        assert!(!t.unplan(a), "once");
        assert!(!t.unplan("/nix/store/2123456789abcdfghijklmnpqrsvwxyz-c.drv"));
        let totals = t.totals(0);
        assert_eq!((totals.builds_planned, totals.builds_done), (1, 0));
        let rows = t.rows(10, 0);
        assert_eq!((rows.rows.len(), rows.done), (1, 1));
        assert!(t.built().is_empty());
    }
}
