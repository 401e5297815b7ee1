//! The commented `perf.toml` for what `detect` found. Every value that is a
//! guess says so on its line; what was found and not used is listed in
//! comments, so the user can see what `init` saw.

use super::detect::{Findings, GoModule, GoService, RustCrate};
use super::gosrc::{route_method, route_path};
use std::fmt::Write;

/// Go packages listed one by one up to this many; more become "./...".
const MAX_PACKAGES: usize = 12;

/// Flags that take a listen address, in the order they are preferred.
const ADDR_FLAGS: &[&str] = &["addr", "listen", "http", "http-addr", "http.addr", "listen-addr", "address", "bind"];
const PORT_FLAGS: &[&str] = &["port", "http-port", "p"];
const ADDR_ENV: &[&str] = &["ADDR", "HTTP_ADDR", "LISTEN_ADDR", "LISTEN_ADDRESS"];
const PORT_ENV: &[&str] = &["PORT", "HTTP_PORT"];
const HEALTH_PATHS: &[&str] = &["/healthz", "/health", "/readyz", "/ready", "/livez", "/ping", "/status"];

/// The file's text. `name`: the repository's name.
pub fn render(name: &str, found: &Findings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# perfgate scenario file, written by `perfgate init` from what it found here.");
    let _ = writeln!(out, "# Check it:    perfgate validate perf.toml");
    let _ = writeln!(out, "# Run it:      perfgate compare                    (HEAD vs your working tree)");
    let _ = writeln!(out, "#              perfgate compare --baseline v1.0 --candidate HEAD");
    let _ = writeln!(out, "# Lines marked GUESS are guesses: check them before you trust a number.");
    let _ = writeln!(out, "# Every field: the README's \"Scenario files\", or schemas/scenario.schema.json.");
    let _ = writeln!(out, "name = {}", quote(name));
    compare_section(&mut out);
    let service = found.go_modules.iter().find_map(|m| m.services.first().map(|s| (m, s)));
    if let Some((module, service)) = service {
        target_section(&mut out, module, service);
        for (m, other) in found.go_modules.iter().flat_map(|m| m.services.iter().map(move |s| (m, s))).skip(1) {
            let _ = writeln!(
                out,
                "# Also serves HTTP, not set up here (one [target] per file): {}",
                m.package_dir(&other.package)
            );
        }
    }
    let mut names = Names::default();
    for module in &found.go_modules {
        if !module.bench_packages.is_empty() {
            gobench_scenario(&mut out, module, &mut names);
        }
    }
    if let Some((_, service)) = service {
        http_scenario(&mut out, service, &mut names);
    }
    for krate in &found.crates {
        cargobench_scenario(&mut out, krate, &mut names);
    }
    out
}

/// The file for a repository with nothing `init` recognised: every
/// scenario commented out, one per common shape.
pub fn template(name: &str) -> String {
    format!(
        r#"# perfgate scenario file: a template. `perfgate init` found no Go benchmarks,
# no Go HTTP service and no Rust crate with criterion benches here.
# Uncomment one scenario, edit it, then:
#   perfgate validate perf.toml
#   perfgate compare                 (HEAD vs your working tree)
name = {name}

[compare]
threshold = "2%"      # the smallest change worth calling a change
max_time = "5m"       # rounds until verdicts settle, at most this long

# How long a command takes (wall time, CPU time, peak memory), per round:
# [[scenario]]
# name = "tests"
# kind = "command"
# command = "make test"
# timeout = "5m"

# A service under HTTP load needs a [target] that builds and starts it:
# [target]
# build = "go build -o {{build}}/app ."
# start = "{{build}}/app -addr 127.0.0.1:{{port}}"
# ready = {{ http = "http://127.0.0.1:{{port}}/healthz" }}
#
# [[scenario]]
# name = "api"
# kind = "http"
# duration = "5s"
# connections = 16
# requests = [{{ method = "GET", path = "/" }}]
"#,
        name = quote(name)
    )
}

fn compare_section(out: &mut String) {
    out.push_str(
        r#"
[compare]
threshold = "2%"      # the smallest change worth calling a change
max_time = "5m"       # rounds until verdicts settle, at most this long (measuring only)
# candidate = { patch = "my.patch" }   # or compare the baseline with a patch applied
"#,
    );
}

fn target_section(out: &mut String, module: &GoModule, s: &GoService) {
    let (start, env, how) = start_command(s);
    let health = s.routes.iter().map(|r| route_path(r)).find(|p| HEALTH_PATHS.contains(p));
    let _ = writeln!(out, "\n# The HTTP service in {} (package main).", module.package_dir(&s.package));
    out.push_str("[target]\n");
    let _ = writeln!(out, "dir = {}", quote(&module.dir));
    let _ = writeln!(out, "build = {}", quote(&format!("go build -o {{build}}/{} {}", s.binary, s.package)));
    let _ = writeln!(out, "start = {}   # GUESS: {how}", quote(&start));
    let ready_path = health.unwrap_or("/");
    let why = if health.is_some() { "a health route found in the code" } else { "no health route found" };
    let _ = writeln!(
        out,
        "ready = {{ http = {}, timeout = \"60s\" }}   # GUESS: {why}",
        quote(&format!("http://127.0.0.1:{{port}}{ready_path}"))
    );
    if s.routes.iter().any(|r| route_path(r) == "/metrics") {
        let _ = writeln!(out, "metrics = \"http://127.0.0.1:{{port}}/metrics\"   # GUESS: a /metrics route found");
    }
    if s.pprof {
        let _ = writeln!(
            out,
            "pprof = \"http://127.0.0.1:{{port}}/debug/pprof\"   # GUESS: net/http/pprof is imported; its handlers must be on the served mux"
        );
    }
    if !env.is_empty() {
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k} = {}", quote(v))).collect();
        let _ = writeln!(out, "env = {{ {} }}", pairs.join(", "));
    }
}

/// The start command, extra environment, and how the address was chosen.
fn start_command(s: &GoService) -> (String, Vec<(String, String)>, String) {
    let bin = format!("{{build}}/{}", s.binary);
    if let Some(f) = ADDR_FLAGS.iter().find_map(|n| s.flags.iter().find(|f| f.name == *n && !f.int)) {
        return (
            format!("{bin} -{} 127.0.0.1:{{port}}", f.name),
            vec![],
            format!("its -{} flag sets the listen address", f.name),
        );
    }
    if let Some(f) = PORT_FLAGS.iter().find_map(|n| s.flags.iter().find(|f| f.name == *n)) {
        return (format!("{bin} -{} {{port}}", f.name), vec![], format!("its -{} flag sets the port", f.name));
    }
    if let Some(v) = ADDR_ENV.iter().find(|v| s.getenv.iter().any(|g| g == *v)) {
        return (bin, vec![(v.to_string(), "127.0.0.1:{port}".into())], format!("it reads ${v} as its address"));
    }
    if let Some(v) = PORT_ENV.iter().find(|v| s.getenv.iter().any(|g| g == *v)) {
        return (bin, vec![(v.to_string(), "{port}".into())], format!("it reads ${v} as its port"));
    }
    (
        format!("{bin} -addr 127.0.0.1:{{port}}"),
        vec![],
        "no address flag or variable found; perfgate needs the service on {port}".into(),
    )
}

#[derive(Default)]
struct Names(std::collections::BTreeSet<String>);

impl Names {
    /// `base`, or `base-2`, `base-3`… when taken.
    fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut i = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{base}-{i}");
            i += 1;
        }
        name
    }
}

fn last_segment(path: &str, fallback: &str) -> String {
    let seg = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    // Major-version suffixes (github.com/cespare/xxhash/v2): the name before.
    let seg = if seg.len() > 1 && seg.starts_with('v') && seg[1..].chars().all(|c| c.is_ascii_digit()) {
        path.trim_end_matches('/').rsplit('/').nth(1).unwrap_or(seg)
    } else {
        seg
    };
    let clean: String = seg.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    if clean.trim_matches('-').is_empty() { fallback.into() } else { clean.trim_matches('-').to_string() }
}

fn gobench_scenario(out: &mut String, m: &GoModule, names: &mut Names) {
    let count: usize = m.bench_packages.iter().map(|(_, n)| n).sum();
    let name = names.unique(&format!("{}-bench", last_segment(&m.path, "go")));
    let _ = writeln!(
        out,
        "\n# Go benchmarks of module {} ({count} in {} package(s)).",
        if m.path.is_empty() { &m.dir } else { &m.path },
        m.bench_packages.len()
    );
    out.push_str("[[scenario]]\n");
    let _ = writeln!(out, "name = {}", quote(&name));
    out.push_str("kind = \"gobench\"\n");
    let _ = writeln!(out, "dir = {}", quote(&m.dir));
    let packages: Vec<String> = if m.bench_packages.len() > MAX_PACKAGES {
        vec!["./...".into()]
    } else {
        m.bench_packages.iter().map(|(p, _)| quote(p)).collect()
    };
    if packages == ["./..."] {
        let _ = writeln!(out, "packages = [\"./...\"]   # {} packages with benchmarks", m.bench_packages.len());
    } else {
        let _ = writeln!(out, "packages = [{}]", packages.join(", "));
    }
    out.push_str("bench = \".\"             # -test.bench regular expression\n");
    out.push_str("benchmem = true         # B/op and allocs/op too\n");
    out.push_str("# benchtime = \"30ms\"    # per benchmark and round (Go's syntax: a duration or \"100x\")\n");
    out.push_str(
        "# measure = [\"time\", \"instructions\"]   # instruction counts (Valgrind) call small changes on a noisy machine\n",
    );
}

fn http_scenario(out: &mut String, s: &GoService, names: &mut Names) {
    let skip = |p: &str| {
        HEALTH_PATHS.contains(&p)
            || p == "/metrics"
            || p.starts_with("/debug/")
            || p.contains('{')
            || p.ends_with("/ws")
            || p.contains('*')
    };
    let route = s
        .routes
        .iter()
        .find(|r| route_method(r).is_none_or(|m| m == "GET") && !skip(route_path(r)) && route_path(r) != "/");
    let path = route.map(|r| route_path(r)).unwrap_or("/");
    let name = names.unique(&format!("{}-http", s.binary));
    let why = if route.is_some() { "the first GET route found" } else { "no GET route found" };
    out.push_str("\n# The service under HTTP load: 16 clients, each waiting for its answer.\n");
    out.push_str("[[scenario]]\n");
    let _ = writeln!(out, "name = {}", quote(&name));
    out.push_str("kind = \"http\"\n");
    out.push_str("duration = \"5s\"         # measured per round and variant\n");
    out.push_str("warmup = \"1s\"\n");
    out.push_str("connections = 16\n");
    let _ = writeln!(out, "requests = [{{ method = \"GET\", path = {} }}]   # GUESS: {why}", quote(path));
    let others: Vec<&str> = s
        .routes
        .iter()
        .map(|r| route_path(r))
        .filter(|p| !skip(p) && *p != path && p.starts_with('/'))
        .take(8)
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "# Other routes found: {}", others.join(" "));
    }
    out.push_str("thresholds = [\"error_rate < 0.1%\"]\n");
    if s.pprof {
        out.push_str("profile = [\"cpu\"]        # after the timed rounds: where the time went, per variant\n");
    }
}

fn cargobench_scenario(out: &mut String, c: &RustCrate, names: &mut Names) {
    let name = names.unique(&format!("{}-bench", last_segment(&c.name, "rust")));
    let _ = writeln!(out, "\n# Criterion benches of crate {} ({}).", c.name, c.benches.join(", "));
    out.push_str("[[scenario]]\n");
    let _ = writeln!(out, "name = {}", quote(&name));
    out.push_str("kind = \"cargobench\"\n");
    let _ = writeln!(out, "dir = {}", quote(&c.dir));
    let targets: Vec<String> = c.benches.iter().map(|b| quote(b)).collect();
    let _ = writeln!(out, "targets = [{}]", targets.join(", "));
    out.push_str("# measure = [\"time\", \"instructions\"]   # instruction counts need Valgrind\n");
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{:04X}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}
