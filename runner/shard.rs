//! `compare --shard I/N`: a deterministic split of a run's scenarios over N
//! CI jobs. With the results.json of an earlier run (`--shard-by`), the
//! split balances the time each scenario's rounds took there (longest
//! first, each to the shard with the least time so far); without, it deals
//! the scenarios out in file order (scenario k to shard k mod N), so every
//! shard gets ⌊S/N⌋ or ⌈S/N⌉. Every shard computes the same split from the
//! same inputs, so N jobs need no coordination.

use crate::results::{Results, ShardInfo};
use std::collections::BTreeMap;

/// Shard `index` of `count`, 1-based as written: `--shard 2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?} is not a shard: write I/N with 1 ≤ I ≤ N, e.g. 2/3");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Seconds each scenario's rounds took in `previous` (both variants).
pub fn durations(previous: &Results) -> BTreeMap<String, f64> {
    previous
        .stopping
        .iter()
        .flat_map(|s| &s.scenarios)
        .filter(|s| s.seconds.is_finite() && s.seconds > 0.0)
        .map(|s| (s.scenario.clone(), s.seconds))
        .collect()
}

/// Which shard (1-based) each of `names` goes to, in their order.
/// Scenarios `durations` does not know are given the median of those it does.
pub fn assign(names: &[String], durations: Option<&BTreeMap<String, f64>>, count: u32) -> Vec<u32> {
    let count = count.max(1);
    let Some(known) = durations.filter(|d| names.iter().any(|n| d.contains_key(n))) else {
        return (0..names.len()).map(|k| (k as u32 % count) + 1).collect();
    };
    let mut seen: Vec<f64> = names.iter().filter_map(|n| known.get(n).copied()).collect();
    seen.sort_by(f64::total_cmp);
    let median = seen[seen.len() / 2];
    let cost = |n: &String| known.get(n).copied().unwrap_or(median);
    // Longest first (ties: file order), each to the least loaded shard
    // (ties: the lowest index): the LPT rule, within 4/3 of the best split.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| cost(&names[b]).total_cmp(&cost(&names[a])).then(a.cmp(&b)));
    let mut load = vec![0.0f64; count as usize];
    let mut out = vec![0; names.len()];
    for k in order {
        let least = (0..load.len()).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
        load[least] += cost(&names[k]);
        out[k] = least as u32 + 1;
    }
    out
}

/// What results.json says of the shard: its scenarios, and all of the run's.
pub fn info(shard: Shard, names: &[String], assigned: &[u32], by_durations: bool) -> ShardInfo {
    ShardInfo {
        index: shard.index,
        count: shard.count,
        split: if by_durations { "durations" } else { "count" }.into(),
        scenarios: names.iter().zip(assigned).filter(|(_, s)| **s == shard.index).map(|(n, _)| n.clone()).collect(),
        of: names.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    #[test]
    fn durations_are_an_earlier_runs_seconds_per_scenario() {
        let mut r = crate::results::Results::new(
            crate::results::Run::example(),
            crate::results::Environment::default(),
            Vec::new(),
        );
        r.stopping = Some(crate::results::Stopping {
            rule: "fixed".into(),
            method: String::new(),
            rounds: Some(4),
            min_rounds: None,
            max_rounds: None,
            max_time_s: None,
            reason: "rounds".into(),
            measured_s: 3.0,
            scenarios: [("a", 2.0), ("b", 1.0), ("c", f64::NAN), ("d", 0.0)]
                .map(|(s, secs)| crate::results::ScenarioStop {
                    scenario: s.into(),
                    rounds: 4,
                    reason: "rounds".into(),
                    seconds: secs,
                    seconds_per_round: secs / 4.0,
                })
                .to_vec(),
            looks: Vec::new(),
        });
        let d = durations(&r);
        assert_eq!(d.into_iter().collect::<Vec<_>>(), [("a".to_string(), 2.0), ("b".to_string(), 1.0)]);
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 1, count: 4 }.to_string(), "1/4");
    }

    #[test]
    fn by_count_every_shard_gets_its_fair_share() {
        for (s, n) in [(9, 3), (10, 3), (2, 4), (1, 1), (7, 7)] {
            let a = assign(&names(s), None, n);
            for shard in 1..=n {
                let k = a.iter().filter(|&&x| x == shard).count();
                assert!(k == s / n as usize || k == s.div_ceil(n as usize), "{s}/{n}: {a:?}");
            }
        }
        assert_eq!(assign(&names(5), None, 2), [1, 2, 1, 2, 1]);
    }

    #[test]
    fn by_duration_the_longest_are_spread_and_loads_even_out() {
        let n = names(6);
        let d: BTreeMap<String, f64> =
            [("s0", 60.0), ("s1", 50.0), ("s2", 10.0), ("s3", 10.0), ("s4", 10.0), ("s5", 40.0)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let a = assign(&n, Some(&d), 2);
        let load = |s: u32| -> f64 { n.iter().zip(&a).filter(|(_, x)| **x == s).map(|(k, _)| d[k]).sum() };
        assert_eq!((load(1), load(2)), (90.0, 90.0), "{a:?}");
        assert_ne!(a[0], a[1], "the two longest apart");
        // Deterministic: the same inputs, the same split.
        assert_eq!(assign(&n, Some(&d), 2), a);
        // A scenario the earlier run did not have costs the median.
        let mut more = n.clone();
        more.push("new".into());
        assert_eq!(assign(&more, Some(&d), 3).len(), 7);
        // Durations of other scenarios only: split by count.
        let other: BTreeMap<String, f64> = [("x".to_string(), 1.0)].into_iter().collect();
        assert_eq!(assign(&n, Some(&other), 2), assign(&n, None, 2));
    }
}
