//! Hotspots per function, computed as `go tool pprof -top` computes them
//! (and `-top -diff_base BASE NEW` for a diff): flat to the innermost frame
//! of each sample's leaf, cum once per sample per function (recursion
//! counted once), inlined frames expanded, nodes trimmed below 0.5% of the
//! flat sum, rows sorted by |flat|, then name, then |cum|. Pure.

use crate::formats::pprof::{Location, Profile, ValueType};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct TopOptions {
    /// `-sample_index`: a type name or index; default as pprof chooses.
    pub sample_index: Option<String>,
    /// At most this many rows; 0 = all (pprof's default for `-top`).
    pub nodecount: usize,
    pub nodefraction: f64,
    pub edgefraction: f64,
}

impl Default for TopOptions {
    fn default() -> Self {
        TopOptions { sample_index: None, nodecount: 0, nodefraction: 0.005, edgefraction: 0.001 }
    }
}

/// One function's row.
#[derive(Debug, Clone, PartialEq)]
pub struct TopRow {
    /// As pprof prints it: the full function name, `[binary]` for frames
    /// without a function name, `<unknown>` without either.
    pub function: String,
    /// `""`, `" (inline)"` or `" (partial-inline)"`, from the calls into it
    /// that survived trimming (pprof's rule).
    pub inline: &'static str,
    pub flat: i64,
    pub cum: i64,
    /// The function's source file.
    pub file: String,
    /// Its hottest line: the line with the most flat value, else the most cum.
    pub line: i64,
}

/// A profile's hotspots (or the difference of two).
#[derive(Debug, Clone)]
pub struct Top {
    pub sample_type: String,
    pub unit: String,
    /// The percentages' denominator: Σ|value| over all samples (over the
    /// base's samples for a diff).
    pub total: i64,
    pub rows: Vec<TopRow>,
    /// Nodes left out for |cum| under the cutoff, and how many remained
    /// before `nodecount` cut the list.
    pub dropped: usize,
    pub kept: usize,
    pub nodefraction: f64,
    pub header: Header,
}

/// What pprof prints above the rows.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub file: Option<String>,
    pub build_id: Option<String>,
    pub comments: Vec<String>,
    pub time_nanos: i64,
    pub duration_nanos: i64,
}

/// How a frame is identified at function granularity: by name alone; a
/// nameless function by binary and start line; a frame with no function
/// by its binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum NodeKey {
    Named(Arc<str>),
    Nameless { objfile: Arc<str>, start_line: i64 },
    Unsymbolized { objfile: Arc<str> },
}

impl NodeKey {
    fn printed(&self) -> String {
        let objfile = match self {
            NodeKey::Named(n) => return n.to_string(),
            NodeKey::Nameless { objfile, .. } | NodeKey::Unsymbolized { objfile } => objfile,
        };
        if objfile.is_empty() {
            "<unknown>".into()
        } else {
            format!("[{}]", objfile.rsplit('/').next().unwrap_or(objfile))
        }
    }

    /// pprof's last tie-break: `fmt.Sprint` of its NodeInfo.
    fn sprint(&self) -> String {
        match self {
            NodeKey::Named(n) => format!("{{{n}  0  0 0 0 }}"),
            NodeKey::Nameless { objfile, start_line } => format!("{{  0  {start_line} 0 0 {objfile}}}"),
            NodeKey::Unsymbolized { objfile } => format!("{{  0  0 0 0 {objfile}}}"),
        }
    }
}

/// One frame of a sample's stack, root to leaf.
struct Frame {
    node: usize,
    /// Not the physical frame of its location (an inlined call).
    inline: bool,
    file_line: Option<(usize, i64)>,
}

struct Node {
    key: NodeKey,
    flat: i64,
    cum: i64,
    file: String,
    flat_by_line: HashMap<i64, i64>,
    cum_by_line: HashMap<i64, i64>,
}

/// A sample ready to walk: its frames root → leaf and its signed value.
struct Walk {
    frames: Vec<Frame>,
    value: i64,
}

/// `go tool pprof -top` of `profile`.
pub fn top(profile: &Profile, opts: &TopOptions) -> Result<Top, String> {
    compute(profile, None, opts)
}

/// `go tool pprof -top -diff_base base new`: new minus base, percentages of
/// the base's total.
pub fn diff(base: &Profile, new: &Profile, opts: &TopOptions) -> Result<Top, String> {
    compute(new, Some(base), opts)
}

/// Flat and cum per node: flat to the leaf-most frame of each walk, cum once
/// per walk per node (a recursive function counts once), saturating.
fn accumulate(walks: &[Walk], nodes: &mut [Node]) {
    let mut stamp = vec![usize::MAX; nodes.len()];
    for (i, w) in walks.iter().enumerate() {
        for f in &w.frames {
            let n = &mut nodes[f.node];
            if stamp[f.node] != i {
                stamp[f.node] = i;
                n.cum = n.cum.saturating_add(w.value);
                if let Some((_, line)) = f.file_line {
                    let e = n.cum_by_line.entry(line).or_default();
                    *e = e.saturating_add(w.value);
                }
            }
        }
        if let Some(leaf) = w.frames.last() {
            let n = &mut nodes[leaf.node];
            n.flat = n.flat.saturating_add(w.value);
            if let Some((_, line)) = leaf.file_line {
                let e = n.flat_by_line.entry(line).or_default();
                *e = e.saturating_add(w.value);
            }
        }
    }
}

/// The sample type to rank by, as pprof picks it: a diff uses the types
/// both profiles have, in NEW's order.
fn chosen_type(new: &Profile, base: Option<&Profile>, opts: &TopOptions) -> Result<ValueType, String> {
    // A diff uses the sample types both profiles have, in NEW's order.
    let types: Vec<_> = match base {
        Some(b) => new
            .sample_types
            .iter()
            .filter(|t| b.sample_types.iter().any(|u| u.kind == t.kind && u.unit == t.unit))
            .cloned()
            .collect(),
        None => new.sample_types.clone(),
    };
    if types.is_empty() {
        return Err("the profiles have no sample type in common".into());
    }
    let merged = Profile {
        sample_types: types.clone(),
        default_sample_type: new
            .default_sample_type
            .clone()
            .or_else(|| base.and_then(|b| b.default_sample_type.clone())),
        samples: Vec::new(),
        locations: Vec::new(),
        functions: Vec::new(),
        mappings: Vec::new(),
        time_nanos: 0,
        duration_nanos: 0,
        period_type: None,
        period: 0,
        comments: Vec::new(),
    };
    let index = merged.sample_index(opts.sample_index.as_deref())?;
    Ok(types[index].clone())
}

fn compute(new: &Profile, base: Option<&Profile>, opts: &TopOptions) -> Result<Top, String> {
    let chosen = &chosen_type(new, base, opts)?;
    let column = |p: &Profile| p.sample_types.iter().position(|t| t.kind == chosen.kind && t.unit == chosen.unit);

    let mut nodes: Vec<Node> = Vec::new();
    let mut by_key: HashMap<NodeKey, usize> = HashMap::new();
    let mut walks: Vec<Walk> = Vec::new();
    let mut total: i64 = 0;
    let mut base_total: i64 = 0;
    for (profile, sign) in std::iter::once((new, 1i64)).chain(base.map(|b| (b, -1i64))) {
        let col = column(profile).ok_or("sample type missing")?;
        // Per profile: location index → its frames (outer → inner), built once.
        let mut frames_of: HashMap<usize, Vec<(usize, bool, Option<i64>)>> = HashMap::new();
        for s in &profile.samples {
            if sign < 0 && s.values.iter().all(|v| *v == 0) {
                continue; // pprof drops base samples whose values are all 0
            }
            let value = s.values[col].saturating_mul(sign);
            total = total.saturating_add(value.saturating_abs());
            if sign < 0 {
                base_total = base_total.saturating_add(value.saturating_abs());
            }
            if value == 0 {
                continue;
            }
            let mut frames = Vec::new();
            for &loc in s.locations.iter().rev() {
                let expanded = frames_of
                    .entry(loc)
                    .or_insert_with(|| expand(profile, &profile.locations[loc], &mut nodes, &mut by_key));
                frames.extend(expanded.iter().map(|&(node, inline, line)| Frame {
                    node,
                    inline,
                    file_line: line.map(|l| (node, l)),
                }));
            }
            walks.push(Walk { frames, value });
        }
    }
    if base.is_some() && base_total > 0 {
        total = base_total;
    }

    accumulate(&walks, &mut nodes);
    let mut present: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].flat != 0 || nodes[i].cum != 0).collect();
    let flat_sum: i64 = present.iter().map(|&i| nodes[i].flat).fold(0i64, i64::saturating_add);
    let node_cut = ((flat_sum as f64 * opts.nodefraction) as i64).abs();
    let edge_cut = ((flat_sum as f64 * opts.edgefraction) as i64).abs();
    let mut dropped = 0;
    if node_cut > 0 {
        let before = present.len();
        present.retain(|&i| nodes[i].cum.abs() >= node_cut);
        dropped = before - present.len();
    }
    let kept_count = present.len();
    let printed: Vec<String> = nodes.iter().map(|n| n.key.printed()).collect();
    present.sort_by(|&a, &b| {
        let (na, nb) = (&nodes[a], &nodes[b]);
        nb.flat
            .abs()
            .cmp(&na.flat.abs())
            .then_with(|| printed[a].as_bytes().cmp(printed[b].as_bytes()))
            .then_with(|| nb.cum.abs().cmp(&na.cum.abs()))
            .then_with(|| na.key.sprint().cmp(&nb.key.sprint()))
    });
    let truncated = opts.nodecount > 0 && opts.nodecount < present.len();
    if truncated {
        present.truncate(opts.nodecount);
    }

    // Inline labels come from the edges into each row. pprof rebuilds its
    // graph from the kept rows only when a cut or the row limit dropped
    // one (edges then jump over what was dropped); otherwise its edges
    // still run through nodes it does not list, those whose values
    // cancelled out in a diff (as a function reached through a func value
    // in both profiles, whose zero-weight edge is then trimmed).
    let kept: HashSet<usize> =
        if dropped > 0 || truncated { present.iter().copied().collect() } else { (0..nodes.len()).collect() };
    let mut edges: HashMap<(usize, usize), (i64, bool)> = HashMap::new();
    for w in &walks {
        let mut parent: Option<usize> = None;
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        for f in &w.frames {
            if !kept.contains(&f.node) {
                continue;
            }
            if let Some(p) = parent
                && p != f.node
                && seen.insert((p, f.node))
            {
                let e = edges.entry((p, f.node)).or_insert((0, f.inline));
                e.0 = e.0.saturating_add(w.value);
                e.1 &= f.inline;
            }
            parent = Some(f.node);
        }
    }
    let mut incoming: HashMap<usize, (usize, usize)> = HashMap::new();
    for (&(_, to), &(weight, inline)) in &edges {
        if weight.abs() < edge_cut {
            continue;
        }
        let e = incoming.entry(to).or_default();
        e.0 += 1;
        e.1 += usize::from(inline);
    }
    let rows = present
        .iter()
        .map(|&i| {
            let n = &nodes[i];
            let inline = match incoming.get(&i) {
                Some(&(all, inl)) if inl == all && all > 0 => " (inline)",
                Some(&(_, inl)) if inl > 0 => " (partial-inline)",
                _ => "",
            };
            TopRow {
                function: printed[i].clone(),
                inline,
                flat: n.flat,
                cum: n.cum,
                file: n.file.clone(),
                line: hottest_line(n),
            }
        })
        .collect();

    Ok(Top {
        sample_type: chosen.kind.to_string(),
        unit: chosen.unit.to_string(),
        total,
        rows,
        dropped,
        kept: kept_count,
        nodefraction: opts.nodefraction,
        header: header(new, base),
    })
}

/// The header lines pprof prints above the rows: the first mapping's file
/// and build id, both profiles' comments once each, the earlier start time
/// and the summed duration.
fn header(new: &Profile, base: Option<&Profile>) -> Header {
    let mut comments: Vec<String> = Vec::new();
    for c in new.comments.iter().chain(base.map(|b| b.comments.iter()).into_iter().flatten()) {
        if !comments.iter().any(|have| **have == **c) {
            comments.push(c.to_string());
        }
    }
    let time_nanos = match base {
        Some(b) if new.time_nanos == 0 || b.time_nanos < new.time_nanos => b.time_nanos,
        _ => new.time_nanos,
    };
    let first_mapping = new.mappings.first();
    Header {
        file: first_mapping.map(|m| m.file.to_string()).filter(|f| !f.is_empty()),
        build_id: first_mapping.map(|m| m.build_id.to_string()).filter(|b| !b.is_empty()),
        comments,
        time_nanos,
        duration_nanos: new.duration_nanos + base.map(|b| b.duration_nanos).unwrap_or(0),
    }
}

/// A location's frames, outer (physical) first: (node, is inlined, line).
fn expand(
    profile: &Profile,
    loc: &Location,
    nodes: &mut Vec<Node>,
    by_key: &mut HashMap<NodeKey, usize>,
) -> Vec<(usize, bool, Option<i64>)> {
    let objfile: Arc<str> = loc.mapping.map(|m| profile.mappings[m].file.clone()).unwrap_or_else(|| Arc::from(""));
    let mut node_for = |key: NodeKey, file: &str| -> usize {
        *by_key.entry(key.clone()).or_insert_with(|| {
            nodes.push(Node {
                key,
                flat: 0,
                cum: 0,
                file: file.to_string(),
                flat_by_line: HashMap::new(),
                cum_by_line: HashMap::new(),
            });
            nodes.len() - 1
        })
    };
    if loc.lines.is_empty() {
        return vec![(node_for(NodeKey::Unsymbolized { objfile }, ""), false, None)];
    }
    let last = loc.lines.len() - 1;
    loc.lines
        .iter()
        .enumerate()
        .rev()
        .map(|(i, line)| {
            let (key, file) = match line.function.map(|f| &profile.functions[f]) {
                None => (NodeKey::Unsymbolized { objfile: objfile.clone() }, ""),
                Some(f) if f.name.is_empty() => {
                    (NodeKey::Nameless { objfile: objfile.clone(), start_line: f.start_line }, &*f.filename)
                }
                Some(f) => (NodeKey::Named(f.name.clone()), &*f.filename),
            };
            (node_for(key, file), i != last, Some(line.line))
        })
        .collect()
}

fn hottest_line(n: &Node) -> i64 {
    let best = |m: &HashMap<i64, i64>| {
        m.iter().filter(|(_, v)| **v != 0).max_by(|a, b| a.1.abs().cmp(&b.1.abs()).then(b.0.cmp(a.0))).map(|(l, _)| *l)
    };
    best(&n.flat_by_line).or_else(|| best(&n.cum_by_line)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pprof;

    /// Hostile values: sums saturate instead of wrapping (or panicking in
    /// a debug build), in top, diff, fold and the call tree.
    #[test]
    fn huge_values_saturate() {
        let mut p = pprof::decode(&pprof::tests::tiny()).unwrap();
        for s in &mut p.samples {
            for v in &mut s.values {
                *v = i64::MAX - 1;
            }
        }
        let t = top(&p, &TopOptions::default()).unwrap();
        assert_eq!(t.total, i64::MAX);
        assert!(t.rows.iter().all(|r| r.flat >= 0 && r.cum >= 0), "{:?}", t.rows);
        let d = diff(&pprof::decode(&pprof::tests::tiny()).unwrap(), &p, &TopOptions::default()).unwrap();
        assert!(d.rows.iter().all(|r| r.flat >= 0 && r.cum >= 0), "{:?}", d.rows);
        assert!(crate::profile::flame::fold(&p, 0).iter().all(|(_, v)| *v > 0));
        let _ = crate::profile::text::render(&t);
    }

    #[test]
    fn flat_cum_and_inline_on_a_tiny_profile() {
        let p = pprof::decode(&pprof::tests::tiny()).unwrap();
        let t = top(&p, &TopOptions::default()).unwrap();
        assert_eq!((t.sample_type.as_str(), t.total), ("cpu", 35));
        let row = |name: &str| t.rows.iter().find(|r| r.function == name).unwrap().clone();
        // helper (inlined into work) is the leaf of 2 samples: flat 30.
        let h = row("helper");
        assert_eq!((h.flat, h.cum, h.inline, h.line), (30, 30, " (inline)", 31));
        let w = row("work");
        assert_eq!((w.flat, w.cum, w.inline), (0, 30, ""));
        let m = row("main");
        assert_eq!((m.flat, m.cum, m.file.as_str(), m.line), (5, 35, "/src/a.go", 12));
        assert_eq!(t.rows[0].function, "helper", "sorted by flat");
        // The diff of a profile with itself is empty, with the base's total.
        let d = diff(&p, &p, &TopOptions::default()).unwrap();
        assert!(d.rows.is_empty());
        assert_eq!(d.total, 35);
    }
}
