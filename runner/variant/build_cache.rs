//! Build cache: build outputs keyed by (tree hash, build command, env), so a
//! second compare against an unchanged baseline reuses its build. Outputs are
//! built in a temporary directory and renamed into place only on success, so
//! an interrupted or failed build is never mistaken for a cached one.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BuildCache {
    dir: PathBuf,
}

/// Where a build's outputs are, and whether they came from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    pub dir: PathBuf,
    pub cached: bool,
    pub key: String,
}

impl BuildCache {
    pub fn new(dir: PathBuf) -> BuildCache {
        BuildCache { dir }
    }

    /// The directory the cache lives in (`.perfgate`), for state kept beside
    /// it (cargo's target dir).
    pub fn state_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// A stable key from everything that can change a build's output.
    pub fn key(tree: &str, command: &str, env: &[(String, String)], extra: &str) -> String {
        let mut h = Sha256::new();
        for part in [tree, command, extra] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let mut env: Vec<&(String, String)> = env.iter().collect();
        env.sort();
        for (k, v) in env {
            h.update(k.as_bytes());
            h.update([b'=']);
            h.update(v.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }

    /// Returns the cached build for `key`, or runs `build` into its
    /// directory and marks it complete if it succeeds. The build happens in
    /// its final directory, so outputs that record their own path stay valid;
    /// a build without the completion marker (failed, interrupted) is wiped
    /// and redone. Runs hold the repository lock, so builds never race.
    pub fn get_or_build<E>(&self, key: &str, build: impl FnOnce(&Path) -> Result<(), E>) -> Result<Build, E>
    where
        E: From<std::io::Error>,
    {
        let dir = self.dir.join(key);
        let marker = dir.join(MARKER);
        if marker.exists() {
            // The marker's mtime is the build's last use: `perfgate cache prune` reads it.
            let _ = std::fs::File::options()
                .write(true)
                .open(&marker)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(Build { dir, cached: true, key: key.to_string() });
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if let Err(e) = build(&dir) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        std::fs::write(&marker, b"")?;
        Ok(Build { dir, cached: false, key: key.to_string() })
    }
}

/// Marks a complete build; its mtime is the build's last use.
const MARKER: &str = ".perfgate-build-complete";

/// One cached build: its directory, size and last use.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    pub bytes: u64,
    pub last_used: std::time::SystemTime,
    /// False for a build that never finished (failed or killed mid-way).
    pub complete: bool,
}

impl BuildCache {
    /// Every build in the cache, least recently used first.
    pub fn entries(&self) -> Vec<Entry> {
        let Ok(dirs) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut out: Vec<Entry> = dirs
            .flatten()
            .filter(|d| d.file_type().is_ok_and(|t| t.is_dir()))
            .map(|d| {
                let dir = d.path();
                let marker = std::fs::metadata(dir.join(MARKER));
                let last_used = marker
                    .as_ref()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .or_else(|| d.metadata().and_then(|m| m.modified()).ok())
                    .unwrap_or(std::time::UNIX_EPOCH);
                Entry { bytes: disk_usage(&dir), dir, last_used, complete: marker.is_ok() }
            })
            .collect();
        out.sort_by_key(|e| e.last_used);
        out
    }

    /// Total size of the cache in bytes.
    pub fn size(&self) -> u64 {
        disk_usage(&self.dir)
    }
}

/// Bytes in binary units, e.g. `1.4 GiB`.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", units[i]) }
}

/// Bytes under `path` (files only, symlinks not followed), bounded in depth.
pub fn disk_usage(path: &Path) -> u64 {
    fn walk(p: &Path, depth: u32) -> u64 {
        let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
        if meta.is_file() {
            return meta.len();
        }
        if !meta.is_dir() || depth > 64 {
            return 0;
        }
        std::fs::read_dir(p).map(|d| d.flatten().map(|e| walk(&e.path(), depth + 1)).sum()).unwrap_or(0)
    }
    walk(path, 0)
}

/// A fingerprint of the tools a build command names (`go build`, `cargo
/// build`, `make`): each word that is an executable on PATH contributes its
/// resolved path, size and modification time, so upgrading Go or Rust
/// changes the cache key without running anything.
pub fn toolchain(command: &str) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut out = String::new();
    let words = command.split(|c: char| c.is_whitespace() || ";&|()`$<>".contains(c));
    let mut seen = std::collections::BTreeSet::new();
    for word in words.filter(|w| !w.is_empty() && !w.contains('=') && !w.contains('{')) {
        if !seen.insert(word) {
            continue;
        }
        let candidates: Vec<PathBuf> = if word.contains('/') {
            vec![PathBuf::from(word)]
        } else {
            std::env::split_paths(&path).map(|d| d.join(word)).collect()
        };
        if let Some((p, m)) = candidates.into_iter().find_map(|p| {
            let m = std::fs::metadata(&p).ok().filter(|m| m.is_file())?;
            Some((std::fs::canonicalize(&p).unwrap_or(p), m))
        }) {
            let mtime =
                m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
            out.push_str(&format!("{} {} {}\n", p.display(), m.len(), mtime.as_nanos()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_names_the_tools_a_command_runs() {
        let t = toolchain("cd x && sh -c 'true' | FOO=1 nosuchtool-xyz {out}");
        assert!(t.contains("/sh ") || t.contains("/dash ") || t.contains("/bash "), "{t}");
        assert!(!t.contains("nosuchtool"), "{t}");
        assert_eq!(t, toolchain("cd x && sh -c 'true' | FOO=1 nosuchtool-xyz {out}"));
    }

    #[test]
    fn key_depends_on_tree_command_and_env_only() {
        let e1 = vec![("A".to_string(), "1".to_string()), ("B".to_string(), "2".to_string())];
        let e2 = vec![("B".to_string(), "2".to_string()), ("A".to_string(), "1".to_string())];
        let k = BuildCache::key("t1", "go build", &e1, "");
        assert_eq!(k, BuildCache::key("t1", "go build", &e2, ""));
        assert_ne!(k, BuildCache::key("t2", "go build", &e1, ""));
        assert_ne!(k, BuildCache::key("t1", "go build -race", &e1, ""));
        assert_ne!(k, BuildCache::key("t1", "go build", &[], ""));
    }

    #[test]
    fn second_request_is_cached_and_failures_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::new(dir.path().to_path_buf());
        let mut runs = 0;
        let b = cache
            .get_or_build::<std::io::Error>("k", |d| {
                runs += 1;
                std::fs::write(d.join("bin"), b"x")
            })
            .unwrap();
        assert!(!b.cached);
        assert!(b.dir.join("bin").exists());
        let b2 = cache.get_or_build::<std::io::Error>("k", |_| panic!("must not rebuild")).unwrap();
        assert!(b2.cached);
        assert_eq!(runs, 1);
        let failed = cache.get_or_build::<std::io::Error>("f", |_| Err(std::io::Error::other("boom")));
        assert!(failed.is_err());
        assert!(!dir.path().join("f").exists());
    }
}
