//! HTTP/1.x responses as the load generator reads them: the head parser,
//! then the body skipper fed the rest in chunks of fuzzer-chosen sizes, as
//! `load::engine` reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;

// `perfgate::load::http1` is private to `load` (only the engine uses it), so
// its source file is compiled in here as is: the code fuzzed is the code
// the engine runs.
#[allow(dead_code)]
#[path = "../../runner/load/http1.rs"]
mod http1;
use http1::{BodySkipper, Framing};

fuzz_target!(|data: &[u8]| {
    // First byte: HEAD request or not, and the seed of the chunk sizes.
    let Some((&ctl, buf)) = data.split_first() else { return };
    let head_request = ctl & 1 == 1;
    let head = match http1::parse_head(buf, head_request) {
        Ok(Some(h)) => h,
        Ok(None) => {
            // Incomplete: every prefix must be incomplete too (or an error).
            return;
        }
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(head.len <= buf.len(), "head length {} past the buffer ({})", head.len, buf.len());
    assert!((100..=999).contains(&head.status));
    if head_request || head.status == 204 || head.status == 304 || head.status < 200 {
        assert_eq!(head.framing, Framing::Empty);
    }
    // The same head, parsed from a longer buffer, is the same head.
    let mut longer = buf[..head.len].to_vec();
    longer.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(http1::parse_head(&longer, head_request), Ok(Some(head)));

    // Skip the body as the engine does: keep the unconsumed tail, append the
    // next read to it.
    let body = &buf[head.len..];
    let mut skipper = BodySkipper::new(head.framing);
    let mut pending: Vec<u8> = Vec::new();
    let mut consumed = 0usize;
    let mut rest = body;
    let mut step = usize::from(ctl >> 1) + 1;
    let mut failed = false;
    while !rest.is_empty() && !skipper.is_done() {
        let n = step.min(rest.len());
        pending.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        step = step % 13 + 1;
        match skipper.consume(&pending) {
            Ok(used) => {
                assert!(used <= pending.len(), "consumed {used} of {} bytes", pending.len());
                consumed += used;
                pending.drain(..used);
            }
            Err(e) => {
                let _ = e.to_string();
                failed = true;
                break;
            }
        }
    }

    // The same body in one read: where both reach the end of the body, they
    // agree on where it is.
    let mut whole = BodySkipper::new(head.framing);
    if let Ok(used) = whole.consume(body) {
        assert!(used <= body.len());
        if !failed && whole.is_done() && skipper.is_done() {
            assert_eq!(used, consumed, "the body ends at {used} read whole, at {consumed} read in pieces");
        }
    }
});
