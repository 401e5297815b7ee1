//! The randomized order within rounds (DESIGN §5). Each round runs every
//! variant once per scenario (per benchmark, where a scenario runs its
//! benchmarks as separate trials), in an order drawn from a seeded RNG, so
//! drift in the machine (thermal, other load) hits both variants alike. The
//! seed and the drawn orders are recorded in results.json.

use crate::model::Role;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// Draws the order of each pair of trials. ChaCha8 is used for its stable,
/// documented output: the same seed gives the same sequence of orders on
/// every platform and rand version, so a fixed design with the same seed
/// runs in the same order.
pub struct Orders {
    rng: ChaCha8Rng,
}

impl Orders {
    pub fn new(seed: u64) -> Orders {
        Orders { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// The next pair's order.
    pub fn next_pair(&mut self) -> [Role; 2] {
        if self.rng.random_bool(0.5) { [Role::Baseline, Role::Candidate] } else { [Role::Candidate, Role::Baseline] }
    }
}

/// A seed for runs that did not ask for one, recorded so the run can be repeated.
pub fn fresh_seed() -> u64 {
    rand::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_orders_and_both_orders_occur() {
        let draw = |seed| {
            let mut o = Orders::new(seed);
            (0..40).map(|_| o.next_pair()).collect::<Vec<_>>()
        };
        let a = draw(42);
        assert_eq!(a, draw(42));
        assert_ne!(a, draw(43));
        assert!(a.iter().any(|p| p[0] == Role::Baseline) && a.iter().any(|p| p[0] == Role::Candidate));
        assert!(a.iter().all(|p| p[0] != p[1]));
    }
}
