//! Special functions behind the tests and intervals: the normal distribution,
//! binomial coefficients and log-gamma. They follow the algorithms Go's
//! `math` and go-moremath use, so that benchstat's numbers come out the same.

// Coefficients are written exactly as published in fdlibm/Go so they can be
// checked against the source; Rust rounds them to the same f64 bits.
#![allow(clippy::excessive_precision)]

/// Complementary error function (fdlibm's algorithm, as in Go's `math.Erfc`).
///
/// Rust's `f64::erfc` is not stable yet, and Go's normal CDF is built on this
/// exact piecewise approximation, so reproducing it keeps benchstat's p-values
/// identical to the last digit rather than merely close.
pub(crate) fn erfc(x: f64) -> f64 {
    const ERX: f64 = 8.45062911510467529297e-01;
    const PP0: f64 = 1.28379167095512558561e-01;
    const PP1: f64 = -3.25042107247001499370e-01;
    const PP2: f64 = -2.84817495755985104766e-02;
    const PP3: f64 = -5.77027029648944159157e-03;
    const PP4: f64 = -2.37630166566501626084e-05;
    const QQ1: f64 = 3.97917223959155352819e-01;
    const QQ2: f64 = 6.50222499887672944485e-02;
    const QQ3: f64 = 5.08130628187576562776e-03;
    const QQ4: f64 = 1.32494738004321644526e-04;
    const QQ5: f64 = -3.96022827877536812320e-06;
    const PA0: f64 = -2.36211856075265944077e-03;
    const PA1: f64 = 4.14856118683748331666e-01;
    const PA2: f64 = -3.72207876035701323847e-01;
    const PA3: f64 = 3.18346619901161753674e-01;
    const PA4: f64 = -1.10894694282396677476e-01;
    const PA5: f64 = 3.54783043256182359371e-02;
    const PA6: f64 = -2.16637559486879084300e-03;
    const QA1: f64 = 1.06420880400844228286e-01;
    const QA2: f64 = 5.40397917702171048937e-01;
    const QA3: f64 = 7.18286544141962662868e-02;
    const QA4: f64 = 1.26171219808761642112e-01;
    const QA5: f64 = 1.36370839120290507362e-02;
    const QA6: f64 = 1.19844998467991074170e-02;
    const RA0: f64 = -9.86494403484714822705e-03;
    const RA1: f64 = -6.93858572707181764372e-01;
    const RA2: f64 = -1.05586262253232909814e+01;
    const RA3: f64 = -6.23753324503260060396e+01;
    const RA4: f64 = -1.62396669462573470355e+02;
    const RA5: f64 = -1.84605092906711035994e+02;
    const RA6: f64 = -8.12874355063065934246e+01;
    const RA7: f64 = -9.81432934416914548592e+00;
    const SA1: f64 = 1.96512716674392571292e+01;
    const SA2: f64 = 1.37657754143519042600e+02;
    const SA3: f64 = 4.34565877475229228821e+02;
    const SA4: f64 = 6.45387271733267880336e+02;
    const SA5: f64 = 4.29008140027567833386e+02;
    const SA6: f64 = 1.08635005541779435134e+02;
    const SA7: f64 = 6.57024977031928170135e+00;
    const SA8: f64 = -6.04244152148580987438e-02;
    const RB0: f64 = -9.86494292470009928597e-03;
    const RB1: f64 = -7.99283237680523006574e-01;
    const RB2: f64 = -1.77579549177547519889e+01;
    const RB3: f64 = -1.60636384855821916062e+02;
    const RB4: f64 = -6.37566443368389627722e+02;
    const RB5: f64 = -1.02509513161107724954e+03;
    const RB6: f64 = -4.83519191608651397019e+02;
    const SB1: f64 = 3.03380607434824582924e+01;
    const SB2: f64 = 3.25792512996573918826e+02;
    const SB3: f64 = 1.53672958608443695994e+03;
    const SB4: f64 = 3.19985821950859553908e+03;
    const SB5: f64 = 2.55305040643316442583e+03;
    const SB6: f64 = 4.74528541206955367215e+02;
    const SB7: f64 = -2.24409524465858183362e+01;
    const TINY: f64 = 1.0 / (1u64 << 56) as f64;

    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    if x == f64::NEG_INFINITY {
        return 2.0;
    }
    let negative = x < 0.0;
    let x = x.abs();
    if x < 0.84375 {
        let temp = if x < TINY {
            x
        } else {
            let z = x * x;
            let r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
            let s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
            let y = r / s;
            if x < 0.25 { x + x * y } else { 0.5 + (x * y + (x - 0.5)) }
        };
        return if negative { 1.0 + temp } else { 1.0 - temp };
    }
    if x < 1.25 {
        let s = x - 1.0;
        let p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
        let q = 1.0 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
        return if negative { 1.0 + ERX + p / q } else { 1.0 - ERX - p / q };
    }
    if x < 28.0 {
        let s = 1.0 / (x * x);
        let (r, q);
        if x < 1.0 / 0.35 {
            r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
            q = 1.0 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
        } else {
            if negative && x > 6.0 {
                return 2.0;
            }
            r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
            q = 1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
        }
        // Splitting x into a 20-bit head and a tail keeps exp's argument exact
        // enough; this is fdlibm's trick and part of what we must reproduce.
        let z = f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000);
        let e = exp_like_go(-z * z - 0.5625) * exp_like_go((z - x) * (z + x) + r / q);
        return if negative { 2.0 - e / x } else { e / x };
    }
    if negative { 2.0 } else { 0.0 }
}

/// e^x with the algorithm Go runs on amd64 with FMA (`math.Exp` there is
/// SLEEF-derived assembly, not fdlibm). Its last bits decide which of two
/// equal binomial weights benchstat takes first, and so some interval orders.
/// Go on other CPUs rounds differently, so this pins the common CI platform.
pub(crate) fn exp_like_go(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2U: f64 = 0.69314718055966295651160180568695068359375;
    const LN2L: f64 = 0.28235290563031577122588448175013436025525412068e-12;
    const OVERFLOW: f64 = 7.09782712893384e+02;
    const TAYLOR: [f64; 7] = [
        2.4801587301587301587e-5,
        1.9841269841269841270e-4,
        1.3888888888888888889e-3,
        8.3333333333333333333e-3,
        4.1666666666666666667e-2,
        1.6666666666666666667e-1,
        0.5,
    ];
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    // CVTSD2SL: round to nearest even, out-of-range becomes i32::MIN.
    let t = (LOG2E * x).round_ties_even();
    let exponent = if t >= i32::MIN as f64 && t <= i32::MAX as f64 { t as i32 } else { i32::MIN };
    let k = exponent as f64;
    let mut r = (-k).mul_add(LN2U, x);
    r = (-k).mul_add(LN2L, r);
    r *= 0.0625;
    let mut poly = TAYLOR[0];
    for c in &TAYLOR[1..] {
        poly = poly.mul_add(r, *c);
    }
    poly = poly.mul_add(r, 1.0);
    // e^r - 1 for r/16, squared back up four times: (y+1)^2 - 1 = y(y+2).
    let mut y = r * poly;
    for _ in 0..3 {
        y *= y + 2.0;
    }
    y = (y + 2.0).mul_add(y, 1.0);
    let biased = exponent.saturating_add(0x3ff);
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    if biased > 0 {
        return y * f64::from_bits((biased as u64) << 52);
    }
    if biased < -52 {
        return 0.0;
    }
    y * f64::from_bits(((biased + 0x3fe) as u64) << 52) * f64::from_bits(1u64 << 52)
}

/// Natural log as Go computes it on amd64 (fdlibm's algorithm, in assembly
/// that reads the exponent straight from the bits, subnormals included).
pub(crate) fn ln_like_go(x: f64) -> f64 {
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    const L: [f64; 7] = [
        6.666666666666735130e-01,
        3.999999999940941908e-01,
        2.857142874366239149e-01,
        2.222219843214978396e-01,
        1.818357216161805012e-01,
        1.531383769920937332e-01,
        1.479819860511658591e-01,
    ];
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    let bits = x.to_bits();
    let mut f1 = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0.5f64.to_bits());
    let mut k = (((bits >> 52) & 0x7ff) as i64 - 0x3fe) as f64;
    if f1 < std::f64::consts::FRAC_1_SQRT_2 {
        k -= 1.0;
        f1 *= 2.0;
    }
    let f = f1 - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (L[0] + s4 * (L[2] + s4 * (L[4] + s4 * L[6])));
    let t2 = s4 * (L[1] + s4 * (L[3] + s4 * L[5]));
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// CDF of the normal distribution N(mu, sigma²), with go-moremath's operation
/// order (the last bits matter where benchstat compares probabilities).
pub(crate) fn normal_cdf(x: f64, mu: f64, sigma: f64) -> f64 {
    erfc(-(x - mu) / (sigma * std::f64::consts::SQRT_2)) / 2.0
}

/// Quantile function of the standard normal distribution: Acklam's rational
/// approximation plus one Halley refinement step, as go-moremath does (its
/// results decide benchstat's large-n median intervals).
pub(crate) fn normal_inv_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
    const P_LOW: f64 = 0.02425;
    const P_HIGH: f64 = 1.0 - P_LOW;

    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let mut x = if p < P_LOW {
        tail((-2.0 * ln_like_go(p)).sqrt())
    } else if P_HIGH < p {
        -tail((-2.0 * ln_like_go(1.0 - p)).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    let e = 0.5 * erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * exp_like_go(x * x / 2.0);
    x -= u / (1.0 + x * u / 2.0);
    x
}

/// Binomial coefficient as go-moremath's `mathx.Choose` computes it: exact up
/// to n = 20, `exp(lgamma …)` beyond. The binomial weights of benchstat's
/// median interval depend on these exact bits, so we do not "improve" them.
pub(crate) fn choose_like_go(n: usize, k: usize) -> f64 {
    if k == 0 || k == n {
        return 1.0;
    }
    if n < k {
        return 0.0;
    }
    if n <= 20 {
        let numer: u64 = ((n - k + 1) as u64..=n as u64).product();
        let denom: u64 = (1..=k as u64).product();
        return (numer / denom) as f64;
    }
    let ln = ln_gamma_integer((n + 1) as f64) - ln_gamma_integer((k + 1) as f64) - ln_gamma_integer((n - k + 1) as f64);
    exp_like_go(ln)
}

/// ln Γ(x) for integer x ≥ 1, following the branches of fdlibm's `lgamma_r`
/// (Go's `math.Lgamma`) that integer arguments reach.
fn ln_gamma_integer(x: f64) -> f64 {
    const W: [f64; 7] = [
        4.18938533204672725052e-01,
        8.33333333333329678849e-02,
        -2.77777777728775536470e-03,
        7.93650558643019558500e-04,
        -5.95187557450339963135e-04,
        8.36339918996282139126e-04,
        -1.63092934096575273989e-03,
    ];
    const TWO58: f64 = (1u64 << 58) as f64;
    if x <= 2.0 {
        0.0
    } else if x < 8.0 {
        // Γ(x) = (x-1)! exactly for these x, and fdlibm's rational term vanishes.
        let mut z = 1.0;
        let mut k = x - 1.0;
        while k >= 2.0 {
            z *= k;
            k -= 1.0;
        }
        ln_like_go(z)
    } else if x < TWO58 {
        let t = ln_like_go(x);
        let z = 1.0 / x;
        let y = z * z;
        let w = W[0] + z * (W[1] + y * (W[2] + y * (W[3] + y * (W[4] + y * (W[5] + y * W[6])))));
        (x - 0.5) * (t - 1.0) + w
    } else {
        x * (ln_like_go(x) - 1.0)
    }
}

/// Exact binomial coefficient, `None` if it does not fit in a u128.
pub(crate) fn choose_exact(n: usize, k: usize) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut result: u128 = 1;
    for i in 1..=k {
        // result * (n-k+i) / i stays an integer at every step.
        result = result.checked_mul((n - k + i) as u128)? / i as u128;
    }
    Some(result)
}

/// ln Γ(x) for x > 0: the Lanczos approximation (g = 7, 9 terms), with the
/// reflection formula below ½. Relative error below 1e-14 here.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx)
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln B(a, b).
pub(crate) fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln C(n, k).
pub(crate) fn ln_choose(n: u64, k: u64) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (modified Lentz), on the side of x where it converges fast.
pub(crate) fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// P(T > t) for Student's t with `df` degrees of freedom (df > 0).
pub(crate) fn students_t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let tail = 0.5 * beta_reg(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { tail } else { 1.0 - tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_beta_and_t_against_exact_values() {
        // ln Γ of integers and half-integers: ln((n-1)!) and Γ(½) = √π.
        let mut fact = 1.0f64;
        for n in 1..60u32 {
            if n > 1 {
                fact *= (n - 1) as f64;
            }
            assert!((ln_gamma(n as f64) - fact.ln()).abs() < 1e-12 * fact.ln().max(1.0), "{n}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_gamma(2.5) - (0.75 * std::f64::consts::PI.sqrt()).ln()).abs() < 1e-14);
        assert!((ln_choose(30, 10) - 30045015f64.ln()).abs() < 1e-12);
        assert_eq!(ln_choose(3, 4), f64::NEG_INFINITY);
        // I_x(a, b) for integers: Σ_{j=a}^{a+b-1} C(a+b-1, j) xʲ (1-x)^(a+b-1-j).
        for (a, b, x) in [(3u64, 3u64, 0.5), (4, 9, 0.3), (40, 25, 0.5), (7, 2, 0.9), (203, 200, 0.5), (1, 1, 0.25)] {
            let m = a + b - 1;
            let exact: f64 = (a..=m)
                .map(|j| (ln_choose(m, j) + j as f64 * f64::ln(x) + (m - j) as f64 * f64::ln(1.0 - x)).exp())
                .sum();
            let got = beta_reg(a as f64, b as f64, x);
            assert!((got - exact).abs() < 1e-12, "I_{x}({a},{b}) = {got}, exact {exact}");
        }
        // Student's t: df 1 is Cauchy, df 2 has a closed form, large df is normal.
        for t in [-3.0, -0.5, 0.0, 0.7, 2.0, 12.0] {
            let cauchy = 0.5 - f64::atan(t) / std::f64::consts::PI;
            assert!((students_t_sf(t, 1.0) - cauchy).abs() < 1e-13, "{t}");
            let two = 0.5 * (1.0 - t / (t * t + 2.0).sqrt());
            assert!((students_t_sf(t, 2.0) - two).abs() < 1e-13, "{t}");
            let normal = 1.0 - normal_cdf(t, 0.0, 1.0);
            assert!((students_t_sf(t, 1e7) - normal).abs() < 1e-6, "{t}");
        }
    }

    // Every expected value in this module was printed by Go 1.26 on this
    // linux/amd64 machine (which has FMA), calling math.Exp/Log/Erfc and
    // go-moremath's mathx.Choose and stats.StdNormal.InvCDF directly.

    #[test]
    fn exp_and_log_match_go_bits() {
        assert_eq!(ln_like_go(14.0), 2.639057329615259);
        assert_eq!(ln_like_go(0.3), -1.2039728043259361);
        assert_eq!(ln_like_go(1e-300), -690.7755278982137);
        assert_eq!(exp_like_go(-700.0), 9.85967654375977e-305);
        assert_eq!(exp_like_go(0.1), 1.1051709180756477);
        assert_eq!(exp_like_go(49.5), 3.144682864669655e+21);
        assert_eq!(exp_like_go(-745.1), 5e-324);
        assert_eq!(exp_like_go(710.0), f64::INFINITY);
        assert_eq!(exp_like_go(-1e10), 0.0);
    }

    #[test]
    fn erfc_matches_go() {
        let cases = [
            (0.1, 0.8875370839817152),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028513),
            (2.0, 0.004677734981047265),
            (4.0, 1.541725790028002e-08),
            (-1.5, 1.9661051464753108),
            (30.0, 0.0),
        ];
        for (x, want) in cases {
            assert_eq!(erfc(x), want, "erfc({x})");
        }
    }

    #[test]
    fn normal_quantiles_match_go() {
        // These also agree with R's qnorm to 15 digits.
        assert_eq!(normal_inv_cdf(0.975), 1.9599639845400538);
        assert_eq!(normal_inv_cdf(0.8), 0.8416212335729144);
        assert_eq!(normal_inv_cdf(0.01), -2.326347874040841);
        assert_eq!(normal_inv_cdf(1e-10), -6.361340902404057);
        assert!((normal_cdf(1.959963984540054, 0.0, 1.0) - 0.975).abs() < 1e-15);
        assert!(normal_inv_cdf(1.5).is_nan());
    }

    #[test]
    fn binomial_coefficients() {
        assert_eq!(choose_like_go(20, 10), 184756.0);
        // Above n = 20 Go goes through lgamma and is a few ulps off the true
        // integers, asymmetrically; we reproduce Go, not the integer.
        assert_eq!(choose_like_go(21, 8), 203490.00000000052);
        assert_eq!(choose_like_go(25, 12), 5.200299999999989e+06);
        assert_eq!(choose_like_go(25, 13), 5.20029999999997e+06);
        assert_eq!(choose_exact(100, 50), Some(100891344545564193334812497256));
        assert_eq!(choose_exact(5, 7), Some(0));
        assert_eq!(choose_exact(200, 100), None);
    }
}
