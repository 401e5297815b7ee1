//! results.json as `perfgate report` reads it, rendered by every report
//! that is rendered from a `Results` value: terminal table, brief.md,
//! findings.md, report.html, and written back as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::report::{brief, findings, format, html, terminal};
use perfgate::results::Results;
use std::path::PathBuf;
use std::sync::OnceLock;

/// An empty directory for report.html's flame graphs to be looked up in.
fn empty_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("perfgate-fuzz-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    })
}

/// report.html embeds the flame graphs that results.json names, read from
/// disk: an absolute path or `..` would have the fuzzer read any file of
/// the machine (/dev/zero never ends). Keep each name, minus its separators,
/// inside an empty directory, where it names nothing.
fn confine(path: &mut Option<String>) {
    if let Some(p) = path {
        *p = p.replace(['/', '\\'], "_");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut results) = serde_json::from_slice::<Results>(data) else { return };
    let _ = terminal::render(&results, false);
    let _ = terminal::render(&results, true);
    let _ = terminal::summary_line(&results);
    let _ = brief::render(&results);
    let _ = findings::render(&results);
    let _ = format::stop_sentence(&results);
    let _ = html::headline(&results);
    let _ = perfgate::analyze::findings::findings(&results, &Default::default());

    // What perfgate writes, it reads back.
    let text = serde_json::to_string_pretty(&results).expect("results serialize");
    if let Err(e) = serde_json::from_str::<Results>(&text) {
        panic!("results.json written by perfgate does not read back: {e}");
    }

    for p in &mut results.profiles {
        confine(&mut p.flame_graph);
    }
    for d in &mut results.profile_diffs {
        confine(&mut d.flame_graph);
    }
    let _ = html::render(&results, Some(empty_dir()));
});
