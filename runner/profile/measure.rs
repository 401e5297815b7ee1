//! Units and percentages exactly as `go tool pprof` prints them, so that
//! `perfgate profile top` output can be checked line by line against it:
//! scaling between memory/time units, `%.2f` labels, and `%5.2g`-style
//! small percentages.

struct Unit {
    name: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

struct UnitType {
    units: &'static [Unit],
    default: &'static str,
    default_factor: f64,
}

const UNIT_TYPES: &[UnitType] = &[
    UnitType {
        units: &[
            Unit { name: "B", aliases: &["b", "byte"], factor: 1.0 },
            Unit { name: "kB", aliases: &["kb", "kbyte", "kilobyte"], factor: 1024.0 },
            Unit { name: "MB", aliases: &["mb", "mbyte", "megabyte"], factor: 1048576.0 },
            Unit { name: "GB", aliases: &["gb", "gbyte", "gigabyte"], factor: 1073741824.0 },
            Unit { name: "TB", aliases: &["tb", "tbyte", "terabyte"], factor: 1099511627776.0 },
            Unit { name: "PB", aliases: &["pb", "pbyte", "petabyte"], factor: 1125899906842624.0 },
        ],
        default: "B",
        default_factor: 1.0,
    },
    UnitType {
        units: &[
            Unit { name: "ns", aliases: &["ns", "nanosecond"], factor: 1.0 },
            Unit { name: "us", aliases: &["μs", "us", "microsecond"], factor: 1e3 },
            Unit { name: "ms", aliases: &["ms", "millisecond"], factor: 1e6 },
            Unit { name: "s", aliases: &["s", "sec", "second"], factor: 1e9 },
            Unit { name: "hrs", aliases: &["hour", "hr"], factor: 3.6e12 },
        ],
        default: "s",
        default_factor: 1e9,
    },
    UnitType {
        units: &[
            Unit { name: "n*GCU", aliases: &["nanogcu"], factor: 1e-9 },
            Unit { name: "u*GCU", aliases: &["microgcu"], factor: 1e-6 },
            Unit { name: "m*GCU", aliases: &["milligcu"], factor: 1e-3 },
            Unit { name: "GCU", aliases: &["gcu"], factor: 1.0 },
            Unit { name: "k*GCU", aliases: &["kilogcu"], factor: 1e3 },
            Unit { name: "M*GCU", aliases: &["megagcu"], factor: 1e6 },
            Unit { name: "G*GCU", aliases: &["gigagcu"], factor: 1e9 },
            Unit { name: "T*GCU", aliases: &["teragcu"], factor: 1e12 },
            Unit { name: "P*GCU", aliases: &["petagcu"], factor: 1e15 },
        ],
        default: "GCU",
        default_factor: 1.0,
    },
];

impl UnitType {
    fn sniff(&self, unit: &str) -> Option<&'static Unit> {
        let mut u = unit.to_lowercase();
        if u.len() > 2 && u.ends_with('s') {
            u.pop();
        }
        self.units.iter().find(|x| x.aliases.contains(&u.as_str()))
    }

    fn auto_scale(&self, v: f64) -> Option<(f64, &'static str)> {
        let mut best: Option<&Unit> = None;
        for u in self.units {
            if u.factor >= best.map(|b| b.factor).unwrap_or(0.0) && v / u.factor >= 1.0 {
                best = Some(u);
            }
        }
        best.map(|u| (v / u.factor, u.name))
    }
}

/// `value` in `from` units, expressed in `to` ("minimum"/"auto" pick a
/// unit), and the unit's name ("" for plain counts).
pub fn scale(value: i64, from: &str, to: &str) -> (f64, String) {
    if value < 0 && value != i64::MIN {
        let (v, u) = scale(-value, from, to);
        return (-v, u);
    }
    for ut in UNIT_TYPES {
        let Some(fu) = ut.sniff(from) else { continue };
        let v = value as f64 * fu.factor;
        if to == "minimum" || to == "auto" {
            return match ut.auto_scale(v) {
                Some((x, u)) => (x, u.to_string()),
                None => (v / ut.default_factor, ut.default.to_string()),
            };
        }
        return match ut.sniff(to) {
            Some(tu) => (v / tu.factor, tu.name.to_string()),
            None => (v / ut.default_factor, ut.default.to_string()),
        };
    }
    match to {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, String::new()),
        other => (value as f64, other.to_string()),
    }
}

/// `1.15s`, `469.90MB`, `0` — two decimals, a trailing `.00` dropped.
pub fn scaled_label(value: i64, from: &str, to: &str) -> String {
    let (v, u) = scale(value, from, to);
    let mut s = format!("{v:.2}");
    if let Some(t) = s.strip_suffix(".00") {
        s = t.to_string();
    }
    if s == "0" || s == "-0" {
        return "0".into();
    }
    s + &u
}

/// `value` as a share of `total`, as pprof prints it: `42.75%`, `  100%`,
/// `0.0051%`, `1e-05%` (always non-negative).
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 { (value as f64 / total as f64).abs() * 100.0 } else { 0.0 };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".into()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", g2(ratio))
    }
}

/// Go's `%.2g` for 0 ≤ r < 1: two significant digits, no trailing zero,
/// scientific notation below 1e-4.
fn g2(r: f64) -> String {
    if r == 0.0 {
        return "0".into();
    }
    // "{:.1e}" rounds correctly to two significant digits: "5.1e-3".
    let sci = format!("{r:.1e}");
    let (mantissa, exp) = sci.split_once('e').expect("scientific notation");
    let exp: i32 = exp.parse().expect("exponent");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    if exp < -4 {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if exp >= 0 {
        // Rounded up to 1 (or more).
        return mantissa.to_string();
    }
    format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_pprof() {
        assert_eq!(scaled_label(1_150_000_000, "nanoseconds", "s"), "1.15s");
        assert_eq!(scaled_label(10_000_000, "nanoseconds", "s"), "0.01s");
        assert_eq!(scaled_label(1_150_000_000, "nanoseconds", "ms"), "1150ms");
        assert_eq!(scaled_label(13_450_000, "nanoseconds", "ms"), "13.45ms");
        assert_eq!(scaled_label(-460_000_000, "nanoseconds", "s"), "-0.46s");
        assert_eq!(scaled_label(492_725_000, "bytes", "minimum"), "469.90MB");
        assert_eq!(scaled_label(0, "bytes", "MB"), "0");
        assert_eq!(scaled_label(480170, "count", "count"), "480170");
        assert_eq!(scaled_label(40, "widgets", "widgets"), "40widgets");
        assert_eq!(scaled_label(9_000_000_000, "nanoseconds", "auto"), "9s");
    }

    #[test]
    fn percentages_match_go_formatting() {
        let cases: &[(i64, i64, &str)] = &[
            (0, 100, "    0%"),
            (5, 1000, "  0.5%"),
            (51, 1_000_000, "0.0051%"),
            (1, 1_000_000, "0.0001%"),
            (1, 10_000_000, "1e-05%"),
            (1, 123_456_789, "8.1e-07%"),
            (995, 100_000, "    1%"),
            (9999, 1_000_000, "    1%"),
            (9995, 10_000, "  100%"),
            (9994, 10_000, "99.94%"),
            (10006, 10_000, "100.06%"),
            (-1, 4, "25.00%"),
            (5, 0, "    0%"),
            (65, 100_000, "0.065%"),
        ];
        for &(v, t, want) in cases {
            assert_eq!(percentage(v, t), want, "{v}/{t}");
        }
    }
}
