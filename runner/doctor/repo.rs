//! The repository's state, as far as a run cares: is it git, is it a
//! shallow clone (revisions to compare may be missing), are submodules
//! dirty or not checked out (the snapshot of the working tree would differ
//! from what the user sees), does HEAD have a parent to compare with.

use serde::Serialize;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct RepoState {
    pub is_git: bool,
    /// The top directory, when git.
    pub root: Option<String>,
    pub shallow: bool,
    /// Uncommitted changes in tracked files: `compare`'s default candidate
    /// (the working tree) differs from HEAD.
    pub dirty: bool,
    /// Submodules with uncommitted changes, another commit checked out, or
    /// not initialised (`git submodule status` + `git status`).
    pub dirty_submodules: Vec<String>,
    pub head_has_parent: bool,
    pub warnings: Vec<String>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

pub fn inspect(dir: &Path) -> RepoState {
    let mut state = RepoState::default();
    let Ok(repo) = crate::variant::Repo::discover(dir) else { return state };
    state.is_git = true;
    state.root = Some(repo.root.display().to_string());
    state.shallow = git(dir, &["rev-parse", "--is-shallow-repository"]).is_some_and(|s| s.trim() == "true");
    state.head_has_parent = git(dir, &["rev-parse", "--verify", "--quiet", "HEAD~1"]).is_some();
    // porcelain v2: "1 XY sub …" where sub is "S<c><m><u>" for a submodule.
    if let Some(status) = git(dir, &["status", "--porcelain=v2", "--ignore-submodules=none", "--untracked-files=no"]) {
        for line in status.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            if !matches!(fields.first(), Some(&"1") | Some(&"2")) {
                continue;
            }
            state.dirty = true;
            if let Some(sub) = fields.get(2).filter(|s| s.starts_with('S') && *s != &"N...") {
                let path = fields.last().unwrap_or(&"").to_string();
                let what: Vec<&str> =
                    [(1, 'C', "another commit"), (2, 'M', "modified files"), (3, 'U', "untracked files")]
                        .iter()
                        .filter(|(i, c, _)| sub.chars().nth(*i) == Some(*c))
                        .map(|(_, _, w)| *w)
                        .collect();
                state.dirty_submodules.push(format!("{path} ({})", what.join(", ")));
            }
        }
    }
    if let Some(subs) = git(dir, &["submodule", "status", "--recursive"]) {
        for line in subs.lines().filter(|l| l.starts_with('-')) {
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            state.dirty_submodules.push(format!("{path} (not initialised)"));
        }
    }
    if state.shallow {
        state.warnings.push(
            "shallow clone: older revisions may be missing; `git fetch --unshallow` before comparing against them"
                .into(),
        );
    }
    if !state.dirty_submodules.is_empty() {
        state.warnings.push(format!(
            "submodules differ from their recorded commits: {}; a revision's checkout uses the recorded ones",
            state.dirty_submodules.join(", ")
        ));
    }
    if !state.head_has_parent {
        state.warnings.push("HEAD has no parent commit: compare it with the working tree, or a patch".into());
    }
    state
}
