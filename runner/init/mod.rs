//! `perfgate init`: a first scenario file for the repository it runs in,
//! written from what the tree holds (Go benchmarks, Go HTTP services, Rust
//! criterion benches), validated before it is written, never over an
//! existing file unless asked.

pub mod detect;
pub mod gosrc;
pub mod render;

use std::path::{Path, PathBuf};

/// The file `init` writes, at the repository's root.
pub const FILE_NAME: &str = "perf.toml";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} exists; pass --force to replace it (or edit it: perfgate validate {0})")]
    Exists(String),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
    /// What `init` wrote does not validate: a bug of init's, said as one.
    #[error("the scenario file init composed does not validate (a bug in perfgate init, please report it): {0}")]
    Invalid(String),
}

/// What `init` did.
#[derive(Debug)]
pub struct Outcome {
    pub path: PathBuf,
    pub findings: detect::Findings,
    /// Nothing recognised: the file is the commented template.
    pub template: bool,
    /// The scenarios of the written file, as (name, kind).
    pub scenarios: Vec<(String, String)>,
}

/// Writes `root/perf.toml` (`root`: the repository's top directory).
pub fn init(root: &Path, force: bool) -> Result<Outcome, InitError> {
    let path = root.join(FILE_NAME);
    if path.exists() && !force {
        return Err(InitError::Exists(path.display().to_string()));
    }
    let findings = detect::detect(root);
    let name = repo_name(root);
    let (text, template) =
        if findings.is_empty() { (render::template(&name), true) } else { (render::render(&name, &findings), false) };
    let scenarios = if template {
        Vec::new()
    } else {
        let file = crate::config::parse(&path, &text).map_err(|e| InitError::Invalid(e.to_string()))?;
        file.scenarios.iter().map(|s| (s.name.clone(), s.kind.name().to_string())).collect()
    };
    std::fs::write(&path, &text).map_err(|source| InitError::Write { path: path.display().to_string(), source })?;
    Ok(Outcome { path, findings, template, scenarios })
}

/// The repository's top directory: git's, else `dir` itself.
pub fn repo_root(dir: &Path) -> PathBuf {
    crate::variant::Repo::discover(dir).map(|r| r.root).unwrap_or_else(|_| dir.to_path_buf())
}

/// A scenario-file name for the repository: its directory's name.
fn repo_name(root: &Path) -> String {
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let name = abs.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean.is_empty() { "perf".into() } else { clean }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn the_template_validates_once_an_example_is_uncommented() {
        let text = render::template("x");
        assert!(crate::config::parse(Path::new("perf.toml"), &text).is_err(), "no scenario yet");
        // The first example: from its "# [[scenario]]" to the blank line.
        let mut in_example = false;
        let mut done = false;
        let uncommented: Vec<String> = text
            .lines()
            .map(|l| {
                in_example |= !done && l == "# [[scenario]]";
                if in_example && l.is_empty() {
                    in_example = false;
                    done = true;
                }
                if in_example { l.trim_start_matches("# ").to_string() } else { l.to_string() }
            })
            .collect();
        let uncommented = uncommented.join("\n");
        let file = crate::config::parse(Path::new("perf.toml"), &uncommented).unwrap();
        assert_eq!(file.scenarios.len(), 1);
    }

    #[test]
    fn nested_modules_and_crates_each_get_a_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "go.mod", "module example.com/top\n");
        write(root, "a_test.go", "package top\nimport \"testing\"\nfunc BenchmarkA(b *testing.B) {}\n");
        write(root, "inner/go.mod", "module example.com/top/inner/v2\n");
        write(root, "inner/x/x_test.go", "package x\nimport \"testing\"\nfunc BenchmarkX(b *testing.B) {}\n");
        write(root, "vendor/v/v_test.go", "package v\nimport \"testing\"\nfunc BenchmarkV(b *testing.B) {}\n");
        write(
            root,
            "rs/Cargo.toml",
            "[package]\nname = \"fast\"\nversion = \"0.1.0\"\n[dev-dependencies]\ncriterion = \"0.8\"\n[[bench]]\nname = \"hot\"\nharness = false\n",
        );
        let outcome = init(root, false).unwrap();
        assert!(!outcome.template);
        let names: Vec<&str> = outcome.scenarios.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["top-bench", "inner-bench", "fast-bench"]);
        let text = std::fs::read_to_string(&outcome.path).unwrap();
        assert!(text.contains("dir = \"inner\"\npackages = [\"./x\"]"), "{text}");
        assert!(text.contains("targets = [\"hot\"]"), "{text}");
        assert!(!text.contains("./vendor"), "{text}");
        assert!(matches!(init(root, false), Err(InitError::Exists(_))));
    }
}
