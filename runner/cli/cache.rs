//! `perfgate cache [prune]`: the build cache in `.perfgate/builds` — what it
//! holds, and removing builds not used for a while (or all of them).

use super::{CliError, EXIT_OK};
use crate::variant::Repo;
use crate::variant::build_cache::{BuildCache, human_size as size};
use crate::workload::cargobench::CARGO_TARGET;
use std::time::{Duration, SystemTime};

#[derive(clap::Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: Option<CacheAction>,
}

#[derive(clap::Subcommand, Debug)]
pub enum CacheAction {
    /// Remove builds not used within --older-than (default 14d), and unfinished ones.
    Prune {
        /// Keep builds used more recently than this, e.g. 7d, 12h; 0s removes every build.
        #[arg(long, value_name = "DURATION", default_value = "14d", value_parser = parse_age)]
        older_than: Duration,
    },
}

pub fn run(args: CacheArgs) -> Result<i32, CliError> {
    let cwd = std::env::current_dir().map_err(|e| CliError::bad_input(anyhow::anyhow!("current directory: {e}")))?;
    let repo = Repo::discover(&cwd).map_err(|e| CliError::bad_input(anyhow::anyhow!("{e}")))?;
    let cache = BuildCache::new(repo.state_dir().join("builds"));
    match args.action {
        None => {
            let entries = cache.entries();
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            crate::out!("{}: {} build(s), {}\n", repo.state_dir().join("builds").display(), entries.len(), size(total));
            for e in entries.iter().rev() {
                let age = SystemTime::now().duration_since(e.last_used).unwrap_or_default();
                let state = if e.complete { "" } else { " (unfinished)" };
                crate::out!("  {}  {:>10}  used {} ago{state}\n", e.dir.display(), size(e.bytes), ago(age));
            }
            let cargo = repo.state_dir().join(CARGO_TARGET);
            if let Some(used) = last_built(&cargo) {
                let age = SystemTime::now().duration_since(used).unwrap_or_default();
                let bytes = crate::variant::build_cache::disk_usage(&cargo);
                crate::out!(
                    "{}: {} (cargo's target dir for cargobench scenarios), built in {} ago\n",
                    cargo.display(),
                    size(bytes),
                    ago(age)
                );
            }
        }
        Some(CacheAction::Prune { older_than }) => {
            // Runs build into the cache while holding the lock: never prune under one.
            let _lock = repo.lock().map_err(|e| CliError::bad_input(anyhow::anyhow!("{e}")))?;
            let (mut removed, mut freed) = (0, 0);
            for e in cache.entries() {
                let age = SystemTime::now().duration_since(e.last_used).unwrap_or_default();
                if (!e.complete || age >= older_than) && std::fs::remove_dir_all(&e.dir).is_ok() {
                    removed += 1;
                    freed += e.bytes;
                }
            }
            let cargo = repo.state_dir().join(CARGO_TARGET);
            if let Some(used) = last_built(&cargo)
                && SystemTime::now().duration_since(used).unwrap_or_default() >= older_than
            {
                let bytes = crate::variant::build_cache::disk_usage(&cargo);
                if std::fs::remove_dir_all(&cargo).is_ok() {
                    crate::out!("removed {} ({})\n", cargo.display(), size(bytes));
                }
            }
            crate::out!("removed {removed} build(s), freed {}; {} left\n", size(freed), size(cache.size()));
        }
    }
    Ok(EXIT_OK)
}

/// When cargo last built in its target dir: the newest of its profile
/// directories' entries (cargo adds and replaces files there per build).
fn last_built(dir: &std::path::Path) -> Option<SystemTime> {
    let mut newest = std::fs::metadata(dir).and_then(|m| m.modified()).ok()?;
    for profile in std::fs::read_dir(dir).ok()?.flatten() {
        for e in std::fs::read_dir(profile.path()).into_iter().flatten().flatten() {
            if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
    }
    Some(newest)
}

/// A duration as `parse_duration` reads it, or whole days (`14d`).
fn parse_age(text: &str) -> Result<Duration, String> {
    match text.strip_suffix('d').map(str::parse::<u64>) {
        Some(Ok(days)) if days <= 36_500 => Ok(Duration::from_secs(days * 86_400)),
        _ => crate::config::parse_duration(text),
    }
}

fn ago(d: Duration) -> String {
    match d.as_secs() {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
