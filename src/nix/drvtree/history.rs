//! Estimates from earlier builds, by derivation name: what the tree shows as `~2m` next to a
//! planned or running derivation. Names are the derivation's name without the store hash
//! (`rsky-pds-0.1.0`), as nix-output-monitor keys them; a name seen for the first time (a
//! version bump) falls back to the newest entry of the same package name (`rsky-pds`).

use std::collections::HashMap;

use super::view::median_ms;

/// Estimates for the derivations of one build, built once when the job starts (immutable, so
/// the jobs layer shares one with the interpreter without a lock).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrvHistory {
    by_name: HashMap<String, u64>,
    /// Package name to (when its newest entry was written, that entry's estimate).
    by_pname: HashMap<String, (u64, u64)>,
}

impl DrvHistory {
    /// Adds the durations (ms) of earlier builds of `name`, the newest written at `at` (any
    /// clock, only compared): the median is the estimate.
    pub fn add(&mut self, name: &str, durations_ms: &[u64], at: u64) {
        let Some(m) = median_ms(durations_ms) else {
            return;
        };
        self.by_name.insert(name.to_string(), m);
        let slot = self
            .by_pname
            .entry(pname(name).to_string())
            .or_insert((at, m));
        if at >= slot.0 {
            *slot = (at, m);
        }
    }

    /// The estimate (ms) for a derivation called `name`: its own history, else its package's.
    pub fn estimate_ms(&self, name: &str) -> Option<u64> {
        self.by_name
            .get(name)
            .or_else(|| self.by_pname.get(pname(name)).map(|(_, m)| m))
            .copied()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The package name of a derivation name, by Nix's `parseDrvName` rule (the version starts at
/// the first dash followed by a non-letter), with a trailing `-unstable` dropped too, so that
/// `foo-unstable-2024-01-01`, `foo-0-unstable-2024-03-01` and `foo-1.0` are all `foo`.
pub fn pname(name: &str) -> &str {
    let bytes = name.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| bytes[i] == b'-' && bytes.get(i + 1).is_some_and(|c| !c.is_ascii_alphabetic()))
        .unwrap_or(name.len());
    let base = &name[..cut];
    base.strip_suffix("-unstable").unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pname_follows_parse_drv_name_and_drops_unstable() {
        assert_eq!(pname("rsky-pds-0.1.0"), "rsky-pds");
        assert_eq!(pname("hello-2.12.1"), "hello");
        assert_eq!(pname("foo-unstable-2024-01-01"), "foo");
        assert_eq!(pname("foo-0-unstable-2024-03-01"), "foo");
        assert_eq!(pname("source"), "source");
        assert_eq!(pname("python3.11-attrs-23.1.0"), "python3.11-attrs");
        assert_eq!(pname("x-"), "x-");
    }

    #[test]
    fn exact_name_first_then_the_newest_of_the_package() {
        let mut h = DrvHistory::default();
        h.add("foo-1.0", &[10, 30, 20], 5);
        h.add("foo-1.1", &[100], 9);
        h.add("foo-0.9", &[7], 1);
        h.add("empty-1", &[], 1);
        assert_eq!(h.estimate_ms("foo-1.0"), Some(20));
        assert_eq!(h.estimate_ms("foo-2.0"), Some(100), "newest foo entry");
        assert_eq!(h.estimate_ms("foo-unstable-2025-01-01"), Some(100));
        assert_eq!(h.estimate_ms("bar-1.0"), None);
        assert_eq!(h.estimate_ms("empty-1"), None);
        assert_eq!(h.len(), 3);
    }
}
