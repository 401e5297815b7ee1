//! Flame graphs: a profile folded into stacks (`root;…;leaf value`, inlined
//! calls expanded, names as `profile top` prints them) and rendered by
//! inferno as SVG; and the differential graph of two variants, where frames
//! that grew are red and frames that shrank are blue.

use crate::formats::pprof::Profile;
use inferno::{differential, flamegraph};
use std::collections::BTreeMap;
use std::io::Cursor;

/// Folded stacks of one sample type, summed per stack; only positive
/// totals (flame graphs draw amounts, not differences).
pub fn fold(profile: &Profile, sample_index: usize) -> Vec<(String, i64)> {
    let mut stacks: BTreeMap<String, i64> = BTreeMap::new();
    for s in &profile.samples {
        let Some(&v) = s.values.get(sample_index) else { continue };
        if v == 0 {
            continue;
        }
        let mut frames: Vec<String> = Vec::new();
        for &loc in s.locations.iter().rev() {
            let l = &profile.locations[loc];
            let objfile = l.mapping.map(|m| &*profile.mappings[m].file).unwrap_or("");
            let unsymbolized = || {
                if objfile.is_empty() {
                    "<unknown>".to_string()
                } else {
                    format!("[{}]", objfile.rsplit('/').next().unwrap_or(objfile))
                }
            };
            if l.lines.is_empty() {
                frames.push(unsymbolized());
            }
            for line in l.lines.iter().rev() {
                match line.function.map(|f| &profile.functions[f]) {
                    Some(f) if !f.name.is_empty() => frames.push(f.name.replace(';', ":")),
                    _ => frames.push(unsymbolized()),
                }
            }
        }
        if frames.is_empty() {
            continue;
        }
        let e = stacks.entry(frames.join(";")).or_default();
        *e = e.saturating_add(v);
    }
    stacks.into_iter().filter(|(_, v)| *v > 0).collect()
}

fn lines(folded: &[(String, i64)]) -> String {
    folded.iter().map(|(s, v)| format!("{s} {v}\n")).collect()
}

fn options<'a>(title: &str, count_name: &str) -> flamegraph::Options<'a> {
    let mut opt = flamegraph::Options::default();
    opt.title = title.to_string();
    opt.count_name = count_name.to_string();
    // Same input, same colours: reports can be compared and diffed.
    opt.deterministic = true;
    opt
}

/// A flame graph of `folded` as a self-contained SVG.
pub fn svg(folded: &[(String, i64)], title: &str, count_name: &str) -> std::io::Result<Vec<u8>> {
    let text = lines(folded);
    let mut out = Vec::new();
    flamegraph::from_lines(&mut options(title, count_name), text.lines(), &mut out)?;
    Ok(out)
}

/// The differential flame graph: the baseline's shape (so code paths the
/// candidate removed stay visible), each frame coloured by how its own time
/// changed in the candidate: red grew, blue shrank.
pub fn differential_svg(
    baseline: &[(String, i64)],
    candidate: &[(String, i64)],
    title: &str,
    count_name: &str,
) -> std::io::Result<Vec<u8>> {
    let mut two = Vec::new();
    // inferno sizes frames by its second input and colours by second −
    // first: swap the inputs and negate, as Brendan Gregg's difffolded does.
    differential::from_readers(
        differential::Options::default(),
        Cursor::new(lines(candidate)),
        Cursor::new(lines(baseline)),
        &mut two,
    )?;
    let mut opt = options(title, count_name);
    opt.negate_differentials = true;
    let mut out = Vec::new();
    flamegraph::from_reader(&mut opt, Cursor::new(two), &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pprof;

    #[test]
    fn folds_root_first_with_inlined_frames() {
        let p = pprof::decode(&pprof::tests::tiny()).unwrap();
        let f = fold(&p, 1);
        assert_eq!(f, vec![("main".to_string(), 5), ("main;work;helper".to_string(), 30)]);
        let svg = String::from_utf8(svg(&f, "cpu", "ns").unwrap()).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("helper"), "{}", &svg[..200]);
        let mut after = f.clone();
        after[1].1 = 60;
        let d = String::from_utf8(differential_svg(&f, &after, "diff", "ns").unwrap()).unwrap();
        assert!(d.contains("rgb(255,"), "grown frames are red");
        // A path only the baseline has is still drawn (in blue).
        let gone = vec![("main;old".to_string(), 50), ("main".to_string(), 5)];
        let d = String::from_utf8(differential_svg(&gone, &f, "diff", "ns").unwrap()).unwrap();
        assert!(d.contains("old") && d.contains(",255)"), "removed paths stay visible, blue");
    }
}
