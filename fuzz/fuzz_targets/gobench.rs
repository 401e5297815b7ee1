//! Go benchmark text (`go test -bench` output) through the strict and the
//! lenient parser, the helpers that read its names and units, and
//! `perfgate benchstat` (build + text, CSV and JSON output) on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::analyze::benchstat::{Input, Options};
use perfgate::formats::gobench;
use perfgate::report::benchstat as render;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, errors) = gobench::parse_lenient(&text);
    let strict = gobench::parse(&text);
    // The strict parser fails exactly when the lenient one skipped a line.
    assert_eq!(strict.is_ok(), errors.is_empty(), "strict and lenient parsers disagree: {errors:?}");
    if let Ok(strict) = &strict {
        assert_eq!(strict.results.len(), file.results.len());
    }
    for r in &file.results {
        let _ = file.config_of(r);
        let _ = r.base_name();
        let _ = r.gomaxprocs();
        let _ = r.name_parts();
        let _ = r.name_key("size");
        for v in &r.values {
            let _ = gobench::tidy_unit(&v.unit);
            let _ = gobench::unit_tokens(&v.unit);
            let _ = gobench::better_for_unit(&v.unit);
            let _ = gobench::better_from_metadata(&file.units, &v.unit);
            let _ = r.value(&v.unit);
        }
    }

    // Two files, old and new, split at a `===` line; else the file against itself.
    let (old, new) = match text.split_once("\n===\n") {
        Some((a, b)) => (gobench::parse_lenient(a).0, gobench::parse_lenient(b).0),
        None => (file.clone(), file),
    };
    let inputs = [Input { label: "old", file: &old }, Input { label: "new", file: &new }];
    let report = render::build(&inputs, &Options::default());
    let _ = render::render_text(&report);
    let _ = render::render_csv(&report);
    let _ = render::render_json(&report, 0.02);
    let one = render::build(&inputs[..1], &Options::default());
    let _ = render::render_text(&one);
});
