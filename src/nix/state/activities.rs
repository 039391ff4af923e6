//! The activities nix has started and not yet stopped, at most [`MAX_LIVE_ACTIVITIES`] of them:
//! a log whose activities never stop (cut, corrupt or hostile) must not grow memory, so the
//! oldest live one is forgotten to make room.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use super::Transfer;
use crate::nix::internal_json::ActivityType;

/// Live activities kept. Nix 2.8 runs at most `max-jobs` builds and `http-connections`
/// downloads at once, each one or two activities: thousands are never live in a real log.
pub const MAX_LIVE_ACTIVITIES: usize = 4096;
/// SetExpected kinds kept per activity (nix sends one or two).
const MAX_EXPECTED_KINDS: usize = 4;

#[derive(Debug, Clone)]
pub(super) struct Activity {
    pub kind: ActivityType,
    pub drv: Option<usize>,
    /// A copy, download or substitution in flight.
    pub transfer: Option<Transfer>,
    /// SetExpected per activity type code; a later one replaces an earlier one.
    pub expected: Vec<(u64, u64)>,
}

impl Activity {
    pub fn set_expected(&mut self, kind: u64, n: u64) {
        if let Some(e) = self.expected.iter_mut().find(|(k, _)| *k == kind) {
            e.1 = n;
        } else if self.expected.len() < MAX_EXPECTED_KINDS {
            self.expected.push((kind, n));
        }
    }
}

/// Nix activity ids are unique integers: hashing them with SipHash is wasted work.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing spreads consecutive ids over the table.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Live activities by id, with their start order for eviction.
#[derive(Debug, Default)]
pub(super) struct Activities {
    live: IdMap<Activity>,
    /// Ids in start order; an id stopped since is skipped (and compacted away) lazily.
    order: VecDeque<u64>,
}

impl Activities {
    pub fn get(&self, id: u64) -> Option<&Activity> {
        self.live.get(&id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Activity> {
        self.live.get_mut(&id)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn values(&self) -> impl Iterator<Item = &Activity> {
        self.live.values()
    }

    /// Start `id` (a repeated id replaces the activity). Returns the oldest live activity when
    /// it had to be forgotten to stay within [`MAX_LIVE_ACTIVITIES`].
    pub fn insert(&mut self, id: u64, activity: Activity) -> Option<Activity> {
        if self.live.insert(id, activity).is_none() {
            self.order.push_back(id);
        }
        let evicted = if self.live.len() > MAX_LIVE_ACTIVITIES {
            self.pop_oldest()
        } else {
            None
        };
        // Stopped ids linger in `order`; compact once they outnumber the live ones, so the
        // queue stays within about twice the cap (amortised constant work per start).
        if self.order.len() > 2 * MAX_LIVE_ACTIVITIES + 64 {
            let mut seen = HashSet::with_capacity(self.live.len());
            let live = &self.live;
            self.order
                .retain(|id| live.contains_key(id) && seen.insert(*id));
        }
        evicted
    }

    pub fn remove(&mut self, id: u64) -> Option<Activity> {
        self.live.remove(&id)
    }

    fn pop_oldest(&mut self) -> Option<Activity> {
        while let Some(id) = self.order.pop_front() {
            if let Some(a) = self.live.remove(&id) {
                return Some(a);
            }
        }
        None
    }

    /// Ids remembered for eviction (live ones plus stopped ones not yet compacted away).
    pub fn order_len(&self) -> usize {
        self.order.len()
    }
}
