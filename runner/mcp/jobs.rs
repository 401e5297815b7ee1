//! Runs the MCP server started: each is `perfgate compare` as a child
//! process (the CLI's own stages, lock, Ctrl-C handling and cleanup), with
//! its live state in a status file and its output in a log. One at a time
//! per server (and per repository: the child takes the CLI's lock). The
//! child gets SIGTERM if the server dies, so a killed client leaves nothing
//! running.

use crate::execute::status::{self, Status};
use std::collections::VecDeque;
use std::io::{BufRead, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cancelled run may take to write its partial results before
/// it is asked again, then killed.
const CANCEL_GRACE: Duration = Duration::from_secs(30);
/// Log lines kept for a failed run's message.
const TAIL_LINES: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Exit 0 or 1: results written; 1 means a regression or failed threshold.
    Done(i32),
    /// Exit 130 (Ctrl-C, cancel_run): the rounds measured so far are written.
    Cancelled,
    /// Exit 2 or 3, or killed: what the log said last.
    Failed { code: Option<i32>, message: String },
}

#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub pid: u32,
    pub args: Vec<String>,
    pub started: Instant,
    pub started_at: String,
    pub status_path: PathBuf,
    pub log_path: PathBuf,
    pub cancel_requested: bool,
    pub ended: Option<Ended>,
}

impl Job {
    /// The status file's last word (`None` before the child wrote one).
    pub fn status(&self) -> Option<Status> {
        status::read(&self.status_path)
    }

    pub fn out_dir(&self) -> Option<PathBuf> {
        self.status().map(|s| PathBuf::from(s.out_dir)).filter(|p| !p.as_os_str().is_empty())
    }
}

#[derive(Clone)]
pub struct Jobs {
    exe: PathBuf,
    cwd: PathBuf,
    dir: PathBuf,
    jobs: Arc<Mutex<Vec<Job>>>,
}

impl Jobs {
    /// `dir` holds the status files and logs of this server's runs.
    pub fn new(exe: PathBuf, cwd: PathBuf, dir: PathBuf) -> Jobs {
        Jobs { exe, cwd, dir, jobs: Arc::new(Mutex::new(Vec::new())) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run still going, if any.
    pub fn running(&self) -> Option<String> {
        self.lock().iter().find(|j| j.ended.is_none()).map(|j| j.id.clone())
    }

    /// Starts `perfgate compare ARGS --status-file …`; returns the run id.
    pub fn start(&self, args: Vec<String>) -> Result<String, String> {
        if let Some(id) = self.running() {
            return Err(format!(
                "run {id} is still going: one run at a time (poll run_status, or cancel_run it first)"
            ));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let id = format!("mcp-{}-{}", jiff::Zoned::now().strftime("%Y%m%d-%H%M%S"), self.lock().len() + 1);
        let status_path = self.dir.join(format!("{id}.status.json"));
        let log_path = self.dir.join(format!("{id}.log"));
        let _ = std::fs::remove_file(&status_path);
        let log = std::fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("compare").args(&args).arg("--status-file").arg(&status_path);
        cmd.current_dir(&self.cwd).stdin(Stdio::null()).stdout(log).stderr(log2);
        // The child's stderr is a file: no progress bar, story lines instead.
        cmd.env_remove("PERFGATE_FORCE_COLOR");
        let (tx, rx) = std::sync::mpsc::channel();
        let jobs = self.clone();
        let job_id = id.clone();
        let record_args = args.clone();
        // The spawning thread lives as long as the child: PDEATHSIG fires
        // when the thread that forked it ends, not only the process.
        std::thread::Builder::new()
            .name(format!("run {id}"))
            .spawn(move || {
                use std::os::unix::process::CommandExt;
                // SAFETY: prctl in the forked child before exec; async-signal-safe.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                        Ok(())
                    });
                }
                let mut child = match cmd.spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(format!("cannot start {}: {e}", jobs.exe.display())));
                        return;
                    }
                };
                jobs.lock().push(Job {
                    id: job_id.clone(),
                    pid: child.id(),
                    args: record_args,
                    started: Instant::now(),
                    started_at: jiff::Timestamp::now().to_string(),
                    status_path,
                    log_path: log_path.clone(),
                    cancel_requested: false,
                    ended: None,
                });
                let _ = tx.send(Ok(()));
                let exit = child.wait();
                let mut all = jobs.lock();
                if let Some(job) = all.iter_mut().find(|j| j.id == job_id) {
                    job.ended = Some(ended(exit, &log_path));
                }
            })
            .map_err(|e| format!("cannot start a thread for the run: {e}"))?;
        rx.recv().map_err(|_| "the run's thread ended before it started".to_string())??;
        Ok(id)
    }

    /// Asks the run to stop (SIGINT: it stops the trial, writes the rounds
    /// measured so far, exits 130); later asks again, then kills it.
    pub fn cancel(&self, id: &str) -> Result<(), String> {
        let pid = {
            let mut all = self.lock();
            let job = all.iter_mut().find(|j| j.id == id).ok_or_else(|| unknown(id))?;
            if job.ended.is_some() {
                return Ok(());
            }
            job.cancel_requested = true;
            job.pid
        };
        signal(pid, libc::SIGINT);
        let jobs = self.clone();
        let id = id.to_string();
        std::thread::spawn(move || {
            if !jobs.wait_ended(&id, CANCEL_GRACE) {
                signal(pid, libc::SIGINT); // a second Ctrl-C: the CLI kills its targets at once
                if !jobs.wait_ended(&id, Duration::from_secs(10)) {
                    signal(pid, libc::SIGKILL);
                }
            }
        });
        Ok(())
    }

    /// True once the run ended, waiting at most `timeout`.
    pub fn wait_ended(&self, id: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lock().iter().find(|j| j.id == id).is_none_or(|j| j.ended.is_some()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The client went away: cancel whatever runs and wait for it to write
    /// its partial results (bounded), so nothing outlives the server.
    pub fn shutdown(&self) {
        let running: Vec<String> = self.lock().iter().filter(|j| j.ended.is_none()).map(|j| j.id.clone()).collect();
        for id in running {
            crate::note!("perfgate mcp: the client left; cancelling run {id}");
            let _ = self.cancel(&id);
            self.wait_ended(&id, CANCEL_GRACE + Duration::from_secs(15));
        }
    }

    /// Calls `f` with the job, if there is one by that id.
    pub fn with<T>(&self, id: &str, f: impl FnOnce(&Job) -> T) -> Result<T, String> {
        self.lock().iter().find(|j| j.id == id).map(f).ok_or_else(|| unknown(id))
    }

    /// Every job's id, newest last.
    pub fn ids(&self) -> Vec<String> {
        self.lock().iter().map(|j| j.id.clone()).collect()
    }
}

fn unknown(id: &str) -> String {
    format!("no run {id:?} was started by this server (list_runs shows the runs; past runs are read by path)")
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

fn ended(exit: std::io::Result<std::process::ExitStatus>, log: &Path) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    match exit {
        Ok(s) => match s.code() {
            Some(c @ (0 | 1)) => Ended::Done(c),
            Some(130) => Ended::Cancelled,
            code => {
                let why = match (code, s.signal()) {
                    (_, Some(sig)) => format!("killed by signal {sig}"),
                    (Some(c), None) => format!("exit {c}"),
                    (None, None) => "ended".into(),
                };
                Ended::Failed { code, message: format!("{why}: {}", tail(log).join("\n")) }
            }
        },
        Err(e) => Ended::Failed { code: None, message: format!("cannot wait for the run: {e}") },
    }
}

/// The last lines of the run's log (errors come last), bounded whatever the log holds.
pub fn tail(log: &Path) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(log) else { return Vec::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(std::io::SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut lines: VecDeque<String> = VecDeque::new();
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        if line.trim().is_empty() {
            continue;
        }
        lines.push_back(line.chars().take(500).collect());
        if lines.len() > TAIL_LINES {
            lines.pop_front();
        }
    }
    lines.into()
}
