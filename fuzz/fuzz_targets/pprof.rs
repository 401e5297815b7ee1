//! pprof bytes → decoded profile → every pure view perfgate derives from
//! it: `profile top` (each sample type), a self-diff, the call tree, folded
//! stacks and the flame graph SVG.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::formats::pprof::{self, Limits};
use perfgate::profile::{flame, json, text, top, tree};

fuzz_target!(|data: &[u8]| {
    // `decode` is `decode_with(Limits::from_env())`, whose defaults allow
    // 256 MiB decompressed and 2 GiB of model: far over this fuzzer's
    // 256 MB malloc limit. Smaller limits, same code: what is checked is
    // that decoding stays within whatever limits it is given.
    let limits = Limits { max_bytes: 8 << 20, max_memory: 64 << 20 };
    let Ok(p) = pprof::decode_with(data, &limits) else { return };
    if data.len() <= 1024 {
        // The public entry point too, where the input cannot inflate past
        // ~1 MB (deflate's ratio is at most ~1032:1).
        let _ = pprof::decode(data);
    }

    let mut opts = top::TopOptions::default();
    if let Ok(t) = top::top(&p, &opts) {
        let _ = text::render(&t);
        let _ = json::to_json(&t);
    }
    // Every sample index that exists (capped), by number and by name.
    for i in 0..p.sample_types.len().min(4) {
        opts.sample_index = Some(i.to_string());
        let _ = top::top(&p, &opts);
        let _ = flame::fold(&p, i);
        opts.sample_index = Some(p.sample_types[i].kind.to_string());
        let _ = top::top(&p, &opts);
    }
    // An index out of range must be an error, never a panic.
    opts.sample_index = Some(p.sample_types.len().to_string());
    let _ = top::top(&p, &opts);

    opts.sample_index = None;
    if let Ok(d) = top::diff(&p, &p, &opts) {
        let _ = text::render(&d);
    }
    let _ = tree::call_tree(&p, None, None, 8);

    if let Ok(index) = p.sample_index(None) {
        let folded = flame::fold(&p, index);
        // inferno's SVG is slow: only for small inputs.
        if data.len() <= 2048 && folded.len() <= 64 {
            let _ = flame::svg(&folded, "fuzz", "samples");
            let _ = flame::differential_svg(&folded, &folded, "fuzz", "samples");
        }
    }
});
