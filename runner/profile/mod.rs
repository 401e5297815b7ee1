//! Profiles (DESIGN §2 `profile/`): hotspot tables and diffs computed as
//! `go tool pprof -top` computes them, rendered as pprof's text or JSON.
//! Decoding lives in `formats::pprof`; capture in the workloads.

pub mod flame;
pub mod json;
pub mod measure;
pub mod text;
pub mod top;
pub mod tree;

pub use json::to_json;
pub use top::{Top, TopOptions, TopRow, diff, top};
pub use tree::{CallTree, TreeNode, call_tree};

/// Reads and decodes a profile file; an empty profile is an error too.
/// Errors name the file.
pub fn read(path: &std::path::Path) -> Result<crate::formats::pprof::Profile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let p = crate::formats::pprof::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if p.samples.is_empty() {
        return Err(format!("{}: the profile has no samples (nothing was recorded)", path.display()));
    }
    Ok(p)
}
