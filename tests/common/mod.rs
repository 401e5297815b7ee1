//! Shared helpers for integration tests: real git repositories in temp dirs,
//! a small real Go module, and running the real perfgate binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        Repo::with_prefix(".tmp")
    }

    /// A repository whose path starts with `prefix` (e.g. one with a space).
    pub fn with_prefix(prefix: &str) -> Repo {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("tempdir");
        let r = Repo { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "perfgate-test"]);
        r.git(&["config", "user.email", "test@perfgate.local"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git").arg("-C").arg(self.path()).args(args).output().expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    pub fn perfgate(&self, args: &[&str]) -> Output {
        perfgate_cmd(self.path(), args).output().expect("run perfgate")
    }

    pub fn worktrees(&self) -> String {
        self.git(&["worktree", "list", "--porcelain"])
    }
}

/// The binary in `dir`. The noise probe before a compare's rounds (1.5 s)
/// is off: ~100 runs in the suite would spend minutes on it;
/// tests/init.rs and tests/doctor.rs run it.
pub fn perfgate_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1").env("PERFGATE_NOISE_PROBE", "0");
    cmd
}

pub fn text(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A Go module whose benchmark does `size` units of deterministic CPU work,
/// so a change of `size` is a known change of ns/op.
pub fn write_go_module(repo: &Repo, size: u64) {
    repo.write("go.mod", "module example.com/work\n\ngo 1.26\n");
    repo.write(
        "work.go",
        &format!(
            "package work\n\n// Work burns a fixed amount of CPU.\nfunc Work(n int) uint64 {{\n\tvar x uint64 = 1\n\tfor i := 0; i < n; i++ {{\n\t\tx = x*6364136223846793005 + 1442695040888963407\n\t}}\n\treturn x\n}}\n\nconst Size = {size}\n"
        ),
    );
    repo.write(
        "work_test.go",
        "package work\n\nimport \"testing\"\n\nvar sink uint64\n\nfunc BenchmarkWork(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\tsink = Work(Size)\n\t}\n}\n",
    );
}

pub fn read_results(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("results.json is JSON")
}

pub fn comparison<'a>(results: &'a serde_json::Value, benchmark: &str, metric: &str) -> &'a serde_json::Value {
    results["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["benchmark"].as_str().unwrap().starts_with(benchmark) && c["metric"] == metric)
        .unwrap_or_else(|| panic!("no comparison {benchmark} {metric} in {results:#}"))
}

pub fn out_dir(repo: &Repo, name: &str) -> PathBuf {
    repo.path().join("out").join(name)
}

/// A gobench scenario over the module of [`write_go_module`].
pub fn gobench_scenario(benchtime: &str) -> String {
    format!(
        "name = \"work\"\n\n[[scenario]]\nname = \"bench\"\nkind = \"gobench\"\nbench = \"Work\"\nbenchtime = \"{benchtime}\"\n"
    )
}

/// HEAD~1 does `Work(400000)` per op, HEAD 25% more: a known regression.
pub fn go_repo_with_slowdown(benchtime: &str) -> Repo {
    let repo = Repo::new();
    write_go_module(&repo, 400_000);
    repo.write("perf.toml", &gobench_scenario(benchtime));
    repo.commit_all("baseline");
    write_go_module(&repo, 500_000);
    repo.commit_all("slower");
    repo
}

/// Debian's Chromium, for rendering reports headless. CI installs it
/// (.ci/run) and must not skip; elsewhere a missing browser skips loudly.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].map(PathBuf::from))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium for the report tests: install Debian's `chromium` package (.ci/run does)"
        );
        eprintln!(
            "\n*** SKIPPED: Chromium not found (/usr/bin/chromium); install Debian's `chromium` package to render reports in a browser ***\n"
        );
    }
    found
}

/// What headless Chromium made of a page: the DOM after scripts ran, its
/// console/stderr output, and a screenshot (PNG) at `screenshot`.
pub struct Rendered {
    pub dom: String,
    pub log: String,
}

pub fn render_in_chromium(chromium: &Path, page: &Path, screenshot: &Path, height: u32) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let flags = |extra: &[String]| {
        let mut c = Command::new(chromium);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ]);
        c.arg(format!("--user-data-dir={}", profile.path().display()));
        c.args(extra);
        c.arg(&url);
        c.output().expect("run chromium")
    };
    let dump = flags(&["--dump-dom".into()]);
    assert!(dump.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&dump.stderr));
    let shot = flags(&[format!("--screenshot={}", screenshot.display()), format!("--window-size=1280,{height}")]);
    assert!(shot.status.success(), "chromium --screenshot failed: {}", String::from_utf8_lossy(&shot.stderr));
    Rendered {
        dom: String::from_utf8_lossy(&dump.stdout).into_owned(),
        log: format!("{}\n{}", String::from_utf8_lossy(&dump.stderr), String::from_utf8_lossy(&shot.stderr)),
    }
}

/// Pixels of a PNG within a small distance of `rgb`.
pub fn count_pixels_near(png_path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|px| px.len() >= 3 && (0..3).all(|i| (px[i] as i32 - rgb[i] as i32).abs() <= 12))
        .count()
}

/// The checks every rendered report must pass: the page's script ran to its
/// end, nothing was fetched from outside, no script error was logged.
pub fn assert_report_loads(html_path: &Path, rendered: &Rendered) {
    let html = std::fs::read_to_string(html_path).unwrap();
    for external in ["src=\"http", "href=\"http", "url(http", "src=\"//", "@import"] {
        assert!(!html.contains(external), "report.html refers to something outside itself ({external})");
    }
    assert!(rendered.dom.contains("data-ready=\"1\""), "the report's script did not run to its end:\n{}", rendered.log);
    for bad in ["Uncaught", "SyntaxError", "TypeError", "ReferenceError"] {
        assert!(!rendered.log.contains(bad), "script error in report.html ({bad}):\n{}", rendered.log);
    }
}

/// Fails unless the results.json at `path` validates against the committed
/// `schemas/results.schema.json`, listing every violation with its location.
pub fn assert_valid_results(path: &Path) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/results.schema.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&schema_path).unwrap_or_else(|e| panic!("read {}: {e}", schema_path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: not JSON: {e}", schema_path.display()));
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: not a usable JSON Schema: {e}", schema_path.display()));
    let results = read_results(path);
    let errors: Vec<String> =
        validator.iter_errors(&results).map(|e| format!("  at {:?}: {e}", e.instance_path().as_str())).collect();
    assert!(
        errors.is_empty(),
        "{} does not match {} ({} error(s)):\n{}\n(if the results model changed on purpose, regenerate the schema: \
         `just schemas`)",
        path.display(),
        schema_path.display(),
        errors.len(),
        errors.join("\n")
    );
}

/// Valgrind from Debian's package. CI installs it (.ci/run) and must not
/// skip; elsewhere a missing Valgrind skips loudly.
pub fn valgrind() -> bool {
    let found = Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Valgrind for the instruction-count tests: install Debian's `valgrind` package (.ci/run does)"
        );
        eprintln!("\n*** SKIPPED: Valgrind not found; install Debian's `valgrind` package to count instructions ***\n");
    }
    found
}

/// `go tool pprof -top` on each instruction profile of a run prints what
/// `perfgate profile top` prints, and `-diff_base` on the two variants'
/// what `perfgate profile diff` prints (the pprof oracle). Needs `go`: in
/// CI its absence fails, locally it skips loudly.
pub fn instruction_profiles_agree_with_go_tool_pprof(out: &Path, r: &serde_json::Value) {
    let have_go = Command::new("go").arg("version").output().is_ok_and(|o| o.status.success());
    if !have_go {
        assert!(std::env::var_os("CI").is_none(), "CI: `go` is required for the pprof oracle");
        eprintln!(
            "\n*** SKIPPED: `go` not found; the instruction profiles are not checked against go tool pprof ***\n"
        );
        return;
    }
    let pprof = |flags: &[&str], files: &[&Path]| {
        let o = Command::new("go").args(["tool", "pprof", "-top"]).args(flags).args(files).env("TZ", "UTC").output();
        let o = o.unwrap();
        assert!(o.status.success(), "go tool pprof: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    };
    let ours = |args: &[&str]| {
        let o = perfgate_cmd(out, args).output().unwrap();
        assert!(o.status.success(), "perfgate {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    };
    let mut files = Vec::new();
    for p in r["profiles"].as_array().unwrap().iter().filter(|p| p["kind"] == "instructions") {
        let file = out.join(p["path"].as_str().unwrap());
        let f = file.to_str().unwrap();
        assert_eq!(ours(&["profile", "top", f, "--n", "10"]), pprof(&["-nodecount=10"], &[&file]), "top {f}");
        files.push((p["variant"].as_str().unwrap().to_string(), file));
    }
    let base = files.iter().find(|(v, _)| v == "baseline").map(|(_, f)| f.clone()).expect("a baseline profile");
    let new = files.iter().find(|(v, _)| v == "candidate").map(|(_, f)| f.clone()).expect("a candidate profile");
    let (b, n) = (base.to_str().unwrap(), new.to_str().unwrap());
    assert_eq!(
        ours(&["profile", "diff", b, n, "--n", "10"]),
        pprof(&["-nodecount=10", "-diff_base", b], &[&new]),
        "diff {b} {n}"
    );
}

/// `perfgate validate perf.toml` refuses `head` + each case's body: exit 2,
/// the case's message, located at `at` (`perf.toml:` at least).
pub fn assert_refused(repo: &Repo, head: &str, cases: &[(&str, &str)], at: &str) {
    for (body, want) in cases {
        repo.write("perf.toml", &format!("{head}{body}"));
        let o = repo.perfgate(&["validate", "perf.toml"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{body}: {}", text(&o));
        assert!(err.contains(want) && err.contains(at), "{body}: {err}");
    }
}

/// With `PERFGATE_VALGRIND` pointing nowhere, `perfgate ARGS` in `repo` is
/// exit 2 saying how to install Valgrind.
pub fn assert_missing_valgrind_is_exit_2(repo: &Repo, args: &[&str]) {
    let o = perfgate_cmd(repo.path(), args).env("PERFGATE_VALGRIND", "/nonexistent/valgrind").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("apt-get install valgrind"), "{}", text(&o));
}

/// Copies the files git tracks under `rel` (in this repository) into `repo`.
pub fn copy_tracked(repo: &Repo, rel: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("git").arg("-C").arg(root).args(["ls-files", "-z", rel]).output().unwrap();
    assert!(out.status.success());
    let files: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().split('\0').filter(|f| !f.is_empty()).collect();
    assert!(!files.is_empty(), "no tracked files under {rel}");
    for f in files {
        let to = repo.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), &to).unwrap();
    }
}
