//! Just enough of Go's source to guess a scenario file: a file's package
//! name, its imports, its `BenchmarkXxx(b *testing.B)` functions, whether
//! it serves HTTP, its command-line flags and its route strings. A scanner
//! of lines, not a parser: what it reads only seeds a file the user edits,
//! and every guess it feeds is marked as one.

/// What one `.go` file says.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GoFile {
    pub package: String,
    pub imports: Vec<String>,
    pub benchmarks: Vec<String>,
    /// Calls `ListenAndServe`, `Serve(` or builds an `http.Server`.
    pub serves_http: bool,
    /// Flags defined with the `flag` package: (name, default literal, is_int).
    pub flags: Vec<Flag>,
    /// Environment variables read with `os.Getenv` / `os.LookupEnv`.
    pub getenv: Vec<String>,
    /// String literals that look like routes ("/healthz", "GET /api/x").
    pub routes: Vec<String>,
    /// `//go:build ignore`: not part of any build.
    pub ignored: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub name: String,
    pub default: String,
    pub int: bool,
}

/// Reads one file's text.
pub fn scan(text: &str) -> GoFile {
    let mut file = GoFile::default();
    let mut in_import_block = false;
    let mut in_comment = false;
    for raw in text.lines() {
        let line = strip_comments(raw, &mut in_comment);
        let line = line.trim();
        if raw.trim_start().starts_with("//go:build") && raw.contains("ignore") {
            file.ignored = true;
        }
        if line.is_empty() {
            continue;
        }
        if in_import_block {
            if line.starts_with(')') {
                in_import_block = false;
            } else if let Some(path) = first_string(line) {
                file.imports.push(path);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("package ") {
            if file.package.is_empty() {
                file.package = rest.split_whitespace().next().unwrap_or("").to_string();
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("import") {
            let rest = rest.trim_start();
            if rest.starts_with('(') {
                in_import_block = !rest.contains(')');
                if let Some(path) = first_string(rest) {
                    file.imports.push(path);
                }
            } else if let Some(path) = first_string(rest) {
                file.imports.push(path);
            }
            continue;
        }
        if let Some(name) = benchmark_name(line) {
            file.benchmarks.push(name);
        }
        if line.contains("ListenAndServe") || line.contains(".Serve(") || line.contains("http.Server{") {
            file.serves_http = true;
        }
        if let Some(flag) = flag_definition(line) {
            file.flags.push(flag);
        }
        for call in ["os.Getenv(", "os.LookupEnv("] {
            if let Some(at) = line.find(call)
                && let Some(name) = first_string(&line[at + call.len()..])
            {
                file.getenv.push(name);
            }
        }
        file.routes.extend(registered_routes(line));
    }
    file
}

/// The line without `//` comments and without the parts of `/* */`
/// comments it holds (`in_comment` carries an open one to the next line).
/// Strings are respected, so "http://x" is not a comment.
fn strip_comments(line: &str, in_comment: &mut bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if *in_comment {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                *in_comment = false;
            }
            continue;
        }
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' && q != '`' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '/' && chars.peek() == Some(&'/') {
                    break;
                }
                if c == '/' && chars.peek() == Some(&'*') {
                    chars.next();
                    *in_comment = true;
                    continue;
                }
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// The double-quoted or back-quoted string literals of a line, unescaped
/// only as far as routes and flag defaults need.
fn string_literals(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            continue;
        }
        let mut literal = String::new();
        let mut closed = false;
        while let Some(d) = chars.next() {
            if d == '\\' && c == '"' {
                if let Some(e) = chars.next() {
                    literal.push(e);
                }
            } else if d == c {
                closed = true;
                break;
            } else {
                literal.push(d);
            }
        }
        if closed {
            found.push(literal);
        }
    }
    found
}

fn first_string(s: &str) -> Option<String> {
    string_literals(s).into_iter().next()
}

/// `func BenchmarkXxx(b *testing.B)`, where Xxx does not start with a
/// lower-case letter (the rule `go test` applies).
fn benchmark_name(line: &str) -> Option<String> {
    let rest = line.strip_prefix("func Benchmark")?;
    let end = rest.find('(')?;
    let suffix = &rest[..end];
    if !suffix.chars().all(|c| c.is_alphanumeric() || c == '_') || suffix.starts_with(|c: char| c.is_lowercase()) {
        return None;
    }
    let params = &rest[end..];
    params.contains("*testing.B)").then(|| format!("Benchmark{suffix}"))
}

/// `flag.String("addr", ":8080", …)`, `flag.StringVar(&a, "addr", …)`,
/// `flag.Int("port", 8080, …)`, `fs.IntVar(&p, "port", …)` (any FlagSet
/// receiver).
fn flag_definition(line: &str) -> Option<Flag> {
    for (call, int) in [
        ("String(", false),
        ("StringVar(", false),
        ("Int(", true),
        ("IntVar(", true),
        ("Uint(", true),
        ("UintVar(", true),
    ] {
        let Some(at) = line.find(&format!(".{call}")) else { continue };
        let args = &line[at + call.len() + 1..];
        let literals = string_literals(args);
        let name = literals.first()?.clone();
        let default = if int {
            let after_name = args.split(',').nth(if call.ends_with("Var(") { 2 } else { 1 }).unwrap_or("");
            after_name.trim().to_string()
        } else {
            literals.get(1).cloned().unwrap_or_default()
        };
        return Some(Flag { name, default, int });
    }
    None
}

/// Calls that register a handler on a route, by net/http and the common
/// routers (chi, gorilla/mux, gin, echo, fiber): the route is their first
/// argument.
const ROUTE_CALLS: &[&str] = &[
    "Handle",
    "HandleFunc",
    "Get",
    "Post",
    "Put",
    "Delete",
    "Patch",
    "Head",
    "Options",
    "Method",
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "HEAD",
    "OPTIONS",
    "Any",
    "Path",
    "PathPrefix",
    "Route",
    "Mount",
];

/// The routes a line registers: `mux.HandleFunc("GET /healthz", h)`,
/// `r.Get("/users", h)`; string literals elsewhere are not routes.
fn registered_routes(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find("(\"").or_else(|| rest.find("(`")) {
        let before = &rest[..open];
        let name_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map(|i| i + 1).unwrap_or(0);
        let called = &before[name_start..];
        let is_method_call = before[..name_start].ends_with('.');
        if is_method_call
            && ROUTE_CALLS.contains(&called)
            && let Some(route) = first_string(&rest[open + 1..])
            && looks_like_route(&route)
        {
            found.push(route);
        }
        rest = &rest[open + 2..];
    }
    found
}

/// "/healthz", "GET /api/dashboard", "/debug/pprof/": a path, perhaps
/// behind an HTTP method (Go 1.22 patterns).
fn looks_like_route(s: &str) -> bool {
    let path = route_path(s);
    path.starts_with('/')
        && path.len() < 200
        && !path.contains("//")
        && !path.contains(' ')
        && !path.ends_with(".go")
        && !path.starts_with("/tmp")
        && !path.starts_with("/dev/")
        && !path.starts_with("/proc/")
        && !path.starts_with("/etc/")
        && !path.starts_with("/usr/")
}

/// The path of a route pattern: "GET /x" → "/x".
pub fn route_path(s: &str) -> &str {
    match s.split_once(' ') {
        Some((method, path)) if method.chars().all(|c| c.is_ascii_uppercase()) && !method.is_empty() => path,
        _ => s,
    }
}

/// The method of a route pattern, when it has one.
pub fn route_method(s: &str) -> Option<&str> {
    let (method, _) = s.split_once(' ')?;
    (!method.is_empty() && method.chars().all(|c| c.is_ascii_uppercase())).then_some(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_service_main() {
        let text = r#"// Command x serves http://example.
package main

import (
	"flag"
	"net/http"
	_ "net/http/pprof" // profiles
)

/* a block
   comment with "/nothere" */
func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	var port int
	flag.IntVar(&port, "port", 9090, "port")
	http.HandleFunc("GET /healthz", h)
	http.HandleFunc("/api/items", items) // "/commented"
	if v := os.Getenv("PORT"); v != "" {}
	http.ListenAndServe(*addr, nil)
}
"#;
        let f = scan(text);
        assert_eq!(f.package, "main");
        assert_eq!(f.imports, ["flag", "net/http", "net/http/pprof"]);
        assert!(f.serves_http);
        assert_eq!(
            f.flags,
            [
                Flag { name: "addr".into(), default: "127.0.0.1:8080".into(), int: false },
                Flag { name: "port".into(), default: "9090".into(), int: true }
            ]
        );
        assert_eq!(f.getenv, ["PORT"]);
        assert_eq!(f.routes, ["GET /healthz", "/api/items"]);
        assert!(f.benchmarks.is_empty());
    }

    #[test]
    fn finds_benchmarks_as_go_test_does() {
        let text = "package xxhash\nimport \"testing\"\nfunc BenchmarkSum64(b *testing.B) {}\n\
                    func Benchmarklower(b *testing.B) {}\nfunc Benchmark(b *testing.B) {}\n\
                    func BenchmarkHelper(n int) {}\nfunc Benchmark_x(b *testing.B) {}\n";
        let f = scan(text);
        assert_eq!(f.benchmarks, ["BenchmarkSum64", "Benchmark", "Benchmark_x"]);
        assert_eq!(f.imports, ["testing"]);
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for text in ["\"", "import (", "func Benchmark(", "flag.String(", "`", "/*", "package", "é\"/é"] {
            let _ = scan(text);
        }
        assert!(scan("//go:build ignore\npackage main").ignored);
    }
}
