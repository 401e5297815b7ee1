//! The sequential stopping rule as statistics, simulated (seeded, no
//! timing): every sequence is judged after every round from round 6 on
//! with the same functions a run uses (`stats::compare_paired` under the
//! sequential rule, then `stats::verdict`), and stops as soon as its verdict
//! is settled or at 500 rounds. Noise is heavy-tailed (Student's t with 3
//! degrees of freedom) at the robust spreads measured for per-round log
//! ratios on this machine and above them.

use perfgate::model::{Better, Verdict};
use perfgate::stats::{self, CompareConfig, Rule};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

const MIN_ROUNDS: usize = 6;
const MAX_ROUNDS: usize = 500;

fn cfg() -> CompareConfig {
    CompareConfig { rule: Rule::Sequential, power: false, settle: false, ..CompareConfig::default() }
}

/// Student's t with 3 degrees of freedom, scaled so its robust spread
/// (1.4826 · MAD) is `spread`: the MAD of t₃ is 0.7649.
fn t3(rng: &mut ChaCha8Rng, spread: f64) -> f64 {
    let normal = |rng: &mut ChaCha8Rng| {
        let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let z = normal(rng);
    let chi2: f64 = (0..3).map(|_| normal(rng).powi(2)).sum();
    z / (chi2 / 3.0).sqrt() * spread / (1.4826 * 0.7649)
}

/// One sequence: rounds of (baseline, candidate) with the candidate `change`
/// (a ratio) slower, judged after each round; returns the verdict and
/// rounds at the stop.
fn sequence(rng: &mut ChaCha8Rng, change: f64, spread: f64, max_rounds: usize) -> (Verdict, usize) {
    let cfg = cfg();
    let mut pairs = Vec::with_capacity(max_rounds);
    for round in 1..=max_rounds {
        // Each side's own level wanders too; only the ratio carries the change.
        let level = 100.0 * (1.0 + 0.3 * rng.random::<f64>());
        pairs.push((level, level * change * t3(rng, spread).exp()));
        if round < MIN_ROUNDS {
            continue;
        }
        let effect = stats::compare_paired(&pairs, &cfg);
        let verdict = stats::verdict(round, round, &effect, effect.p_value, Better::Lower, &cfg);
        if verdict.is_settled() {
            return (verdict, round);
        }
    }
    (Verdict::Inconclusive, max_rounds)
}

/// Runs `n` sequences on two threads, each with its own seeded stream.
fn many(n: usize, seed: u64, f: impl Fn(&mut ChaCha8Rng) -> (Verdict, usize) + Sync) -> Vec<(Verdict, usize)> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..2u64)
            .map(|part| {
                s.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed * 2 + part);
                    (0..n / 2).map(|_| f(&mut rng)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_a_sequences_with_optional_stopping_keep_false_verdicts_under_alpha() {
    // 10,000 A/A sequences, a quarter at each robust spread from 2.5% (a
    // CPU loop here) to 20% (far noisier than anything measured).
    let spreads = [0.025, 0.05, 0.10, 0.20];
    let outcomes = many(10_000, 1, |rng| {
        let spread = spreads[rng.random_range(0..spreads.len())];
        sequence(rng, 1.0, spread, MAX_ROUNDS)
    });
    let false_verdicts = outcomes.iter().filter(|(v, _)| matches!(v, Verdict::Improved | Verdict::Regressed)).count();
    let rate = false_verdicts as f64 / outcomes.len() as f64;
    let unchanged = outcomes.iter().filter(|(v, _)| *v == Verdict::Unchanged).count();
    eprintln!(
        "A/A: {false_verdicts} false verdicts in {} sequences ({:.2}%), {unchanged} settled as unchanged",
        outcomes.len(),
        rate * 100.0
    );
    assert!(rate <= cfg().alpha, "false-verdict rate {rate} above α");
    // The rule does settle A/A runs that are quiet enough for the threshold.
    assert!(unchanged > outcomes.len() / 4, "{unchanged}");
}

#[test]
fn ten_and_five_percent_changes_are_found() {
    // 8% robust spread per round (the noisiest of the per-benchmark pairs
    // measured here; a CPU loop shows 2–3%), at most 250 rounds: what 3
    // minutes of two 100 ms benchmarks allow.
    for (change, want) in [(1.10, 0.99), (1.05, 0.8)] {
        let outcomes = many(1_000, 2, |rng| sequence(rng, change, 0.08, 250));
        let found = outcomes.iter().filter(|(v, _)| *v == Verdict::Regressed).count() as f64 / outcomes.len() as f64;
        let wrong = outcomes.iter().filter(|(v, _)| *v == Verdict::Improved).count();
        let mut rounds: Vec<usize> = outcomes.iter().map(|o| o.1).collect();
        rounds.sort();
        eprintln!(
            "+{:.0}%: regressed in {:.1}%, median {} rounds (90th percentile {})",
            (change - 1.0) * 100.0,
            found * 100.0,
            rounds[rounds.len() / 2],
            rounds[rounds.len() * 9 / 10]
        );
        assert!(found >= want, "+{:.0}% found in only {:.1}%", (change - 1.0) * 100.0, found * 100.0);
        assert_eq!(wrong, 0, "a slowdown called an improvement");
    }
}
