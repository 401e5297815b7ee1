//! Nothing perfgate starts outlives it, even under `kill -9`.
//!
//! Every process group perfgate spawns is registered with a watchdog: a
//! second perfgate process (`perfgate __watchdog`, in its own session so a
//! signal to perfgate's group does not reach it) that reads group ids from
//! a pipe only perfgate holds. When perfgate ends — normally, by Ctrl-C or
//! by SIGKILL — the pipe reaches end-of-file and the watchdog ends every
//! group still registered (TERM, then KILL), then exits. Groups that end
//! normally are unregistered first, so a recycled group id is never hit.
//!
//! The same registry is mirrored into a ledger file (the run lock's
//! `.perfgate/groups`) so that if the watchdog itself was killed too, the
//! next run in that repository finds the leftovers and ends them.
//! perfgate is also a child subreaper: a process that leaves its group
//! (`setsid`) is re-parented to perfgate rather than to PID 1, and is ended
//! with the rest (see [`crate::process`]). After perfgate's death such a
//! process is caught by the run's cgroup, which the watchdog (or the next
//! run, from the ledger) ends along with the run's TMPDIR ([`crate::scope`]).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The hidden subcommand the watchdog runs as.
pub const SUBCOMMAND: &str = "__watchdog";

struct State {
    pipe: Option<ChildStdin>,
    /// The watchdog's pid, once started.
    pid: Option<i32>,
    started: bool,
    /// Registered groups: id → the leader's start time (clock ticks after boot).
    groups: BTreeMap<i32, u64>,
    ledger: Option<PathBuf>,
}

static STATE: Mutex<State> =
    Mutex::new(State { pipe: None, pid: None, started: false, groups: BTreeMap::new(), ledger: None });

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes perfgate a child subreaper (Linux): orphans of its process trees
/// come back to it instead of PID 1.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Registers a new process group (its leader's pid): the watchdog ends it
/// if perfgate dies first. Starts the watchdog on first use.
pub fn track(pgid: i32) {
    let mut s = state();
    if !s.started {
        s.started = true;
        if let Some((pipe, pid)) = spawn_watchdog() {
            s.pipe = Some(pipe);
            s.pid = Some(pid);
        }
        // The run's scope exists by now (the spawn being tracked joined it).
        for line in crate::scope::recorded_lines() {
            send(&mut s, &format!("s {line}\n"));
        }
    }
    let start = start_time(pgid).unwrap_or(0);
    s.groups.insert(pgid, start);
    send(&mut s, &format!("+{pgid} {start}\n"));
    write_ledger(&s);
}

/// Unregisters a group that has ended (or is about to be reaped).
pub fn untrack(pgid: i32) {
    let mut s = state();
    if s.groups.remove(&pgid).is_some() {
        send(&mut s, &format!("-{pgid}\n"));
        write_ledger(&s);
    }
}

/// Records the registry in `path` too (one `pgid start` per line, after a
/// `perfgate PID` line), for [`end_leftovers`] of the next run.
pub fn set_ledger(path: PathBuf) {
    let mut s = state();
    s.ledger = Some(path);
    write_ledger(&s);
}

/// Ends the groups a previous, killed run recorded in `path` and that still
/// exist (a leader that is alive must have the recorded start time). Called
/// with the run lock held, so that run is gone. Returns how many it ended.
pub fn end_leftovers(path: &std::path::Path) -> usize {
    let Ok(text) = std::fs::read_to_string(path) else { return 0 };
    let owner = text.lines().next().and_then(|l| l.strip_prefix("perfgate ")).and_then(|p| p.parse::<u32>().ok());
    if owner == Some(std::process::id()) {
        return 0; // our own ledger: this run took the lock before
    }
    let groups: Vec<(i32, u64)> = text
        .lines()
        .filter_map(|l| {
            let (g, t) = l.split_once(' ')?;
            Some((g.parse().ok()?, t.parse().ok()?))
        })
        // A recorded start time of 0 (the leader was already gone) could
        // name anyone's group now: only exact matches are ended.
        .filter(|&(g, t)| g > 1 && t > 0)
        .collect();
    let mut ended = end_groups(&groups);
    // Its cgroup (what left the groups) and its TMPDIR.
    for line in text.lines().filter(|l| l.starts_with("cgroup ") || l.starts_with("tmp ")) {
        if crate::scope::end_recorded(line) && line.starts_with("cgroup ") {
            ended += 1;
        }
    }
    let _ = std::fs::remove_file(path);
    ended
}

fn send(s: &mut State, line: &str) {
    if let Some(pipe) = s.pipe.as_mut()
        && pipe.write_all(line.as_bytes()).is_err()
    {
        s.pipe = None;
    }
}

fn write_ledger(s: &State) {
    let Some(path) = &s.ledger else { return };
    let mut text = format!("perfgate {}\n", std::process::id());
    for (g, t) in &s.groups {
        text.push_str(&format!("{g} {t}\n"));
    }
    for line in crate::scope::recorded_lines() {
        text.push_str(&line);
        text.push('\n');
    }
    let _ = std::fs::write(path, text);
}

/// True for the watchdog process of this perfgate.
pub fn is_watchdog(pid: i32) -> bool {
    state().pid == Some(pid)
}

fn spawn_watchdog() -> Option<(ChildStdin, i32)> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    let mut cmd = Command::new(exe);
    cmd.arg(SUBCOMMAND).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe; runs in the child before exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().ok()?;
    let pid = child.id() as i32;
    let stdin = child.stdin.take()?;
    // Reaped by a thread so it never lingers as a zombie of a long run.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Some((stdin, pid))
}

/// The watchdog process: collect groups from stdin until EOF, then end
/// those still registered.
pub fn run() -> i32 {
    // SAFETY: ignoring signals in this process only; it must outlive perfgate.
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
    let mut groups: BTreeMap<i32, u64> = BTreeMap::new();
    let mut scope: Vec<String> = Vec::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.strip_prefix("s ") {
            scope.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix('+') {
            let mut parts = rest.split(' ');
            if let (Some(Ok(g)), Some(Ok(t))) = (parts.next().map(str::parse), parts.next().map(str::parse)) {
                groups.insert(g, t);
            }
        } else if let Some(Ok(g)) = line.strip_prefix('-').map(str::parse::<i32>) {
            groups.remove(&g);
        }
    }
    let list: Vec<(i32, u64)> = groups.into_iter().collect();
    end_groups(&list);
    // Then whatever left the groups (in the run's cgroup), and its TMPDIR.
    for line in &scope {
        crate::scope::end_reported(line);
    }
    0
}

/// TERM, up to a second's grace, then KILL, for each group that still exists
/// and is still ours. Returns how many were signalled.
fn end_groups(groups: &[(i32, u64)]) -> usize {
    let ours: Vec<i32> = groups
        .iter()
        .filter(|&&(g, start)| g > 1 && group_exists(g) && start_time(g).is_none_or(|now| now == start || start == 0))
        .map(|&(g, _)| g)
        .collect();
    for &g in &ours {
        // SAFETY: kill(2) on a process group perfgate created.
        unsafe {
            libc::kill(-g, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline && ours.iter().any(|&g| group_exists(g)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &g in &ours {
        // SAFETY: as above.
        unsafe {
            libc::kill(-g, libc::SIGKILL);
        }
    }
    ours.len()
}

fn group_exists(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// A process's start time (field 22 of /proc/PID/stat), if it exists.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: skip past its last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_identify_processes() {
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some());
        assert_eq!(start_time(me), start_time(me));
        assert_eq!(start_time(i32::MAX), None);
    }
}
