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

    /// Returns the cached build for `key`, or runs `build` into a fresh
    /// directory and caches it if it succeeds.
    pub fn get_or_build<E>(
        &self,
        key: &str,
        build: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<Build, E>
    where
        E: From<std::io::Error>,
    {
        let done = self.dir.join(key);
        if done.join(".perfgate-build-complete").exists() {
            return Ok(Build {
                dir: done,
                cached: true,
                key: key.to_string(),
            });
        }
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!("{key}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        if let Err(e) = build(&tmp) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        std::fs::write(tmp.join(".perfgate-build-complete"), b"")?;
        let _ = std::fs::remove_dir_all(&done);
        std::fs::rename(&tmp, &done)?;
        Ok(Build {
            dir: done,
            cached: false,
            key: key.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_tree_command_and_env_only() {
        let e1 = vec![
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string()),
        ];
        let e2 = vec![
            ("B".to_string(), "2".to_string()),
            ("A".to_string(), "1".to_string()),
        ];
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
        let b2 = cache
            .get_or_build::<std::io::Error>("k", |_| panic!("must not rebuild"))
            .unwrap();
        assert!(b2.cached);
        assert_eq!(runs, 1);
        let failed =
            cache.get_or_build::<std::io::Error>("f", |_| Err(std::io::Error::other("boom")));
        assert!(failed.is_err());
        assert!(!dir.path().join("f").exists());
    }
}
