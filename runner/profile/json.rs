//! `profile top --json` rows: the one JSON shape of a hotspot table, shared
//! by the CLI and the MCP server.

use super::top::Top;

/// The JSON shape of `profile top --json` (and of DESIGN §7 `profiles[].top`).
pub fn to_json(t: &Top) -> serde_json::Value {
    let pct = |v: i64| if t.total == 0 { 0.0 } else { v as f64 / t.total as f64 * 100.0 };
    serde_json::json!({
        "sample_type": t.sample_type,
        "unit": t.unit,
        "total": t.total,
        "top": t.rows.iter().map(|r| serde_json::json!({
            "function": r.function,
            "file": r.file,
            "line": r.line,
            "flat": r.flat,
            "flat_pct": pct(r.flat),
            "cum": r.cum,
            "cum_pct": pct(r.cum),
            "inline": !r.inline.is_empty(),
        })).collect::<Vec<_>>(),
    })
}
