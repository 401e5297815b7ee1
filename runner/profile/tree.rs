//! The call tree under one function of a profile (or under the whole
//! profile): who it calls, with cum and flat per path and each function's
//! hottest `file:line`, trimmed to a depth and a number of children per
//! node. What `flame_query` answers, read from the same folded stacks the
//! flame graphs are drawn from.

use super::flame::fold;
use super::top::{TopOptions, top};
use crate::formats::pprof::Profile;
use serde::Serialize;
use std::collections::HashMap;

/// Children listed per node, heaviest first; the rest are counted.
pub const MAX_CHILDREN: usize = 12;
/// Deepest tree anyone may ask for.
pub const MAX_DEPTH: usize = 12;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallTree {
    pub sample_type: String,
    pub unit: String,
    /// The profile's total of the sample type (percentages are of it).
    pub total: i64,
    /// Every function name the focus matched, heaviest first; the tree is
    /// rooted at the first.
    pub matched: Vec<String>,
    pub root: TreeNode,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TreeNode {
    pub function: String,
    pub file: String,
    pub line: i64,
    pub cum: i64,
    pub cum_pct: f64,
    pub flat: i64,
    pub flat_pct: f64,
    pub children: Vec<TreeNode>,
    /// Children left out past the most listed (at the depth limit none are
    /// listed; `cum` still covers them).
    pub more_children: usize,
    /// Their cum together.
    pub more_cum: i64,
}

#[derive(Default)]
struct Building {
    cum: i64,
    flat: i64,
    children: HashMap<String, Building>,
}

/// The tree under `focus` (a function name, or a part of one: the heaviest
/// function containing it), or under everything when `focus` is `None`.
pub fn call_tree(
    profile: &Profile,
    sample_index: Option<&str>,
    focus: Option<&str>,
    depth: usize,
) -> Result<CallTree, String> {
    let index = profile.sample_index(sample_index)?;
    let opts = TopOptions { sample_index: Some(index.to_string()), nodefraction: 0.0, ..TopOptions::default() };
    let rows = top(profile, &opts)?;
    let places: HashMap<&str, (&str, i64)> =
        rows.rows.iter().map(|r| (r.function.as_str(), (r.file.as_str(), r.line))).collect();
    let stacks = fold(profile, index);
    let depth = depth.min(MAX_DEPTH);

    let (root_name, matched) = match focus.map(str::trim).filter(|f| !f.is_empty()) {
        None => ("(all)".to_string(), Vec::new()),
        Some(f) => {
            let matched = matching(&rows.rows, f);
            let Some(first) = matched.first() else {
                return Err(format!("no function in the profile matches {f:?}"));
            };
            (first.clone(), matched)
        }
    };
    let mut root = Building::default();
    for (stack, value) in &stacks {
        let frames: Vec<&str> = stack.split(';').collect();
        let path: &[&str] = if focus.is_some() && !matched.is_empty() {
            match frames.iter().position(|f| *f == root_name) {
                Some(i) => &frames[i + 1..],
                None => continue,
            }
        } else {
            &frames[..]
        };
        root.cum = root.cum.saturating_add(*value);
        if path.is_empty() {
            root.flat = root.flat.saturating_add(*value);
        }
        let mut node = &mut root;
        for (i, f) in path.iter().enumerate().take(depth) {
            node = node.children.entry((*f).to_string()).or_default();
            node.cum = node.cum.saturating_add(*value);
            if i + 1 == path.len() {
                node.flat = node.flat.saturating_add(*value);
            }
        }
    }
    let total = rows.total;
    Ok(CallTree {
        sample_type: rows.sample_type.clone(),
        unit: rows.unit.clone(),
        total,
        matched,
        root: finish(root_name, root, &places, total),
    })
}

/// Functions whose name is `focus`, else those containing it, heaviest (cum) first.
fn matching(rows: &[super::TopRow], focus: &str) -> Vec<String> {
    let mut exact: Vec<&super::TopRow> = rows.iter().filter(|r| r.function == focus).collect();
    if exact.is_empty() {
        exact = rows.iter().filter(|r| r.function.contains(focus)).collect();
    }
    exact.sort_by(|a, b| b.cum.abs().cmp(&a.cum.abs()).then(a.function.cmp(&b.function)));
    let mut names: Vec<String> = Vec::new();
    for r in exact {
        if !names.contains(&r.function) {
            names.push(r.function.clone());
        }
    }
    names
}

fn finish(function: String, b: Building, places: &HashMap<&str, (&str, i64)>, total: i64) -> TreeNode {
    let pct = |v: i64| if total == 0 { 0.0 } else { v as f64 / total as f64 * 100.0 };
    let mut children: Vec<(String, Building)> = b.children.into_iter().collect();
    children.sort_by(|a, b| b.1.cum.cmp(&a.1.cum).then(a.0.cmp(&b.0)));
    let rest = children.split_off(children.len().min(MAX_CHILDREN));
    let (file, line) = places.get(function.as_str()).map(|(f, l)| (f.to_string(), *l)).unwrap_or_default();
    TreeNode {
        file,
        line,
        cum: b.cum,
        cum_pct: pct(b.cum),
        flat: b.flat,
        flat_pct: pct(b.flat),
        more_children: rest.len(),
        more_cum: rest.iter().map(|(_, c)| c.cum).fold(0i64, i64::saturating_add),
        children: children.into_iter().map(|(name, c)| finish(name, c, places, total)).collect(),
        function,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Profile {
        let bytes = include_bytes!("../../tests/fixtures/pprof/cpu_a.pprof");
        crate::formats::pprof::decode(bytes).unwrap()
    }

    /// Every node's cum is its own flat plus its listed children's cum plus
    /// the children left out, down to the depth limit.
    fn balanced(n: &TreeNode, depth: usize) {
        if depth == 0 {
            assert!(n.children.is_empty());
            return;
        }
        let children: i64 = n.children.iter().map(|c| c.cum).fold(0i64, i64::saturating_add);
        assert_eq!(n.cum, n.flat + children + n.more_cum, "{}", n.function);
        for c in &n.children {
            balanced(c, depth - 1);
        }
    }

    #[test]
    fn the_whole_profile_adds_up_to_its_total() {
        let p = fixture();
        let t = call_tree(&p, None, None, 3).unwrap();
        assert_eq!(t.root.cum, t.total);
        assert!(t.root.children.len() <= MAX_CHILDREN && !t.root.children.is_empty());
        balanced(&t.root, 3);
    }

    #[test]
    fn a_focus_roots_the_tree_at_the_heaviest_match_with_its_file_and_line() {
        let p = fixture();
        let all = top(&p, &TopOptions { nodefraction: 0.0, ..TopOptions::default() }).unwrap();
        let heavy = all.rows.iter().filter(|r| !r.file.is_empty()).max_by_key(|r| r.cum).unwrap();
        let t = call_tree(&p, None, Some(&heavy.function), 2).unwrap();
        assert_eq!(t.root.function, heavy.function);
        assert_eq!((t.root.file.as_str(), t.root.line), (heavy.file.as_str(), heavy.line));
        // Recursion aside, the tree holds exactly the function's cum.
        assert!(t.root.cum <= heavy.cum && t.root.cum > 0);
        balanced(&t.root, 2);
        assert!(call_tree(&p, None, Some("no such function at all"), 2).is_err());
    }
}
