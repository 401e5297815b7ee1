//! Target lifecycle: start a service on a free port in its own process group,
//! wait until it answers its readiness probe, watch it while load runs, and
//! stop it (SIGTERM to the group, a grace period, then SIGKILL).

pub mod pgstats;
pub mod postgres;
pub mod sampler;

use crate::process::{self, GroupChild};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a stopping target may take to exit after SIGTERM.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// Readiness timeout when the scenario file does not set one.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// GET this URL until it answers with a 2xx status.
    Http(String),
    /// Connect to this host:port until it accepts.
    Tcp(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Http(u) => write!(f, "http probe {u}"),
            Probe::Tcp(a) => write!(f, "tcp probe {a}"),
        }
    }
}

/// A target ready to be started: commands with placeholders already filled,
/// except `{port}` which is chosen per start.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub start: String,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub probe: Option<Probe>,
    pub ready_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Spawn(#[from] process::SpawnError),
    #[error("cannot find a free port: {0}")]
    Port(std::io::Error),
    #[error("the target exited before it became ready ({status}):\n  $ {command}\n{tail}\n(full log: {log})")]
    ExitedEarly { status: String, command: String, tail: String, log: String },
    #[error(
        "the target never became ready: {probe} did not answer within {timeout}:\n  $ {command}\n{tail}\n(full log: {log})"
    )]
    NeverReady { probe: String, timeout: String, command: String, tail: String, log: String },
    #[error("interrupted")]
    Interrupted,
}

/// A started target.
#[derive(Debug)]
pub struct RunningTarget {
    pub port: u16,
    pub command: String,
    pub log: PathBuf,
    child: GroupChild,
}

/// A free loopback TCP port (bound, read, released). The small window before
/// the target binds it is why a start failure names the port and the log.
pub fn free_port() -> Result<u16, TargetError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(TargetError::Port)?;
    Ok(listener.local_addr().map_err(TargetError::Port)?.port())
}

/// Replaces `{port}` in a template.
pub fn with_port(template: &str, port: u16) -> String {
    template.replace("{port}", &port.to_string())
}

impl RunningTarget {
    /// Starts the target and waits for its probe (if any).
    pub fn start(spec: &TargetSpec, log: &Path) -> Result<RunningTarget, TargetError> {
        let port = free_port()?;
        let command = with_port(&spec.start, port);
        let mut env = spec.env.clone();
        env.push(("PORT".into(), port.to_string()));
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.arg("-c").arg(&command);
        let Some(child) = process::spawn(cmd, &spec.dir, &env, log)? else {
            return Err(TargetError::Interrupted);
        };
        let mut target = RunningTarget { port, command, log: log.to_path_buf(), child };
        if let Some(probe) = &spec.probe {
            let probe = match probe {
                Probe::Http(u) => Probe::Http(with_port(u, port)),
                Probe::Tcp(a) => Probe::Tcp(with_port(a, port)),
            };
            target.wait_ready(&probe, spec.ready_timeout)?;
        }
        Ok(target)
    }

    fn wait_ready(&mut self, probe: &Probe, timeout: Duration) -> Result<(), TargetError> {
        let deadline = Instant::now() + timeout;
        loop {
            if process::interrupted() {
                return Err(TargetError::Interrupted);
            }
            if let Some(status) = self.child.try_wait() {
                return Err(TargetError::ExitedEarly {
                    status: describe_status(status),
                    command: self.command.clone(),
                    tail: process::failure_tail(&self.log, 15),
                    log: self.log.display().to_string(),
                });
            }
            if probe_once(probe, Duration::from_millis(500)) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TargetError::NeverReady {
                    probe: probe.to_string(),
                    timeout: process::humantime(timeout),
                    command: self.command.clone(),
                    tail: process::failure_tail(&self.log, 15),
                    log: self.log.display().to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The target's process-group leader, for the resource sampler.
    pub fn pid(&self) -> i32 {
        self.child.pid
    }

    /// `None` while running; the exit description once it has exited.
    pub fn exited(&mut self) -> Option<String> {
        self.child.try_wait().map(describe_status)
    }

    /// The last lines the target wrote, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        process::failure_tail(&self.log, lines)
    }

    /// Stops the target's whole process group.
    pub fn stop(self) {
        let _ = self.child.terminate(STOP_GRACE);
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "ended abnormally".into(),
    }
}

/// One readiness check.
pub fn probe_once(probe: &Probe, timeout: Duration) -> bool {
    match probe {
        Probe::Tcp(addr) => resolve(addr).is_some_and(|a| TcpStream::connect_timeout(&a, timeout).is_ok()),
        // A target perfgate started runs on this machine: its probe stays on loopback.
        // The metrics scraper's GET: one minimal HTTP/1.1 client for the
        // harness's own requests. Ready means a 2xx answer.
        Probe::Http(url) => crate::workload::counters::scrape(url, timeout, false).is_ok(),
    }
}

/// The first address of `host:port`, if every address it resolves to is loopback.
fn resolve(addr: &str) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().ok()?.collect();
    if addrs.iter().any(|a| !crate::load::url::is_loopback_ip(a.ip())) {
        return None;
    }
    addrs.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(start: &str, probe: Option<Probe>, timeout: Duration) -> TargetSpec {
        TargetSpec { start: start.into(), dir: std::env::temp_dir(), env: Vec::new(), probe, ready_timeout: timeout }
    }

    #[test]
    fn starts_a_real_server_on_a_free_port_and_stops_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let s = spec(
            "python3 -m http.server {port} --bind 127.0.0.1",
            Some(Probe::Http("http://127.0.0.1:{port}/".into())),
            Duration::from_secs(20),
        );
        let mut t = RunningTarget::start(&s, &log).unwrap();
        assert!(t.exited().is_none());
        let body =
            crate::workload::counters::scrape(&format!("http://127.0.0.1:{}/", t.port), Duration::from_secs(2), false)
                .unwrap();
        assert!(body.contains("Directory listing"), "{body}");
        let pid = t.pid();
        t.stop();
        // The group is gone (its last members may take a moment to be reaped by init).
        let deadline = Instant::now() + Duration::from_secs(5);
        while unsafe { libc::kill(-pid, 0) } == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(unsafe { libc::kill(-pid, 0) }, -1);
    }

    #[test]
    fn a_target_that_exits_or_never_answers_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let s =
            spec("echo cannot bind >&2; exit 7", Some(Probe::Tcp("127.0.0.1:{port}".into())), Duration::from_secs(10));
        let err = RunningTarget::start(&s, &log).unwrap_err().to_string();
        assert!(err.contains("exited before it became ready (exit status 7)") && err.contains("cannot bind"), "{err}");

        let s =
            spec("echo starting; sleep 30", Some(Probe::Tcp("127.0.0.1:{port}".into())), Duration::from_millis(400));
        let t0 = Instant::now();
        let err = RunningTarget::start(&s, &log).unwrap_err().to_string();
        assert!(err.contains("never became ready: tcp probe 127.0.0.1:") && err.contains("starting"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
}
