//! The run's scope: what every process perfgate starts shares, and what
//! ends with the run.
//!
//! - A **cgroup v2** of this run (where the system lets perfgate make one:
//!   a writable cgroup2 mount, as for root or a delegated user slice). Each
//!   spawned process joins it before `exec`, so its whole tree stays in it
//!   even after `setsid` or a double fork — which process groups and the
//!   subreaper cannot follow once perfgate itself is gone. Ending the run
//!   ends the cgroup (`cgroup.kill`) and removes it.
//! - A **TMPDIR** of this run (`$TMPDIR/perfgate-run-PID-START/`), so files
//!   a killed target leaves in its temporary directory go with the run.
//!
//! Both are ended at the normal end of the command ([`end_own`]), by the
//! watchdog when perfgate is SIGKILLed ([`crate::watchdog`]), and from the
//! run lock's ledger by the next run if the watchdog died too
//! ([`end_recorded`]). A recorded path is trusted only if its name is one
//! perfgate makes, it lies where perfgate makes it, and the run that made
//! it is gone: the ledger lives in the repository and may be crafted.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const PREFIX: &str = "perfgate-run-";

struct Scope {
    cgroup: Option<(PathBuf, File)>,
    tmp: Option<PathBuf>,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static SCOPE: OnceLock<Scope> = OnceLock::new();

/// Turns the scope on for this process (the `perfgate` binary does; library
/// users and unit tests spawn without one). Created on the first spawn.
pub fn enable() {
    ENABLED.store(true, Ordering::SeqCst);
}

fn scope() -> Option<&'static Scope> {
    if !ENABLED.load(Ordering::SeqCst) {
        return None;
    }
    Some(SCOPE.get_or_init(create))
}

/// This run's name: the pid and its start time, so a recycled pid is not
/// mistaken for a live run.
fn own_name() -> String {
    let pid = std::process::id();
    let start = crate::watchdog::start_time(pid as i32).unwrap_or(0);
    format!("{PREFIX}{pid}-{start}")
}

fn create() -> Scope {
    let name = own_name();
    let cgroup = cgroup_base().and_then(|base| {
        let dir = base.join(&name);
        std::fs::create_dir(&dir).ok()?;
        match std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs")) {
            Ok(procs) => Some((dir, procs)),
            Err(_) => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    });
    let tmp = std::env::temp_dir().join(&name);
    let tmp = std::fs::create_dir(&tmp).ok().map(|_| tmp);
    Scope { cgroup, tmp }
}

/// The descriptor of this run's `cgroup.procs`, opened (close-on-exec) in
/// perfgate: a child writes `0` to it between fork and exec to join.
pub fn cgroup_procs_fd() -> Option<RawFd> {
    scope()?.cgroup.as_ref().map(|(_, f)| f.as_raw_fd())
}

/// This run's TMPDIR for the processes it starts.
pub fn tmp_dir() -> Option<&'static Path> {
    scope()?.tmp.as_deref()
}

/// Joins the cgroup whose `cgroup.procs` is `fd`. Only async-signal-safe
/// calls: runs in the child between fork and exec. Failure is not fatal
/// (the process then has the group and the watchdog, as before).
pub fn join_in_child(fd: Option<RawFd>) {
    if let Some(fd) = fd {
        // SAFETY: write(2) of a static byte to a descriptor open in the parent.
        unsafe {
            libc::write(fd, b"0".as_ptr().cast(), 1);
        }
    }
}

/// The ledger's and the watchdog's lines for this run's scope, if it has
/// one yet: `cgroup PATH`, `tmp PATH`.
pub fn recorded_lines() -> Vec<String> {
    let Some(s) = SCOPE.get() else { return Vec::new() };
    let mut lines = Vec::new();
    if let Some((dir, _)) = &s.cgroup {
        lines.push(format!("cgroup {}", dir.display()));
    }
    if let Some(tmp) = &s.tmp {
        lines.push(format!("tmp {}", tmp.display()));
    }
    lines
}

/// Ends this run's scope: kills what is left in its cgroup and removes the
/// cgroup and the TMPDIR. At the normal end of a command.
pub fn end_own() {
    if let Some(s) = SCOPE.get() {
        if let Some((dir, _)) = &s.cgroup {
            end_cgroup(dir);
        }
        if let Some(tmp) = &s.tmp {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

/// Ends a scope named by a ledger's line (`cgroup PATH` or `tmp PATH`).
/// Returns true if it ended processes or removed files.
pub fn end_recorded(line: &str) -> bool {
    end_line(line, true)
}

/// The watchdog's end of its perfgate's scope: the lines came over the
/// pipe from perfgate itself (which may still be a zombie, not yet "gone").
pub fn end_reported(line: &str) -> bool {
    end_line(line, false)
}

fn end_line(line: &str, must_be_gone: bool) -> bool {
    let Some((kind, path)) = line.split_once(' ') else { return false };
    let path = Path::new(path);
    let named = name_of_a_gone_run(path) || (!must_be_gone && made_by_perfgate(path));
    match kind {
        "cgroup" if named && trusted_cgroup(path) => {
            let populated = has_processes(path);
            end_cgroup(path);
            populated
        }
        "tmp" if named && trusted_tmp(path) => std::fs::remove_dir_all(path).is_ok(),
        _ => false,
    }
}

/// The run (pid, start time) a name perfgate made stands for.
fn run_of(path: &Path) -> Option<(i32, u64)> {
    let rest = path.file_name()?.to_str()?.strip_prefix(PREFIX)?;
    let (pid, start) = rest.split_once('-')?;
    Some((pid.parse().ok().filter(|&p: &i32| p > 1)?, start.parse().ok()?))
}

fn made_by_perfgate(path: &Path) -> bool {
    run_of(path).is_some()
}

/// A name perfgate made, for a run that is no longer alive.
fn name_of_a_gone_run(path: &Path) -> bool {
    run_of(path).is_some_and(|(pid, start)| crate::watchdog::start_time(pid) != Some(start))
}

fn trusted_cgroup(path: &Path) -> bool {
    cgroup2_mounts().iter().any(|m| path.starts_with(m) && path != m.as_path())
        && !path.components().any(|c| matches!(c, std::path::Component::ParentDir))
        && path.join("cgroup.procs").is_file()
}

fn trusted_tmp(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let in_tmp = path.parent() == Some(std::env::temp_dir().as_path());
    // SAFETY: geteuid has no failure mode.
    let uid = unsafe { libc::geteuid() };
    in_tmp && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() && m.uid() == uid)
}

fn has_processes(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty())
}

/// Kills every process in the cgroup (`cgroup.kill`, or SIGKILL per pid on
/// kernels before 5.14) and removes it once empty (up to 2 s).
fn end_cgroup(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()).filter(|&p| p > 1) {
                // SAFETY: kill(2) of a process in this run's own cgroup.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where this run's cgroup goes: under perfgate's own cgroup v2 path, if a
/// cgroup2 hierarchy is mounted and that directory is writable.
fn cgroup_base() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim_start_matches('/').to_string();
    cgroup2_mounts().into_iter().map(|m| m.join(&rel)).find(|dir| {
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
        // SAFETY: access(2) with a NUL-terminated path.
        dir.join("cgroup.procs").is_file() && unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0
    })
}

/// Mount points of cgroup2 file systems (from /proc/self/mountinfo).
fn cgroup2_mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mount = left.split(' ').nth(4)?;
            (right.split(' ').next() == Some("cgroup2")).then(|| PathBuf::from(mount))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_paths_are_trusted_only_when_perfgate_made_them_for_a_gone_run() {
        let tmp = std::env::temp_dir();
        // Not perfgate's name, or not where perfgate puts it: refused.
        assert!(!end_recorded("tmp /home"));
        assert!(!end_recorded(&format!("tmp {}", tmp.display())));
        let elsewhere = tempfile::tempdir().unwrap();
        let fake = elsewhere.path().join(format!("{PREFIX}999999999-1"));
        std::fs::create_dir(&fake).unwrap();
        assert!(!end_recorded(&format!("tmp {}", fake.display())), "not directly in the temp dir");
        assert!(fake.exists());
        // A live run's directory (this test process) is left alone.
        let me = std::process::id();
        let live = tmp.join(format!("{PREFIX}{me}-{}", crate::watchdog::start_time(me as i32).unwrap()));
        std::fs::create_dir_all(&live).unwrap();
        assert!(!end_recorded(&format!("tmp {}", live.display())));
        assert!(live.exists());
        std::fs::remove_dir(&live).unwrap();
        // A gone run's: removed, with what it held.
        let gone = tmp.join(format!("{PREFIX}{me}-1"));
        std::fs::create_dir_all(gone.join("sub")).unwrap();
        std::fs::write(gone.join("sub/left"), "x").unwrap();
        assert!(end_recorded(&format!("tmp {}", gone.display())));
        assert!(!gone.exists());
        // Cgroup lines must name a perfgate cgroup under a cgroup2 mount.
        assert!(!end_recorded("cgroup /sys/fs/cgroup"));
        assert!(!end_recorded(&format!("cgroup /sys/fs/cgroup/{PREFIX}1-1/../..")));
    }
}
