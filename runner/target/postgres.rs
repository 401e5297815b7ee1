//! A throwaway PostgreSQL cluster (issue 15, item 1): `initdb` into a
//! directory of its own, the server started as perfgate's child (its own
//! process group, in the run's cgroup, so Ctrl-C, `kill -9` and the
//! watchdog end it like any target), listening on a Unix socket only, with
//! `pg_stat_statements` preloaded. Set-up runs once into a template
//! database; every round gets a fresh copy of it (`CREATE DATABASE …
//! TEMPLATE`, a file copy: cheap), so rounds start equal. Stopped (fast
//! shutdown) and its directory removed when dropped.
//!
//! PostgreSQL refuses to run as root: run as root, perfgate runs `initdb`
//! and the server as the `postgres` user (Debian's package creates it), or
//! `nobody`, and the cluster's directory belongs to that user.

use crate::process::{self, GroupChild};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How to install PostgreSQL, for the error when it is missing.
pub const INSTALL: &str = "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server postgresql-contrib`), or set PERFGATE_PG_BINDIR to the directory with initdb and postgres";

/// The template every round's database is copied from.
pub const TEMPLATE_DB: &str = "perfgate_template";
/// The database a round runs against.
pub const ROUND_DB: &str = "perfgate";
/// perfgate's own database in a managed cluster: statistics are read
/// through it, so that reading them counts in no database measured.
pub const STATS_DB: &str = "perfgate_stats";

/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// PostgreSQL's programs, found.
#[derive(Debug, Clone)]
pub struct PgBin {
    pub dir: PathBuf,
    /// `postgres --version`, e.g. "postgres (PostgreSQL) 15.10".
    pub version: String,
}

impl PgBin {
    fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Finds PostgreSQL: `PERFGATE_PG_BINDIR`, else `initdb` on PATH (its real
/// directory), else Debian's `/usr/lib/postgresql/<newest>/bin`.
pub fn locate() -> Result<PgBin, String> {
    let dir = if let Some(d) = std::env::var_os("PERFGATE_PG_BINDIR") {
        PathBuf::from(d)
    } else if let Some(initdb) = on_path("initdb") {
        std::fs::canonicalize(&initdb).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default()
    } else {
        newest_debian_bindir()
            .ok_or_else(|| format!("a managed PostgreSQL needs initdb, which is not installed: {INSTALL}"))?
    };
    locate_in(&dir)
}

/// PostgreSQL's programs in `dir`, checked.
pub fn locate_in(dir: &Path) -> Result<PgBin, String> {
    let dir = dir.to_path_buf();
    for name in ["initdb", "postgres", "psql", "pg_isready"] {
        if !dir.join(name).is_file() {
            return Err(format!("{} has no {name}: {INSTALL}", dir.display()));
        }
    }
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}; {INSTALL}", dir.join("postgres").display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !version.contains("PostgreSQL") {
        return Err(format!("{} is not a working PostgreSQL ({version:?}); {INSTALL}", dir.display()));
    }
    Ok(PgBin { dir, version })
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())
}

fn newest_debian_bindir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The user the server runs as: ours, unless we are root.
#[derive(Debug, Clone)]
struct RunAs {
    /// `None`: this process's own user.
    user: Option<(String, u32, u32)>,
}

impl RunAs {
    fn pick() -> Result<RunAs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(RunAs { user: None });
        }
        for name in ["postgres", "nobody"] {
            if let Some((uid, gid)) = lookup_user(name) {
                return Ok(RunAs { user: Some((name.to_string(), uid, gid)) });
            }
        }
        Err("PostgreSQL refuses to run as root, and there is no `postgres` or `nobody` user to run it as".into())
    }

    /// `program args…` as this user (`setpriv` when root).
    fn command(&self, program: &Path, args: &[String]) -> Command {
        match &self.user {
            None => {
                let mut c = Command::new(program);
                c.args(args);
                c
            }
            Some((_, uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.args([format!("--reuid={uid}"), format!("--regid={gid}"), "--clear-groups".into(), "--".into()]);
                c.arg(program).args(args);
                c
            }
        }
    }

    fn name(&self) -> String {
        match &self.user {
            Some((name, ..)) => name.clone(),
            None => std::env::var("USER").unwrap_or_else(|_| "postgres".into()),
        }
    }

    /// Gives `path` to this user (a no-op when it is ours).
    fn own(&self, path: &Path) -> Result<(), String> {
        let Some((_, uid, gid)) = &self.user else { return Ok(()) };
        std::os::unix::fs::chown(path, Some(*uid), Some(*gid)).map_err(|e| format!("chown {}: {e}", path.display()))
    }
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Cluster {
    bin: PgBin,
    run_as: RunAs,
    /// Everything of the cluster: `data/`, the socket, logs.
    base: PathBuf,
    server: Option<GroupChild>,
    port: u16,
}

impl Cluster {
    /// `initdb` into `base` (created; must not exist) and starts the server
    /// with `settings` (`name = value`, passed as `-c`) and `preload`
    /// (`shared_preload_libraries`).
    pub fn start(bin: &PgBin, base: &Path, settings: &[(String, String)], preload: &[&str]) -> Result<Cluster, String> {
        let run_as = RunAs::pick()?;
        std::fs::create_dir(base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        let mut cluster = Cluster { bin: bin.clone(), run_as, base: base.to_path_buf(), server: None, port: 5432 };
        cluster.run_as.own(base)?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o700));
        let data = base.join("data");
        let args = vec![
            "-D".to_string(),
            data.display().to_string(),
            "--auth=trust".into(),
            "--no-sync".into(),
            "--encoding=UTF8".into(),
            "--locale=C".into(),
            format!("--username={}", cluster.run_as.name()),
        ];
        cluster.run_logged(&bin.program("initdb"), &args, "initdb", Duration::from_secs(120))?;
        cluster.port = free_port()?;
        let mut args = vec![
            "-D".to_string(),
            data.display().to_string(),
            "-k".into(),
            base.display().to_string(),
            "-p".into(),
            cluster.port.to_string(),
            "-c".into(),
            "listen_addresses=".into(),
            "-c".into(),
            "fsync=off".into(),
        ];
        if !preload.is_empty() {
            args.extend(["-c".into(), format!("shared_preload_libraries={}", preload.join(","))]);
        }
        for (k, v) in settings {
            args.extend(["-c".into(), format!("{k}={v}")]);
        }
        let cmd = cluster.run_as.command(&bin.program("postgres"), &args);
        let log = base.join("server.log");
        cluster.server = process::spawn(cmd, base, &[], &log).map_err(|e| e.to_string())?;
        if cluster.server.is_none() {
            return Err("interrupted".into());
        }
        cluster.wait_ready(&log)?;
        Ok(cluster)
    }

    /// The URL of database `db`, over the Unix socket.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql:///{db}?host={}&port={}&user={}", self.base.display(), self.port, self.run_as.name())
    }

    pub fn version(&self) -> &str {
        &self.bin.version
    }

    /// Runs `sql` in database `db` with psql (stop at the first error); its output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let args = vec![
            "-X".to_string(),
            "-q".into(),
            "-A".into(),
            "-t".into(),
            "-v".into(),
            "ON_ERROR_STOP=1".into(),
            "-d".into(),
            self.url(db),
            "-c".into(),
            sql.to_string(),
        ];
        let out = self
            .run_as
            .command(&self.bin.program("psql"), &args)
            .current_dir(&self.base)
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Creates the template database (set-up then fills it through
    /// [`Cluster::url`] of [`TEMPLATE_DB`]).
    pub fn create_template(&self) -> Result<(), String> {
        self.psql("postgres", &format!("CREATE DATABASE {TEMPLATE_DB}"))?;
        Ok(())
    }

    /// A fresh [`ROUND_DB`], copied from the template: what set-up left,
    /// nothing a previous round did.
    pub fn fresh_round_db(&self) -> Result<String, String> {
        self.fresh_db(ROUND_DB)
    }

    /// A fresh database `name` (a plain identifier), copied from the template.
    pub fn fresh_db(&self, name: &str) -> Result<String, String> {
        self.psql("postgres", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        self.psql("postgres", &format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))?;
        Ok(self.url(name))
    }

    /// The server's log (its stderr): where auto_explain writes plans.
    pub fn server_log(&self) -> PathBuf {
        process::stderr_path(&self.base.join("server.log"))
    }

    /// A fresh database `name` whose sessions log every statement's plan
    /// with EXPLAIN ANALYZE's figures and buffers, as JSON (auto_explain,
    /// loaded per session: only the profiling pass pays for it).
    pub fn fresh_explained_db(&self, name: &str) -> Result<String, String> {
        let url = self.fresh_db(name)?;
        for (k, v) in [
            ("session_preload_libraries", "auto_explain"),
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_buffers", "on"),
            ("auto_explain.log_format", "json"),
        ] {
            self.psql("postgres", &format!("ALTER DATABASE {name} SET {k} = '{v}'"))?;
        }
        Ok(url)
    }

    fn run_logged(&self, program: &Path, args: &[String], what: &str, timeout: Duration) -> Result<(), String> {
        let log = self.base.join(format!("{what}.log"));
        let cmd = self.run_as.command(program, args);
        let child = process::spawn(cmd, &self.base, &[], &log).map_err(|e| e.to_string())?;
        let Some(child) = child else { return Err("interrupted".into()) };
        let finished = child.wait(Some(timeout)).map_err(|e| e.to_string())?;
        if !finished.success() {
            return Err(format!(
                "{what} failed ({}):\n{}",
                finished.describe(Some(timeout)),
                process::failure_tail(&log, 20)
            ));
        }
        Ok(())
    }

    fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let start = Instant::now();
        let args =
            vec!["-q".to_string(), "-h".into(), self.base.display().to_string(), "-p".into(), self.port.to_string()];
        loop {
            if let Some(server) = self.server.as_mut()
                && let Some(status) = server.try_wait()
            {
                return Err(format!(
                    "PostgreSQL exited before it accepted connections ({status}):\n{}",
                    process::failure_tail(&process::stderr_path(log), 20)
                ));
            }
            let ok =
                self.run_as.command(&self.bin.program("pg_isready"), &args).output().is_ok_and(|o| o.status.success());
            if ok {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(format!("PostgreSQL did not accept connections within {}s", READY_TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown: SIGTERM to its group, then SIGKILL)
    /// and removes the cluster's directory.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.terminate(Duration::from_secs(10));
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on now (the server listens on a socket file
/// named by it, not on TCP).
fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A managed database's set-up: the command (`{build}` and `{checkout}`
/// already substituted), run in `dir` with `env`, its output in `log`.
pub struct SetUp<'a> {
    pub setup: Option<&'a str>,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub log: &'a Path,
}

/// The database of one variant: a managed cluster, or the user's own.
#[derive(Debug)]
pub enum Database {
    Managed(Box<Cluster>),
    /// `[target.postgres] url`: used as it is.
    External(String),
}

impl Database {
    /// Makes a managed database ready: a cluster of `bin` in `base`, its
    /// template, and `steps`' set-up run once with `{pg_url}` and
    /// `$DATABASE_URL` of the template.
    pub fn managed(
        bin: &PgBin,
        cfg: &crate::config::PostgresTarget,
        base: &Path,
        steps: &SetUp<'_>,
    ) -> Result<Database, String> {
        let settings: Vec<(String, String)> = cfg.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let cluster = Cluster::start(bin, base, &settings, &["pg_stat_statements"])?;
        cluster.create_template()?;
        cluster.psql(TEMPLATE_DB, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        cluster.psql("postgres", &format!("CREATE DATABASE {STATS_DB}"))?;
        cluster.psql(STATS_DB, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        if let Some(setup) = steps.setup {
            let url = cluster.url(TEMPLATE_DB);
            let shell = setup.replace("{pg_url}", &crate::workload::shell_quote(&url));
            let mut env = steps.env.to_vec();
            env.push(("DATABASE_URL".into(), url));
            let log = steps.log;
            let spec = process::Spec {
                shell: &shell,
                cwd: steps.dir,
                env: &env,
                log,
                timeout: Some(Duration::from_secs(1800)),
            };
            let finished = process::run_shell(&spec).map_err(|e| e.to_string())?;
            if finished.interrupted {
                return Err("interrupted".into());
            }
            if !finished.success() {
                return Err(format!(
                    "[target.postgres] setup failed ({}):\n  $ {shell}\n{}\n(full log: {})",
                    finished.describe(None),
                    process::failure_tail(log, 20),
                    log.display()
                ));
            }
        }
        Ok(Database::Managed(Box::new(cluster)))
    }

    /// The URL a round (or a command's trial) runs against: a fresh copy of
    /// the template named `name` for a managed database, the user's URL
    /// otherwise.
    pub fn round_url(&self, name: &str) -> Result<String, String> {
        match self {
            Database::External(url) => Ok(url.clone()),
            Database::Managed(c) => c.fresh_db(name),
        }
    }

    /// Where the statistics of database `round_db` (a managed round's,
    /// see [`db_name`]) are read: the external database's own.
    pub fn stats_source(&self, round_db: &str) -> crate::target::pgstats::StatsSource {
        match self {
            Database::External(url) => {
                crate::target::pgstats::StatsSource { url: url.clone(), database: String::new() }
            }
            Database::Managed(c) => {
                crate::target::pgstats::StatsSource { url: c.url(STATS_DB), database: round_db.to_string() }
            }
        }
    }

    /// The managed cluster, if this is one.
    pub fn cluster(&self) -> Option<&Cluster> {
        match self {
            Database::Managed(c) => Some(c),
            Database::External(_) => None,
        }
    }

    /// What the run records: the server's version and kind.
    pub fn describe(&self) -> String {
        match self {
            Database::External(_) => "external PostgreSQL ([target.postgres] url)".into(),
            Database::Managed(c) => {
                // "postgres (PostgreSQL) 15.18 (Debian …)" → "PostgreSQL 15.18".
                let v = c.version();
                let number = v.split("(PostgreSQL)").nth(1).and_then(|r| r.split_whitespace().next());
                format!("managed PostgreSQL {}", number.unwrap_or(v))
            }
        }
    }
}

/// A database name from a scenario's name: lower-case letters, digits and
/// `_`, at most 40 characters, prefixed `perfgate_`.
pub fn db_name(scenario: &str) -> String {
    let mut s: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(40)
        .collect();
    if s.is_empty() {
        s.push('x');
    }
    format!("perfgate_{s}")
}
