//! Variants (DESIGN §4): turn "HEAD", "the working tree" or "HEAD + a patch"
//! into a commit and tree hash, then materialize each into a reusable git
//! worktree under `.perfgate/`. Revisions are always passed to git as
//! arguments, never through a shell.

pub mod build_cache;

use crate::model::Role;
use crate::results::VariantInfo;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    #[error("{dir} is not inside a git repository; run perfgate from the repository that holds the code to measure")]
    NotARepository { dir: String },
    #[error(
        "unknown revision {rev:?}: git cannot resolve it to a commit (check `git log --oneline` for valid revisions)"
    )]
    UnknownRevision { rev: String },
    #[error("the repository has no commits yet: commit a baseline first (`git add -A && git commit`)")]
    NoCommits,
    #[error("cannot read patch {path}: {source}")]
    PatchUnreadable { path: String, source: std::io::Error },
    #[error("patch {path} does not apply to {base}:\n{message}")]
    PatchDoesNotApply { path: String, base: String, message: String },
    #[error("git {args} failed: {message}")]
    Git { args: String, message: String },
    #[error("another perfgate run is using {path} (its checkouts and build cache); wait for it to finish, or stop it")]
    Busy { path: String },
}

impl VariantError {
    /// Mistakes in what the user asked for (exit 2) vs. failures of the run (exit 3).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, VariantError::Git { .. } | VariantError::Busy { .. })
    }
}

/// What the user asked a variant to be.
#[derive(Debug, Clone, PartialEq)]
pub enum VariantSpec {
    Rev(String),
    /// The working tree as it is now, uncommitted and untracked-not-ignored files included.
    WorkingTree,
    /// `base` with a patch applied on top.
    Patch {
        base: String,
        patch: PathBuf,
    },
}

/// A variant pinned to an exact commit and tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub role: Role,
    pub label: String,
    pub commit: String,
    pub tree: String,
    pub patch: Option<String>,
}

impl Resolved {
    pub fn info(&self) -> VariantInfo {
        VariantInfo {
            role: self.role,
            rev: self.label.clone(),
            commit: self.commit.clone(),
            tree: self.tree.clone(),
            patch: self.patch.clone(),
        }
    }
}

/// The git repository perfgate works in.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    pub fn discover(dir: &Path) -> Result<Repo, VariantError> {
        let out = Command::new("git").arg("-C").arg(dir).args(["rev-parse", "--show-toplevel"]).output();
        match out {
            Ok(o) if o.status.success() => {
                let root = String::from_utf8_lossy(&o.stdout).trim().to_string();
                Ok(Repo { root: PathBuf::from(root) })
            }
            _ => Err(VariantError::NotARepository { dir: dir.display().to_string() }),
        }
    }

    /// Takes the repository's run lock: two runs sharing `.perfgate/` would
    /// check out over each other's worktrees. Released when the guard drops
    /// (and by the kernel if perfgate dies).
    pub fn lock(&self) -> Result<std::fs::File, VariantError> {
        use std::os::fd::AsRawFd;
        let dir = self.state_dir();
        let io = |e: std::io::Error| VariantError::Git { args: "lock .perfgate".into(), message: e.to_string() };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("lock")).map_err(io)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(VariantError::Busy { path: dir.display().to_string() });
        }
        // The lock is ours, so the run that wrote the ledger is gone: end
        // whatever it left running (its watchdog should have), then keep ours there.
        let ledger = dir.join("groups");
        let ended = crate::watchdog::end_leftovers(&ledger);
        if ended > 0 {
            crate::note!("ended {ended} process group(s) left running by an earlier perfgate run that was killed");
        }
        crate::watchdog::set_ledger(ledger);
        Ok(file)
    }

    /// `.perfgate/` at the repository root: checkouts and build cache.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".perfgate")
    }

    fn git(&self, args: &[&str]) -> Result<String, VariantError> {
        self.git_env(args, &[])
    }

    fn git_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Result<String, VariantError> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.root).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().map_err(|e| VariantError::Git { args: args.join(" "), message: e.to_string() })?;
        if !out.status.success() {
            return Err(VariantError::Git {
                args: args.join(" "),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Resolves a revision to a commit; unknown revisions are the user's mistake.
    pub fn commit_of(&self, rev: &str) -> Result<String, VariantError> {
        let spec = format!("{rev}^{{commit}}");
        self.git(&["rev-parse", "--verify", "--quiet", "--end-of-options", &spec]).map_err(|_| {
            if self.git(&["rev-parse", "--verify", "--quiet", "HEAD"]).is_err() {
                VariantError::NoCommits
            } else {
                VariantError::UnknownRevision { rev: rev.to_string() }
            }
        })
    }

    fn tree_of(&self, commit: &str) -> Result<String, VariantError> {
        self.git(&["rev-parse", "--verify", &format!("{commit}^{{tree}}")])
    }

    /// Adds a pattern to `.git/info/exclude` (once), keeping perfgate's own
    /// files (`/.perfgate/`, `/reports/latest`) out of `git status` and out of
    /// working-tree snapshots without touching the user's tracked `.gitignore`.
    pub fn ensure_ignored(&self, pattern: &str) -> Result<(), VariantError> {
        let exclude = PathBuf::from(self.git(&["rev-parse", "--git-path", "info/exclude"])?);
        let exclude = if exclude.is_absolute() { exclude } else { self.root.join(exclude) };
        let current = std::fs::read_to_string(&exclude).unwrap_or_default();
        if !current.lines().any(|l| l.trim() == pattern) {
            if let Some(dir) = exclude.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let mut text = current;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(pattern);
            text.push('\n');
            std::fs::write(&exclude, text)
                .map_err(|e| VariantError::Git { args: "info/exclude".into(), message: e.to_string() })?;
        }
        Ok(())
    }

    /// Pins a variant to a commit and tree. The working tree and patches are
    /// captured in a private index and written as a dangling commit, so later
    /// edits to the working tree cannot leak into the run.
    pub fn resolve(&self, role: Role, spec: &VariantSpec) -> Result<Resolved, VariantError> {
        match spec {
            VariantSpec::Rev(rev) => {
                let commit = self.commit_of(rev)?;
                let tree = self.tree_of(&commit)?;
                Ok(Resolved { role, label: rev.clone(), commit, tree, patch: None })
            }
            VariantSpec::WorkingTree => {
                let head = self.commit_of("HEAD")?;
                let index = self.private_index("snapshot")?;
                let real_index = PathBuf::from(self.git(&["rev-parse", "--git-path", "index"])?);
                let real_index = if real_index.is_absolute() { real_index } else { self.root.join(real_index) };
                // Starting from the real index keeps git's stat cache: fast on big
                // trees. The copy keeps the original's mtime, because git trusts a
                // file's cached stat only if the file is older than the index
                // ("racy git"): a fresh mtime would hide edits made in the same
                // second as the last `git add`.
                if copy_with_mtime(&real_index, &index).is_err() {
                    self.git_env(&["read-tree", &head], &[("GIT_INDEX_FILE", &index)])?;
                }
                // `.perfgate/` and perfgate's reports are git-ignored, so `add -A` skips them.
                self.git_env(&["add", "-A", "--", "."], &[("GIT_INDEX_FILE", &index)])?;
                let tree = self.git_env(&["write-tree"], &[("GIT_INDEX_FILE", &index)])?;
                let _ = std::fs::remove_file(&index);
                let commit = self.commit_tree(&tree, &head, "perfgate: snapshot of the working tree")?;
                Ok(Resolved { role, label: "working tree".into(), commit, tree, patch: None })
            }
            VariantSpec::Patch { base, patch } => {
                let base_commit = self.commit_of(base)?;
                let patch_abs = if patch.is_absolute() { patch.clone() } else { self.root.join(patch) };
                // Normalized (`a/../x.patch` → `x.patch`) and recorded relative to
                // the repository, so results read the same on every machine.
                let patch_abs = std::fs::canonicalize(&patch_abs).unwrap_or(patch_abs);
                let root = std::fs::canonicalize(&self.root).unwrap_or(self.root.clone());
                let patch = &patch_abs.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(patch_abs.clone());
                if let Err(source) = std::fs::metadata(&patch_abs) {
                    return Err(VariantError::PatchUnreadable { path: patch.display().to_string(), source });
                }
                let index = self.private_index("patch")?;
                self.git_env(&["read-tree", &base_commit], &[("GIT_INDEX_FILE", &index)])?;
                let patch_arg = patch_abs.display().to_string();
                if let Err(VariantError::Git { message, .. }) =
                    self.git_env(&["apply", "--cached", "--", &patch_arg], &[("GIT_INDEX_FILE", &index)])
                {
                    let _ = std::fs::remove_file(&index);
                    return Err(VariantError::PatchDoesNotApply {
                        path: patch.display().to_string(),
                        base: base.clone(),
                        message,
                    });
                }
                let tree = self.git_env(&["write-tree"], &[("GIT_INDEX_FILE", &index)])?;
                let _ = std::fs::remove_file(&index);
                let commit = self.commit_tree(&tree, &base_commit, "perfgate: baseline + patch")?;
                Ok(Resolved {
                    role,
                    label: format!("{base} + {}", patch.display()),
                    commit,
                    tree,
                    patch: Some(patch.display().to_string()),
                })
            }
        }
    }

    fn private_index(&self, what: &str) -> Result<PathBuf, VariantError> {
        let dir = self.state_dir().join("tmp");
        std::fs::create_dir_all(&dir)
            .map_err(|e| VariantError::Git { args: "mkdir .perfgate/tmp".into(), message: e.to_string() })?;
        Ok(dir.join(format!("index-{what}-{}", std::process::id())))
    }

    fn commit_tree(&self, tree: &str, parent: &str, message: &str) -> Result<String, VariantError> {
        // Fixed identity and dates: the snapshot commit depends only on its content.
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(&self.root)
            .args(["commit-tree", tree, "-p", parent, "-m", message])
            .env("GIT_AUTHOR_NAME", "perfgate")
            .env("GIT_AUTHOR_EMAIL", "perfgate@localhost")
            .env("GIT_COMMITTER_NAME", "perfgate")
            .env("GIT_COMMITTER_EMAIL", "perfgate@localhost")
            .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z");
        let out = cmd.output().map_err(|e| VariantError::Git { args: "commit-tree".into(), message: e.to_string() })?;
        if !out.status.success() {
            return Err(VariantError::Git {
                args: "commit-tree".into(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Checks the variant out into `.perfgate/worktrees/<role>`, reusing the
    /// worktree from earlier runs; the checkout is reset to exactly the commit.
    pub fn materialize(&self, variant: &Resolved) -> Result<PathBuf, VariantError> {
        let path = self.state_dir().join("worktrees").join(variant.role.as_str());
        let path_str = path.display().to_string();
        let reusable = path.join(".git").exists()
            && Command::new("git")
                .arg("-C")
                .arg(&path)
                .args(["rev-parse", "--is-inside-work-tree"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
        if reusable {
            let current = self.git(&["-C", &path_str, "rev-parse", "HEAD"]).unwrap_or_default();
            if current != variant.commit {
                self.git(&["-C", &path_str, "checkout", "--quiet", "--detach", "--force", &variant.commit])?;
            }
            self.git(&["-C", &path_str, "reset", "--quiet", "--hard", &variant.commit])?;
            self.git(&["-C", &path_str, "clean", "-ffdxq"])?;
        } else {
            // A half-made worktree from an interrupted run: clear it and its registration.
            let _ = std::fs::remove_dir_all(&path);
            self.git(&["worktree", "prune"])?;
            self.git(&["worktree", "add", "--quiet", "--detach", "--force", &path_str, &variant.commit])?;
        }
        // Submodules belong to the variant's source: check them out at the
        // commits the variant records.
        if path.join(".gitmodules").exists() {
            self.submodule_update(&path, variant.role.as_str())?;
        }
        Ok(path)
    }

    /// `git submodule update` may fetch over the network and hang there: it
    /// runs as a registered process group, limited like a build step
    /// (`PERFGATE_BUILD_TIMEOUT`), logged under `.perfgate/tmp/`.
    fn submodule_update(&self, path: &Path, role: &str) -> Result<(), VariantError> {
        let args: Vec<String> =
            ["-C", &path.display().to_string(), "submodule", "update", "--init", "--recursive", "--force", "--quiet"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let fail = |message: String| VariantError::Git { args: args[2..].join(" "), message };
        let timeout = crate::workload::build_timeout().map_err(fail)?;
        let log = self.state_dir().join("tmp").join(format!("submodule-{role}.log"));
        let finished = crate::process::run_program(Path::new("git"), &args, &self.root, &[], &log, Some(timeout))
            .map_err(|e| fail(e.to_string()))?;
        if !finished.success() {
            let tail = crate::process::failure_tail(&log, 10);
            return Err(fail(format!(
                "{} (PERFGATE_BUILD_TIMEOUT bounds it)\n{tail}",
                finished.describe(Some(timeout))
            )));
        }
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(crate::process::stderr_path(&log));
        Ok(())
    }
}

/// Copies a file and gives the copy the original's modification time.
fn copy_with_mtime(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to)?;
    let modified = std::fs::metadata(from)?.modified()?;
    std::fs::File::options().write(true).open(to)?.set_modified(modified)
}
