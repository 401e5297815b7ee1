//! Rounds and their randomized order (DESIGN §5). Each round runs every
//! variant once per scenario, in an order drawn from a seeded RNG, so drift in
//! the machine (thermal, other load) hits both variants alike. The seed and
//! the drawn orders are recorded in results.json.

use crate::model::Role;
use crate::results::ScheduledRound;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// One measurement to take: a scenario, a round, a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    pub scenario: usize,
    pub round: u32,
    pub role: Role,
}

/// The plan of a run: trials in execution order, and the per-round orders.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub seed: u64,
    pub trials: Vec<Trial>,
    pub rounds: Vec<ScheduledRound>,
}

/// Rounds are the outer loop and scenarios the inner one, so every scenario's
/// rounds are spread over the whole run rather than bunched at one time.
/// ChaCha8 is used for its stable, documented output: the same seed gives the
/// same order on every platform and rand version.
pub fn plan(scenario_names: &[String], rounds: u32, seed: u64) -> Schedule {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut trials = Vec::new();
    let mut orders = Vec::new();
    for round in 1..=rounds {
        for (scenario, name) in scenario_names.iter().enumerate() {
            let order = if rng.random_bool(0.5) {
                [Role::Baseline, Role::Candidate]
            } else {
                [Role::Candidate, Role::Baseline]
            };
            for role in order {
                trials.push(Trial { scenario, round, role });
            }
            orders.push(ScheduledRound { scenario: name.clone(), round, order: order.to_vec() });
        }
    }
    Schedule { seed, trials, rounds: orders }
}

/// A seed for runs that did not ask for one, recorded so the run can be repeated.
pub fn fresh_seed() -> u64 {
    rand::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_order_and_both_orders_occur() {
        let names = vec!["a".to_string(), "b".to_string()];
        let s1 = plan(&names, 20, 42);
        let s2 = plan(&names, 20, 42);
        assert_eq!(s1.trials, s2.trials);
        assert_eq!(s1.trials.len(), 20 * 2 * 2);
        let firsts: Vec<Role> = s1.rounds.iter().map(|r| r.order[0]).collect();
        assert!(firsts.contains(&Role::Baseline) && firsts.contains(&Role::Candidate));
        assert_ne!(plan(&names, 20, 43).rounds, s1.rounds);
    }

    #[test]
    fn every_round_runs_each_variant_once_per_scenario() {
        let names = vec!["a".to_string()];
        let s = plan(&names, 5, 7);
        for round in 1..=5 {
            let roles: Vec<Role> = s.trials.iter().filter(|t| t.round == round).map(|t| t.role).collect();
            assert_eq!(roles.len(), 2);
            assert_ne!(roles[0], roles[1]);
        }
        // Rounds run in increasing order: never all of A then all of B.
        assert!(s.trials.windows(2).all(|w| w[0].round <= w[1].round));
    }
}
