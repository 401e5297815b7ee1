//! `perfgate mcp` driven by a real MCP client: the official Python SDK
//! (`mcp` from PyPI) runs tests/mcp_client.py against the server over
//! stdio, on a real Go module whose candidate is 25% slower. CI installs
//! the SDK (.ci/run sets PERFGATE_MCP_PYTHON) and must not skip; elsewhere
//! a missing SDK skips loudly.

mod common;

use common::{Repo, go_repo_with_slowdown};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Python that can `import mcp`.
fn python_with_mcp() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("PERFGATE_MCP_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![PathBuf::from("python3")],
    };
    for py in candidates {
        let ok = Command::new(&py).args(["-c", "import mcp"]).output().map(|o| o.status.success()).unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI: the MCP Python SDK is required (PERFGATE_MCP_PYTHON, or python3 with `pip install mcp`)"
    );
    eprintln!("\n*** SKIPPED: no Python with the MCP SDK (`pip install mcp`, or set PERFGATE_MCP_PYTHON) ***\n");
    None
}

fn scenario_repo() -> Repo {
    let repo = go_repo_with_slowdown("30ms");
    // The candidate commit also gets the profiled scenario and a broken file;
    // both variants run the same scenario file (read from the working tree).
    repo.write(
        "perf.toml",
        "name = \"work\"\n\n[[scenario]]\nname = \"bench\"\nkind = \"gobench\"\nbench = \"Work\"\nbenchtime = \"30ms\"\nprofile = [\"cpu\"]\n",
    );
    repo.write("broken.toml", "name = \"x\"\n[[scenario]]\nkind = 12\n");
    repo
}

#[test]
fn a_python_mcp_client_drives_the_server() {
    let Some(python) = python_with_mcp() else { return };
    let repo = scenario_repo();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pprof/cpu_a.pprof");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py"))
        .arg(env!("CARGO_BIN_EXE_perfgate"))
        .arg(repo.path())
        .arg(&fixture)
        .output()
        .expect("run python");
    let log = format!("{}\n--- stderr\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{log}");
    assert!(out.status.success(), "{log}");
    assert!(log.contains("all MCP client checks passed"), "{log}");
}
