//! The noise probe: how far this machine lets two runs of the same code
//! disagree. Two loops — one bound by the CPU, one by memory latency (a
//! pointer chase through 64 MiB) — each calibrated to a short trial and run
//! as paired A/A rounds in random order, as `compare` runs its variants.
//! From the rounds' log ratios: the paired CV, and, through the decision
//! rule a default run applies (`stats::power`), the smallest change such a
//! run would call and the rounds a 5% or 10% change would take.

use crate::results::{LoopNoise, NoiseProbe};
use crate::stats::{Rule, power};
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Each trial of a loop takes about this long.
const TRIAL: Duration = Duration::from_millis(20);
/// Fewer rounds than this and the figures would be noise themselves.
const MIN_ROUNDS: usize = 12;
/// Entries (u32) of the memory loop's ring: 64 MiB, past any cache here.
const RING: usize = 16 << 20;
/// Rounds estimates stop at (the default `max_rounds`).
const MAX_ROUNDS: usize = crate::plan::DEFAULT_MAX_ROUNDS as usize;
/// The default threshold a run judges at.
const THRESHOLD_PCT: f64 = 2.0;

/// Runs both loops within about `budget` (at least `MIN_ROUNDS` rounds
/// each), `seed` deciding the order within rounds.
pub fn run(budget: Duration, seed: u64) -> NoiseProbe {
    let started = Instant::now();
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    let cpu = measure("cpu", budget / 2, &mut rng, cpu_loop_calibrated());
    let memory = measure("memory", budget / 2, &mut rng, memory_loop_calibrated());
    let reference = reference_round();
    NoiseProbe {
        seconds: started.elapsed().as_secs_f64(),
        threshold_pct: THRESHOLD_PCT,
        default_rounds: default_rounds(reference),
        reference_round_seconds: reference.as_secs_f64(),
        loops: vec![cpu, memory],
    }
}

/// A round of the reference scenario the time estimates use: the http
/// kind's default window and warm-up (10 s + 1 s), once per variant.
fn reference_round() -> Duration {
    2 * (Duration::from_secs(10) + Duration::from_secs(1))
}

/// The rounds a default run reaches: its time budget over the reference
/// round, within its round limits.
fn default_rounds(round: Duration) -> usize {
    let by_time = (crate::plan::DEFAULT_MAX_TIME.as_secs_f64() / round.as_secs_f64()).floor() as usize;
    by_time.clamp(crate::plan::DEFAULT_MIN_ROUNDS as usize, MAX_ROUNDS)
}

/// One loop, as a closure running `n` units of work, with `n` calibrated.
struct Calibrated {
    work: Box<dyn FnMut(u64) -> u64>,
    units: u64,
}

fn calibrate(mut work: Box<dyn FnMut(u64) -> u64>) -> Calibrated {
    let mut units = 1_000u64;
    loop {
        let t = Instant::now();
        black_box(work(units));
        let took = t.elapsed();
        if took >= TRIAL / 4 || units >= 1 << 40 {
            let scale = TRIAL.as_secs_f64() / took.as_secs_f64().max(1e-9);
            units = ((units as f64 * scale) as u64).max(1);
            return Calibrated { work, units };
        }
        units *= 4;
    }
}

/// Integer mixing (splitmix64 steps): registers only.
fn cpu_loop_calibrated() -> Calibrated {
    calibrate(Box::new(|n| {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..n {
            x = x.wrapping_add(i).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x ^= x >> 31;
        }
        x
    }))
}

/// A pointer chase through one random cycle (Sattolo's shuffle): every step
/// a dependent load from memory.
fn memory_loop_calibrated() -> Calibrated {
    let mut ring: Vec<u32> = (0..RING as u32).collect();
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(0x6d65_6d6f);
    for i in (1..RING).rev() {
        let j = rng.random_range(0..i);
        ring.swap(i, j);
    }
    let mut at = 0u32;
    calibrate(Box::new(move |n| {
        for _ in 0..n {
            at = ring[at as usize];
        }
        at as u64
    }))
}

fn measure(name: &str, budget: Duration, rng: &mut rand::rngs::ChaCha8Rng, mut lp: Calibrated) -> LoopNoise {
    let started = Instant::now();
    let mut log_ratios = Vec::new();
    let mut trials = Vec::new();
    while log_ratios.len() < MIN_ROUNDS || (started.elapsed() < budget && log_ratios.len() < MAX_ROUNDS) {
        // Which "variant" runs first is random, as in compare's rounds.
        let a_first = rng.random::<bool>();
        let mut times = [0.0f64; 2];
        for slot in if a_first { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            black_box((lp.work)(lp.units));
            times[slot] = t.elapsed().as_secs_f64();
        }
        trials.extend(times);
        log_ratios.push((times[1] / times[0]).ln());
    }
    summarize(name, &log_ratios, &trials)
}

/// The figures of one loop from its rounds' log ratios (B over A).
pub(crate) fn summarize(name: &str, log_ratios: &[f64], trials: &[f64]) -> LoopNoise {
    let n = log_ratios.len();
    let mean = log_ratios.iter().sum::<f64>() / n as f64;
    let var = log_ratios.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    let mut sorted = log_ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut trial_sorted = trials.to_vec();
    trial_sorted.sort_by(f64::total_cmp);
    let decider = power::Decider::new(Rule::Sequential, 0.05, 0.95, THRESHOLD_PCT, power::Scale::Log);
    let default_rounds = default_rounds(reference_round());
    LoopNoise {
        name: name.to_string(),
        rounds: n,
        trial_ms: crate::stats::median_sorted(&trial_sorted) * 1e3,
        paired_cv_pct: var.sqrt() * 100.0,
        mde_pct: power::rule_mde_pct_at(&sorted, default_rounds, &decider),
        rounds_for_5pct: power::rounds_for_change(&sorted, 5.0, &decider, MAX_ROUNDS),
        rounds_for_10pct: power::rounds_for_change(&sorted, 10.0, &decider, MAX_ROUNDS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stats::power::normal_draw as normal;

    #[test]
    fn quieter_machines_call_smaller_changes_sooner() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let quiet: Vec<f64> = (0..60).map(|_| normal(&mut rng, 0.01)).collect();
        let noisy: Vec<f64> = (0..60).map(|_| normal(&mut rng, 0.10)).collect();
        let q = summarize("quiet", &quiet, &[0.02; 120]);
        let n = summarize("noisy", &noisy, &[0.02; 120]);
        assert!((q.paired_cv_pct - 1.0).abs() < 0.3, "{q:?}");
        assert!((n.paired_cv_pct - 10.0).abs() < 3.0, "{n:?}");
        assert!(q.mde_pct.unwrap() < n.mde_pct.unwrap(), "{q:?} {n:?}");
        // A 10% change needs fewer rounds than 5%; the quiet machine fewer than the noisy one.
        let (q5, q10) = (q.rounds_for_5pct.unwrap(), q.rounds_for_10pct.unwrap());
        let (n5, n10) = (n.rounds_for_5pct.unwrap(), n.rounds_for_10pct.unwrap());
        assert!(q10 <= q5 && n10 <= n5 && q5 < n5 && q10 < n10, "{q5} {q10} {n5} {n10}");
        assert_eq!(q.trial_ms, 20.0);
    }

    #[test]
    fn rounds_for_a_change_agree_with_a_simulation_of_the_rule() {
        // At 8% noise, the rounds the estimate gives for a 10% change: runs
        // of that many rounds of N(ln 1.1, 8%) call it in about 80% of
        // cases (60–95% over 300 seeded runs), and runs of half as many in
        // clearly fewer.
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        let base: Vec<f64> = (0..200).map(|_| normal(&mut rng, 0.08)).collect();
        let noise = summarize("sim", &base, &[0.02; 400]);
        let rounds = noise.rounds_for_10pct.unwrap();
        let decider = power::Decider::new(Rule::Sequential, 0.05, 0.95, THRESHOLD_PCT, power::Scale::Log);
        let found_share = |n: usize, rng: &mut rand::rngs::ChaCha8Rng| {
            let runs = 300;
            let found = (0..runs)
                .filter(|_| {
                    let mut v: Vec<f64> = (0..n).map(|_| 1.1f64.ln() + normal(rng, 0.08)).collect();
                    v.sort_by(f64::total_cmp);
                    power::calls_a_change(&v, &decider)
                })
                .count();
            found as f64 / runs as f64
        };
        let at = found_share(rounds, &mut rng);
        let half = found_share((rounds / 2).max(2), &mut rng);
        assert!((0.6..=0.95).contains(&at), "{rounds} rounds: {at}");
        assert!(half < at - 0.15, "{half} vs {at}");
    }
}
