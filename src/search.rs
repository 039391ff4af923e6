//! The one fuzzy matcher of atwb: the TUI's `/` search, `atwb list --filter` and `atwb debug
//! filter` all rank with this module, so a query finds the same packages everywhere. Also the one
//! "did you mean" for misspelt names (catalog fields, orgs, packages, key-binding actions).
//!
//! The module knows records only through [`Searchable`], so it sits below the catalog that
//! implements it.
//!
//! Matching is SkimMatcherV2 (smart case, like fzf). Two things keep it at fzf speed on large
//! inputs: a byte-level subsequence prefilter that rejects most candidates before the matcher
//! copies them into `char` buffers and builds its score matrix, and a split of big inputs across
//! all cores.

use std::num::NonZeroUsize;

use fuzzy_matcher::skim::SkimMatcherV2;

/// A name match outranks the same match in the description; service names sit between.
const NAME_WEIGHT: i64 = 3;
const SERVICE_WEIGHT: i64 = 2;
const OTHER_WEIGHT: i64 = 1;

/// Below this many candidates, spawning threads costs more than it saves.
const PARALLEL_THRESHOLD: usize = 4096;

/// What the matcher sees of a record (a catalog package): the fields a query is matched against.
pub trait Searchable {
    fn name(&self) -> &str;
    fn org(&self) -> &str;
    fn description(&self) -> &str;
    /// Names of the record's services; a match in one ranks between a name and an org match.
    fn services(&self) -> impl Iterator<Item = &str>;
}

/// A matcher configured the way every caller must use it.
pub fn matcher() -> SkimMatcherV2 {
    SkimMatcherV2::default().smart_case()
}

/// Whether matching `pattern` is case-sensitive: fzf's smart case (an uppercase letter in the
/// pattern makes the match case-sensitive).
fn case_sensitive(pattern: &str) -> bool {
    pattern.chars().any(char::is_uppercase)
}

/// Cheap necessary condition for a fuzzy match: the pattern's characters occur in order. Works on
/// bytes for ASCII (the common case); any non-ASCII input is left to the real matcher.
fn may_match(choice: &str, pattern: &str, case_sensitive: bool) -> bool {
    if !choice.is_ascii() || !pattern.is_ascii() {
        return true;
    }
    let mut hay = choice.bytes();
    'pattern: for p in pattern.bytes() {
        for c in hay.by_ref() {
            let equal = if case_sensitive {
                c == p
            } else {
                c.eq_ignore_ascii_case(&p)
            };
            if equal {
                continue 'pattern;
            }
        }
        return false;
    }
    true
}

/// Score of `pattern` in `choice`, or None when it does not match.
pub fn score(matcher: &SkimMatcherV2, choice: &str, pattern: &str) -> Option<i64> {
    if pattern.is_empty() {
        return Some(0);
    }
    if !may_match(choice, pattern, case_sensitive(pattern)) {
        return None;
    }
    matcher.fuzzy(choice, pattern, false).map(|(s, _)| s)
}

/// Score plus the matched positions (char indices into `choice`), for highlighting.
pub fn indices(matcher: &SkimMatcherV2, choice: &str, pattern: &str) -> Option<(i64, Vec<usize>)> {
    if pattern.is_empty() {
        return Some((0, Vec::new()));
    }
    if !may_match(choice, pattern, case_sensitive(pattern)) {
        return None;
    }
    matcher.fuzzy(choice, pattern, true)
}

/// Filters plain strings (`atwb debug filter`, benchmarks): `(index, score)` of every match, best
/// first, ties in input order. An empty query keeps everything in input order.
pub fn filter_strings<S: AsRef<str> + Sync>(choices: &[S], query: &str) -> Vec<(usize, i64)> {
    let query = query.trim();
    let mut hits = if query.is_empty() {
        (0..choices.len()).map(|i| (i, 0)).collect()
    } else {
        par_filter(choices.len(), |m, i| score(m, choices[i].as_ref(), query))
    };
    sort_best_first(&mut hits);
    hits
}

/// Ranks packages against `query` over name, org, description and service names: `(index into
/// packages, score)`, best first, ties in catalog order. An empty query keeps every package in
/// catalog order.
pub fn rank<P: Searchable + Sync>(packages: &[P], query: &str) -> Vec<(usize, i64)> {
    if query.trim().is_empty() {
        return (0..packages.len()).map(|i| (i, 0)).collect();
    }
    let all: Vec<usize> = (0..packages.len()).collect();
    rank_among(packages, &all, query)
}

/// `rank` restricted to the packages at `candidates`. Typing narrows a search: every match of a
/// query is also a match of each of its prefixes (a subsequence stays one when the pattern loses
/// its tail, and a case-sensitive match is also a case-insensitive one), so the TUI re-ranks only
/// the previous matches when the query grows.
pub fn rank_among<P: Searchable + Sync>(
    packages: &[P],
    candidates: &[usize],
    query: &str,
) -> Vec<(usize, i64)> {
    let query = query.trim();
    if query.is_empty() {
        let mut all: Vec<(usize, i64)> = candidates.iter().map(|&i| (i, 0)).collect();
        all.sort_unstable();
        return all;
    }
    let mut hits = par_filter(candidates.len(), |m, k| {
        let i = candidates[k];
        package_score(m, &packages[i], query)
    });
    for hit in &mut hits {
        hit.0 = candidates[hit.0];
    }
    sort_best_first(&mut hits);
    hits
}

fn package_score(m: &SkimMatcherV2, p: &impl Searchable, query: &str) -> Option<i64> {
    let name = score(m, p.name(), query).map(|s| s * NAME_WEIGHT);
    let org = score(m, p.org(), query).map(|s| s * OTHER_WEIGHT);
    let description = score(m, p.description(), query).map(|s| s * OTHER_WEIGHT);
    let services = p
        .services()
        .filter_map(|s| score(m, s, query))
        .max()
        .map(|s| s * SERVICE_WEIGHT);
    [name, org, description, services]
        .into_iter()
        .flatten()
        .max()
}

/// Where the query matched in one package, as char indices per field (for highlighting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlights {
    pub name: Vec<usize>,
    pub org: Vec<usize>,
    pub description: Vec<usize>,
    /// `(service name, indices)` for each service whose name matched.
    pub services: Vec<(String, Vec<usize>)>,
}

impl Highlights {
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
            && self.org.is_empty()
            && self.description.is_empty()
            && self.services.is_empty()
    }

    /// Indices for one service's name, empty when it did not match.
    pub fn service(&self, name: &str) -> &[usize] {
        self.services
            .iter()
            .find(|(s, _)| s == name)
            .map_or(&[], |(_, i)| i.as_slice())
    }
}

/// Matched positions of `query` in each field of `p`; empty for an empty query.
pub fn highlights(p: &impl Searchable, query: &str) -> Highlights {
    let query = query.trim();
    if query.is_empty() {
        return Highlights::default();
    }
    let m = matcher();
    let field = |s: &str| indices(&m, s, query).map(|(_, i)| i).unwrap_or_default();
    Highlights {
        name: field(p.name()),
        org: field(p.org()),
        description: field(p.description()),
        services: p
            .services()
            .filter_map(|s| indices(&m, s, query).map(|(_, i)| (s.to_string(), i)))
            .collect(),
    }
}

/// The closest of `candidates` to `value`, if close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    value: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (c, strsim::jaro_winkler(value, c)))
        .filter(|(c, score)| *score >= 0.8 || strsim::levenshtein(value, c) <= 2)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

fn sort_best_first(hits: &mut [(usize, i64)]) {
    // Ties broken by index, so equal scores keep input order (deterministic output).
    hits.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// Scores `0..len` with `score_at`, splitting large inputs over all cores.
fn par_filter<F>(len: usize, score_at: F) -> Vec<(usize, i64)>
where
    F: Fn(&SkimMatcherV2, usize) -> Option<i64> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let chunk = len.div_ceil(threads.max(1)).max(1);
    let run = |range: std::ops::Range<usize>| {
        let m = matcher();
        range
            .filter_map(|i| score_at(&m, i).map(|s| (i, s)))
            .collect::<Vec<_>>()
    };
    if threads <= 1 || len < PARALLEL_THRESHOLD {
        return run(0..len);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..len)
            .step_by(chunk)
            .map(|start| {
                let run = &run;
                scope.spawn(move || run(start..(start + chunk).min(len)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("filter thread panicked"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_agrees_with_subsequence() {
        assert!(may_match("constellation", "cst", false));
        assert!(may_match("Constellation", "cst", false));
        assert!(!may_match("constellation", "xyz", false));
        assert!(!may_match("constellation", "tsc", false));
        assert!(!may_match("constellation", "C", true));
    }

    #[test]
    fn filter_strings_ranks_best_first_and_drops_non_matches() {
        let names = ["relay", "indigo-relay", "pds", "rsky-relay", "plc"];
        let hits = filter_strings(&names, "relay");
        let got: Vec<&str> = hits.iter().map(|(i, _)| names[*i]).collect();
        assert_eq!(got[0], "relay");
        assert!(got.contains(&"indigo-relay") && got.contains(&"rsky-relay"));
        assert!(!got.contains(&"pds") && !got.contains(&"plc"));
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn empty_query_keeps_input_order() {
        let names = ["b", "a", "c"];
        assert_eq!(filter_strings(&names, "  "), vec![(0, 0), (1, 0), (2, 0)]);
    }

    #[test]
    fn smart_case() {
        let names = ["Relay", "relay"];
        let hits = filter_strings(&names, "R");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 0);
        assert_eq!(filter_strings(&names, "r").len(), 2);
    }

    #[test]
    fn parallel_and_serial_paths_agree() {
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("pkg-{i}-relay{}", i % 7))
            .collect();
        let par = filter_strings(&names, "rly3");
        let m = matcher();
        let mut serial: Vec<(usize, i64)> = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| m.fuzzy(n, "rly3", false).map(|(s, _)| (i, s)))
            .collect();
        sort_best_first(&mut serial);
        assert_eq!(par, serial);
        assert!(!par.is_empty());
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("descripton", ["description", "name"]),
            Some("description")
        );
        assert_eq!(did_you_mean("zzz", ["description", "name"]), None);
        assert_eq!(
            did_you_mean("deps-hash", ["deps_hash", "members"]),
            Some("deps_hash")
        );
    }

    #[test]
    fn indices_are_char_positions() {
        let m = matcher();
        let (_, idx) = indices(&m, "ünïcode-relay", "relay").unwrap();
        assert_eq!(idx, vec![8, 9, 10, 11, 12]);
    }
}
