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
        let marker = dir.join(".perfgate-build-complete");
        if marker.exists() {
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

#[cfg(test)]
mod tests {
    use super::*;

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
