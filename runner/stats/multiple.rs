//! Multiple comparisons: one run compares many metrics at once, so p-values
//! are turned into Benjamini–Hochberg q-values (false discovery rate), and
//! verdicts use q.

/// Benjamini–Hochberg adjusted p-values (q-values), in the input's order.
///
/// Step-up procedure: sort ascending, q₍ᵢ₎ = min over j ≥ i of p₍ⱼ₎·m/j,
/// capped at 1, which keeps q monotone in p. NaN inputs count as 1 (no
/// evidence) and the inputs are clamped to [0, 1], so the output is always
/// a valid probability.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean: Vec<f64> = p_values.iter().map(|&p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) }).collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean[a].total_cmp(&clean[b]));
    let mut q = vec![1.0; m];
    let mut running_min: f64 = 1.0;
    for (rank0, &index) in order.iter().enumerate().rev() {
        let adjusted = clean[index] * m as f64 / (rank0 + 1) as f64;
        running_min = running_min.min(adjusted);
        q[index] = running_min;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_statsmodels() {
        // statsmodels 0.15: multipletests(p, method="fdr_bh")[1] for the
        // 15 p-values of Benjamini & Hochberg (1995), table in §4, in a
        // shuffled order to check that output order follows input order.
        let p = [
            0.0201, 0.0001, 0.0278, 0.0004, 0.0298, 0.0019, 0.0344, 0.0095, 0.0459, 0.3240, 0.7590, 0.4262, 0.5719,
            0.6528, 1.0,
        ];
        let want = [
            0.0603,
            0.0015,
            0.06385714285714286,
            0.003,
            0.06385714285714286,
            0.0095,
            0.0645,
            0.035625,
            0.0765,
            0.486,
            0.8132142857142857,
            0.5811818181818182,
            0.714875,
            0.7532307692307693,
            1.0,
        ];
        let got = benjamini_hochberg(&p);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "got {got:?}");
        }
        // As in the paper, the four smallest p-values are discoveries at 5%.
        assert_eq!(got.iter().filter(|&&q| q <= 0.05).count(), 4);
    }

    #[test]
    fn edge_cases() {
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[0.03]), vec![0.03]);
        // Cap at 1 and NaN treated as 1.
        assert_eq!(benjamini_hochberg(&[0.9, f64::NAN]), vec![1.0, 1.0]);
        // Equal p-values share a q: 0.04·3/3.
        assert_eq!(benjamini_hochberg(&[0.04, 0.04, 0.04]), vec![0.04, 0.04, 0.04]);
    }
}
