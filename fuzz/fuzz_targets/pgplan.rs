//! PostgreSQL's server log as auto_explain writes it (plans as JSON after
//! `duration: … plan:` lines), with the statements' texts the code under
//! test sent: pulled apart, flattened, flagged and written back as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::formats::pgplan;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let plans = pgplan::extract(&text);
    assert!(plans.len() <= pgplan::MAX_PLANS);
    for p in plans.iter().take(20) {
        assert!(p.duration_ms.is_finite());
        let nodes = pgplan::nodes(&p.plan);
        assert!(nodes.iter().all(|n| n.depth <= pgplan::MAX_DEPTH));
        let _ = pgplan::flags(&nodes, 1000);
        let _ = pgplan::text(&p.query, p.duration_ms, &nodes);
    }
});
