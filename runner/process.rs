//! Child processes: every build, benchmark and command runs in its own process
//! group, registered here, so a timeout or Ctrl-C can end the whole tree and
//! leave no orphans. Waiting uses `wait4` to get the tree's CPU time and peak
//! RSS from the kernel without polling.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// True once SIGINT/SIGTERM arrived; the run stops scheduling new trials.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Installs the SIGINT/SIGTERM handler: mark the run interrupted and end every
/// registered process group (TERM, then KILL after a short grace period), so
/// the main thread's `wait4` returns promptly and results can be written.
pub fn install_interrupt_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    // A child inheriting an ignored SIGCHLD would be reaped by the kernel and
    // wait4 would fail; make sure the default disposition is in place.
    // SAFETY: resetting a signal disposition to its default.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT]) else {
        return;
    };
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                // Second signal: the user wants out now.
                kill_all(libc::SIGKILL);
                std::process::exit(130);
            }
            // Kill first: a closed stderr (e.g. `| head`) must not stop the cleanup.
            kill_all(libc::SIGTERM);
            let _ = writeln!(
                std::io::stderr(),
                "\ninterrupted: stopping the running trial and writing the rounds measured so far (again to quit at once)"
            );
            std::thread::sleep(Duration::from_millis(1500));
            kill_all(libc::SIGKILL);
        }
    });
}

fn kill_all(signal: i32) {
    let groups: Vec<i32> = GROUPS.lock().map(|g| g.iter().copied().collect()).unwrap_or_default();
    for pgid in groups {
        // SAFETY: kill(2) with a negative pid signals a process group we created.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// Resource use of a finished process tree, from `wait4`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub wall: Duration,
    pub user: Duration,
    pub system: Duration,
    /// Peak resident set of the largest process in the tree (kernel `ru_maxrss`).
    pub max_rss_bytes: u64,
}

#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub usage: Usage,
    pub timed_out: bool,
    pub interrupted: bool,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success() && !self.timed_out && !self.interrupted
    }

    /// "exit status 2", "killed by signal 9", "timed out after 5s" ...
    pub fn describe(&self, timeout: Option<Duration>) -> String {
        if self.interrupted {
            return "interrupted".into();
        }
        if self.timed_out {
            return match timeout {
                Some(t) => format!("timed out after {}", humantime(t)),
                None => "timed out".into(),
            };
        }
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "ended abnormally".into(),
        }
    }
}

pub fn humantime(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 { format!("{s:.3}s").replace(".000s", "s") } else { format!("{:.0}ms", s * 1e3) }
}

/// How to run one shell command.
pub struct Spec<'a> {
    pub shell: &'a str,
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
    /// Where stdout goes; stderr goes to [`stderr_path`] of it.
    pub log: &'a Path,
    pub timeout: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot create log file {path}: {source}")]
    Log { path: String, source: std::io::Error },
    #[error("lost track of `{command}`: {source}")]
    Wait { command: String, source: std::io::Error },
    #[error("cannot start `{command}` in {cwd}: {source}")]
    Spawn { command: String, cwd: String, source: std::io::Error },
}

/// Runs `sh -c <shell>` in a new process group and waits for it with `wait4`.
/// The command string is the user's own (from their scenario file); git
/// revisions never go through here.
pub fn run_shell(spec: &Spec<'_>) -> Result<Finished, SpawnError> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(spec.shell);
    run(cmd, spec.cwd, spec.env, spec.log, spec.timeout)
}

/// Runs a program (no shell) in a new process group; see [`run_shell`].
pub fn run_program(
    program: &Path,
    args: &[String],
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
) -> Result<Finished, SpawnError> {
    run_program_without(program, args, &[], cwd, env, log, timeout)
}

/// [`run_program`] without the named variables of perfgate's own
/// environment (the scenario's `env` may still set them).
pub fn run_program_without(
    program: &Path,
    args: &[String],
    remove: &[&str],
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
) -> Result<Finished, SpawnError> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for k in remove {
        cmd.env_remove(k);
    }
    run(cmd, cwd, env, log, timeout)
}

fn run(
    cmd: Command,
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
) -> Result<Finished, SpawnError> {
    match spawn(cmd, cwd, env, log)? {
        Some(child) => child.wait(timeout),
        None => Ok(Finished {
            status: ExitStatus::from_raw(130 << 8),
            usage: Usage { wall: Duration::ZERO, user: Duration::ZERO, system: Duration::ZERO, max_rss_bytes: 0 },
            timed_out: false,
            interrupted: true,
        }),
    }
}

/// A running process group started by [`spawn`]: its leader's pid is the
/// group id. Registered for Ctrl-C until it is waited for or terminated.
#[derive(Debug)]
pub struct GroupChild {
    pub pid: i32,
    describe: String,
    started: Instant,
    reaped: Option<(libc::c_int, libc::rusage)>,
    finished: bool,
}

/// Starts `cmd` in a new process group with stdout to `log` and stderr next
/// to it. `None` when the run was interrupted before the start.
pub fn spawn(
    mut cmd: Command,
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
) -> Result<Option<GroupChild>, SpawnError> {
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let create =
        |path: &Path| File::create(path).map_err(|source| SpawnError::Log { path: path.display().to_string(), source });
    let out = create(log)?;
    let err = create(&stderr_path(log))?;
    // The run's TMPDIR first, so a scenario's own `env` can still set one.
    if let Some(tmp) = crate::scope::tmp_dir() {
        cmd.env("TMPDIR", tmp);
    }
    cmd.current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    // Safety net if perfgate itself is killed with SIGKILL: the group leader
    // dies with it (and the leader's death ends a well-behaved tree); the
    // tree joins the run's cgroup, which the watchdog ends (crate::scope).
    let cgroup = crate::scope::cgroup_procs_fd();
    // SAFETY: prctl and write are async-signal-safe; runs in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            crate::scope::join_in_child(cgroup);
            Ok(())
        });
    }
    let describe = format!("{cmd:?}");
    // Hold the registry lock across spawn so an interrupt cannot slip between
    // the child starting and its group being registered.
    let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    if interrupted() {
        return Ok(None);
    }
    let started = Instant::now();
    let child = cmd.spawn().map_err(|source| SpawnError::Spawn {
        command: describe.clone(),
        cwd: cwd.display().to_string(),
        source,
    })?;
    let pid = child.id() as i32;
    groups.insert(pid);
    crate::watchdog::track(pid);
    Ok(Some(GroupChild { pid, describe, started, reaped: None, finished: false }))
}

impl GroupChild {
    /// Waits for the leader to exit (ending the group after a timeout), then
    /// kills whatever it left in its group.
    pub fn wait(mut self, timeout: Option<Duration>) -> Result<Finished, SpawnError> {
        let pid = self.pid;
        let timed_out = std::sync::Arc::new(AtomicBool::new(false));
        let (cancel, cancelled) = mpsc::channel::<()>();
        let watchdog = timeout.map(|limit| {
            let timed_out = timed_out.clone();
            std::thread::spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(limit) {
                    timed_out.store(true, Ordering::SeqCst);
                    // SAFETY: signals the process group created for this child.
                    unsafe {
                        libc::kill(-pid, libc::SIGTERM);
                    }
                    if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(Duration::from_secs(2)) {
                        unsafe {
                            libc::kill(-pid, libc::SIGKILL);
                        }
                    }
                }
            })
        });
        let result = self.reap(0);
        let _ = cancel.send(());
        if let Some(w) = watchdog {
            let _ = w.join();
        }
        result?;
        Ok(self.finish(timed_out.load(Ordering::SeqCst)))
    }

    /// The leader's exit status if it has exited (without blocking).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            let _ = self.reap(libc::WNOHANG);
        }
        self.reaped.map(|(status, _)| ExitStatus::from_raw(status))
    }

    /// Stops the group: SIGTERM, up to `grace` for the leader to exit, then
    /// SIGKILL to the whole group.
    pub fn terminate(mut self, grace: Duration) -> Finished {
        if self.try_wait().is_none() {
            // SAFETY: signals the process group created for this child.
            unsafe {
                libc::kill(-self.pid, libc::SIGTERM);
            }
            let deadline = Instant::now() + grace;
            while self.try_wait().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.reaped.is_none() {
                unsafe {
                    libc::kill(-self.pid, libc::SIGKILL);
                }
                let _ = self.reap(0);
            }
        }
        self.finish(false)
    }

    fn reap(&mut self, flags: libc::c_int) -> Result<(), SpawnError> {
        if self.reaped.is_some() {
            return Ok(());
        }
        let mut status: libc::c_int = 0;
        // SAFETY: zeroed rusage is a valid out-parameter for wait4.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: waits for our own child; std's Child is never waited on.
            let r = unsafe { libc::wait4(self.pid, &mut status, flags, &mut rusage) };
            if r == self.pid {
                self.reaped = Some((status, rusage));
                return Ok(());
            }
            if r == 0 {
                return Ok(()); // WNOHANG: still running
            }
            let e = std::io::Error::last_os_error();
            if r == -1 && e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(SpawnError::Wait { command: self.describe.clone(), source: e });
        }
    }

    fn finish(&mut self, timed_out: bool) -> Finished {
        self.finished = true;
        let wall = self.started.elapsed();
        // The leader is gone; end any stragglers it left in its group (e.g. a
        // background server a benchmark forgot), then forget the group.
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
        }
        {
            let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
            groups.remove(&self.pid);
            crate::watchdog::untrack(self.pid);
            end_adopted(&groups);
        }
        let (status, rusage) = self.reaped.unwrap_or((0, unsafe { std::mem::zeroed() }));
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
        Finished {
            status: ExitStatus::from_raw(status),
            usage: Usage {
                wall,
                user: tv(rusage.ru_utime),
                system: tv(rusage.ru_stime),
                max_rss_bytes: (rusage.ru_maxrss as u64) * 1024,
            },
            timed_out,
            interrupted: interrupted(),
        }
    }
}

impl Drop for GroupChild {
    /// A group nobody waited for (an early return, a panic) must not outlive us.
    fn drop(&mut self) {
        if !self.finished {
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
            let _ = self.reap(0);
            let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
            groups.remove(&self.pid);
            crate::watchdog::untrack(self.pid);
            end_adopted(&groups);
        }
    }
}

/// perfgate is a child subreaper ([`crate::watchdog::become_subreaper`]): a
/// process that left its trial's group (`setsid`, a double-forked daemon)
/// comes back to perfgate as a child when its parent dies. Ends and reaps
/// every such child: a child in a group of its own that is not a
/// registered group leader (`groups`, locked by the caller so no leader
/// can be mid-registration) nor the watchdog. perfgate's own short-lived
/// helpers (git) stay in perfgate's group and are left alone.
fn end_adopted(groups: &BTreeSet<i32>) {
    let me = std::process::id() as i32;
    // SAFETY: getpgrp has no failure mode.
    let my_group = unsafe { libc::getpgrp() };
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let (Some(ppid), Some(pgrp)) =
            (fields.get(1).and_then(|f| f.parse::<i32>().ok()), fields.get(2).and_then(|f| f.parse::<i32>().ok()))
        else {
            continue;
        };
        if ppid != me || pgrp == my_group || groups.contains(&pid) || crate::watchdog::is_watchdog(pid) {
            continue;
        }
        // SAFETY: our own (adopted) child: kill, then reap it.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// Where the stderr of a process logging stdout to `log` goes:
/// `x.log` → `x.stderr.log`.
pub fn stderr_path(log: &Path) -> std::path::PathBuf {
    let stem = log.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    log.with_file_name(format!("{stem}.stderr.log"))
}

/// The last `n` lines a failed process wrote to stderr, or to stdout if its
/// stderr is empty: what a user needs to see to know why it failed.
pub fn failure_tail(log: &Path, n: usize) -> String {
    let err = tail(&stderr_path(log), n);
    if err.trim().is_empty() { tail(log, n) } else { err }
}

/// The last `n` lines of a log file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_cpu_and_rss_of_a_real_process() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        // Busy loop for ~0.3 s of CPU in a child of the shell: the tree's time counts.
        let spec = Spec {
            shell: "python3 -c 'import time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass\nx=bytearray(50_000_000)\nprint(\"done\")'",
            cwd: dir.path(),
            env: &[],
            log: &log,
            timeout: None,
        };
        let f = run_shell(&spec).unwrap();
        assert!(f.success(), "{}", tail(&log, 5));
        assert!(f.usage.user + f.usage.system >= Duration::from_millis(250), "{:?}", f.usage);
        assert!(f.usage.max_rss_bytes >= 50_000_000, "{:?}", f.usage);
        assert!(f.usage.wall >= Duration::from_millis(250));
        assert_eq!(tail(&log, 1), "done");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let spec = Spec {
            shell: "sleep 30 & sleep 30; echo never",
            cwd: dir.path(),
            env: &[],
            log: &log,
            timeout: Some(Duration::from_millis(300)),
        };
        let t = Instant::now();
        let f = run_shell(&spec).unwrap();
        assert!(f.timed_out);
        assert!(!f.success());
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(f.describe(Some(Duration::from_millis(300))).contains("timed out after 300ms"));
    }

    #[test]
    fn failure_status_is_described() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let spec = Spec { shell: "echo oops >&2; exit 3", cwd: dir.path(), env: &[], log: &log, timeout: None };
        let f = run_shell(&spec).unwrap();
        assert!(!f.success());
        assert_eq!(f.describe(None), "exit status 3");
        assert_eq!(failure_tail(&log, 3), "oops");
        assert_eq!(tail(&log, 3), "");
    }
}
