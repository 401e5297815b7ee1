//! HTTP load generation for `http` scenarios and `perfgate load`: closed- and
//! open-model load over HTTP/1.1 keep-alive connections, with latency in
//! per-worker HDR histograms (open model corrected for coordinated omission).

pub mod bounds;
mod engine;
pub mod hdrlog;
mod http1;
pub mod model;
pub mod recorder;
pub mod url;
pub mod ws;

pub use model::{Fleet, LoadSpec, Model, RequestMix, RequestSpec, StatusRanges};
pub use recorder::LoadReport;
pub use url::{TargetUrl, ensure_loopback};
pub use ws::{WindowEdge, WsReport, WsSpec};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(
        "refusing to send load to {host:?} ({url}): only this machine (127.0.0.0/8, ::1, localhost) is allowed; \
         pass --allow-remote if you really mean a remote target"
    )]
    NotLoopback { url: String, host: String },
    #[error("cannot resolve {host:?}: {reason}")]
    Resolve { host: String, reason: String },
    /// The spec cannot run: no requests, zero connections, a bad header, ...
    #[error("invalid load spec: {0}")]
    InvalidSpec(String),
    /// The generator itself failed (threads, runtime): not the target's fault.
    #[error("load generator failed: {0}")]
    Generator(String),
}

impl LoadError {
    /// True when the input is at fault (DESIGN §8 exit 2), false when running failed.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, LoadError::Generator(_))
    }
}

/// Runs the spec to completion and returns what was measured. Blocking: it
/// starts one single-threaded tokio runtime per load thread (up to one per
/// core, like wrk), so that nothing on the hot path is shared between
/// threads, and merges the threads' measurements at the end. It sends to
/// whatever `spec.base_url` names: check it with `ensure_loopback` first.
pub fn run(spec: &LoadSpec) -> Result<LoadReport, LoadError> {
    engine::run(spec)
}
