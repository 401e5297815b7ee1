//! The programs perfgate runs: each looked up as perfgate itself looks it
//! up, with its version, or with how to install it.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A version query taking longer than this counts as not working.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: String,
    /// The first line of its version output; null when missing or broken.
    pub version: Option<String>,
    pub path: Option<String>,
    /// The scenario files given (or perf.toml) need it.
    pub required: bool,
    /// What perfgate uses it for.
    pub needed_for: String,
    /// How to install it.
    pub install: String,
    /// Why it is missing or broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Tool {
    /// Not looked up yet.
    fn new(name: &str, required: bool, needed_for: &str, install: &str) -> Tool {
        Tool {
            name: name.into(),
            version: None,
            path: None,
            required,
            needed_for: needed_for.into(),
            install: install.into(),
            error: None,
        }
    }
}

impl Tool {
    /// With what perfgate's own lookup found: (version, path), or why not.
    fn located(mut self, found: Result<(String, PathBuf), String>) -> Tool {
        match found {
            Ok((version, path)) => {
                self.version = Some(version);
                self.path = Some(path.display().to_string());
            }
            Err(e) => self.error = Some(e),
        }
        self
    }
}

/// Which tools the scenario files need.
#[derive(Debug, Default, Clone)]
pub struct Needs {
    pub go: bool,
    pub cargo: bool,
    pub valgrind: bool,
    pub postgres: bool,
}

impl Needs {
    /// From parsed scenario files.
    pub fn of(files: &[crate::config::ScenarioFile]) -> Needs {
        use crate::config::{Measure, ScenarioKind as K};
        let mut n = Needs::default();
        for f in files {
            if let Some(t) = &f.target {
                let cmds = [t.build.as_deref(), t.start.as_deref()];
                n.go |= cmds.iter().flatten().any(|c| c.split_whitespace().any(|w| w == "go"));
                n.cargo |= cmds.iter().flatten().any(|c| c.split_whitespace().any(|w| w == "cargo"));
                n.postgres |= t.postgres.as_ref().is_some_and(|p| p.url.is_none());
            }
            for s in &f.scenarios {
                match &s.kind {
                    K::GoBench(g) => {
                        n.go = true;
                        n.valgrind |= g.measure.has(Measure::Instructions);
                    }
                    K::CargoBench(c) => {
                        n.cargo = true;
                        n.valgrind |= c.measure.has(Measure::Instructions);
                    }
                    K::Command(c) => n.valgrind |= c.measure.has(Measure::Instructions),
                    _ => {}
                }
            }
        }
        n
    }
}

/// Looks every tool up.
pub fn check(needs: &Needs) -> Vec<Tool> {
    let mut tools = vec![
        simple(
            "git",
            &["--version"],
            true,
            "checking out baseline and candidate",
            "Debian/Ubuntu: apt-get install git",
        ),
        simple(
            "go",
            &["version"],
            needs.go,
            "Go benchmarks (gobench) and Go services",
            "https://go.dev/dl/ (Go ≥ 1.22), or Debian/Ubuntu: apt-get install golang-go",
        ),
        simple(
            "cargo",
            &["--version"],
            needs.cargo,
            "criterion benches (cargobench)",
            "https://rustup.rs (curl --proto '=https' -sSf https://sh.rustup.rs | sh)",
        ),
    ];
    tools.push(valgrind(needs.valgrind));
    tools.push(postgres(needs.postgres));
    tools.push(chromium());
    tools
}

fn simple(name: &str, args: &[&str], required: bool, needed_for: &str, install: &str) -> Tool {
    let mut tool = Tool::new(name, required, needed_for, install);
    match on_path(name) {
        None => tool.error = Some(format!("{name} is not on PATH")),
        Some(path) => {
            match version(&path, args) {
                Ok(v) => tool.version = Some(v),
                Err(e) => tool.error = Some(e),
            }
            tool.path = Some(path.display().to_string());
        }
    }
    tool
}

fn valgrind(required: bool) -> Tool {
    let tool = Tool::new(
        "valgrind",
        required,
        "measure = \"instructions\" (counts that repeat to 0.01%)",
        crate::workload::valgrind::INSTALL,
    );
    tool.located(crate::workload::valgrind::locate().map(|v| (v.version, v.path)))
}

fn postgres(required: bool) -> Tool {
    let tool = Tool::new(
        "postgresql",
        required,
        "[target.postgres]: a throwaway cluster per variant",
        crate::target::postgres::INSTALL,
    );
    tool.located(crate::target::postgres::locate().map(|pg| (pg.version, pg.dir)))
}

/// Chromium renders report.html in perfgate's own tests (not needed for runs).
fn chromium() -> Tool {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|n| on_path(n));
    let mut tool = Tool::new(
        "chromium",
        false,
        "perfgate's own report tests (rendering report.html)",
        "Debian: apt-get install chromium",
    );
    match found {
        None => tool.error = Some("chromium is not on PATH".into()),
        Some(path) => {
            match version(&path, &["--version"]) {
                Ok(v) => tool.version = Some(v),
                Err(e) => tool.error = Some(e),
            }
            tool.path = Some(path.display().to_string());
        }
    }
    tool
}

pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first line of `path args…`'s output, within `VERSION_TIMEOUT`.
fn version(path: &Path, args: &[&str]) -> Result<String, String> {
    let expr = duct::cmd(path, args).stdout_capture().stderr_capture().unchecked();
    let handle = expr.start().map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let started = std::time::Instant::now();
    loop {
        match handle.try_wait() {
            Ok(Some(out)) => {
                let text = if out.stdout.is_empty() { &out.stderr } else { &out.stdout };
                let line = String::from_utf8_lossy(text).lines().next().unwrap_or("").trim().to_string();
                if !out.status.success() || line.is_empty() {
                    return Err(format!("{} {} failed ({})", path.display(), args.join(" "), out.status));
                }
                return Ok(line);
            }
            Ok(None) if started.elapsed() > VERSION_TIMEOUT => {
                let _ = handle.kill();
                return Err(format!("{} {} did not answer in {VERSION_TIMEOUT:?}", path.display(), args.join(" ")));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
}
