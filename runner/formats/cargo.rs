//! Cargo's JSON for machines: the build messages of `cargo bench --no-run
//! --message-format=json…` and `cargo metadata --no-deps`.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// An executable cargo built.
#[derive(Debug, PartialEq)]
pub struct Artifact {
    /// The cargo target (`summary` for benches/summary.rs).
    pub target: String,
    pub executable: PathBuf,
    /// The directory of the package's Cargo.toml.
    pub manifest_dir: PathBuf,
}

/// The executables in cargo's JSON messages (`compiler-artifact` with an
/// `executable`: bench targets, and a library's test harness under
/// `--benches`), in the order cargo built them. Other lines are skipped.
pub fn executables(messages: &str) -> Vec<Artifact> {
    #[derive(Deserialize)]
    struct Message {
        reason: String,
        #[serde(default)]
        executable: Option<PathBuf>,
        #[serde(default)]
        manifest_path: Option<PathBuf>,
        #[serde(default)]
        target: Option<Target>,
    }
    #[derive(Deserialize)]
    struct Target {
        name: String,
    }
    let mut out = Vec::new();
    for line in messages.lines().filter(|l| l.starts_with('{')) {
        let Ok(m) = serde_json::from_str::<Message>(line) else { continue };
        if m.reason != "compiler-artifact" {
            continue;
        }
        if let (Some(executable), Some(target), Some(manifest)) = (m.executable, m.target, m.manifest_path) {
            let manifest_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            out.push(Artifact { target: target.name, executable, manifest_dir });
        }
    }
    out
}

/// The names of the packages `cargo metadata --no-deps` lists (the
/// workspace's own); none for anything else.
pub fn local_packages(metadata: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Metadata {
        packages: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
    }
    let json = metadata.lines().find(|l| l.starts_with('{')).unwrap_or("{}");
    serde_json::from_str::<Metadata>(json).map(|m| m.packages.into_iter().map(|p| p.name).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_messages_name_the_executables() {
        let text = concat!(
            "{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"criterion\",\"kind\":[\"lib\"]},\"executable\":null,\"manifest_path\":\"/r/c/Cargo.toml\"}\n",
            "{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"summary\",\"kind\":[\"bench\"]},\"executable\":\"/t/release/deps/summary-1\",\"manifest_path\":\"/w/lib/Cargo.toml\"}\n",
            "   Compiling rustlib v0.1.0\n{not json\n",
            "{\"reason\":\"build-finished\",\"success\":true}\n",
        );
        assert_eq!(
            executables(text),
            vec![Artifact {
                target: "summary".into(),
                executable: "/t/release/deps/summary-1".into(),
                manifest_dir: "/w/lib".into()
            }]
        );
    }

    #[test]
    fn metadata_names_the_local_packages() {
        let text =
            "{\"packages\":[{\"name\":\"a\",\"version\":\"0.1.0\"},{\"name\":\"b\"}],\"workspace_members\":[]}\n";
        assert_eq!(local_packages(text), vec!["a".to_string(), "b".into()]);
        assert!(local_packages("warning: x\n{oops").is_empty());
    }
}
