//! What a repository has to measure: Go modules with benchmarks, Go `main`
//! packages that serve HTTP, Rust crates with criterion benches. Reads the
//! tree (bounded: files, sizes, depth), runs nothing.

use super::gosrc::{self, GoFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files read at most; a larger tree is sampled in walk order.
const MAX_FILES: usize = 20_000;
/// Source files larger than this are skipped (generated code).
const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_DEPTH: usize = 12;

#[derive(Debug, Default)]
pub struct Findings {
    pub go_modules: Vec<GoModule>,
    pub crates: Vec<RustCrate>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.go_modules.iter().all(|m| m.bench_packages.is_empty() && m.services.is_empty()) && self.crates.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct GoModule {
    /// Relative to the repository root, "." for the root.
    pub dir: String,
    /// The module path from go.mod.
    pub path: String,
    /// Package directories with benchmarks, as `go list` patterns relative
    /// to the module ("." or "./sub"), with their benchmark counts.
    pub bench_packages: Vec<(String, usize)>,
    pub services: Vec<GoService>,
}

impl GoModule {
    /// A package's directory relative to the repository root: "cmd/x", or "." for the root.
    pub fn package_dir(&self, package: &str) -> String {
        let pkg = package.trim_start_matches("./");
        match (self.dir.as_str(), pkg) {
            (".", p) => p.to_string(),
            (d, ".") => d.to_string(),
            (d, p) => format!("{d}/{p}"),
        }
    }
}

/// A `main` package that serves HTTP.
#[derive(Debug, Clone)]
pub struct GoService {
    /// Relative to the module: "." or "./cmd/name".
    pub package: String,
    /// The binary's name: the package directory's name.
    pub binary: String,
    pub flags: Vec<gosrc::Flag>,
    pub getenv: Vec<String>,
    /// Routes found anywhere in the module's non-test code.
    pub routes: Vec<String>,
    /// Some package of the module imports net/http/pprof.
    pub pprof: bool,
}

#[derive(Debug, Clone)]
pub struct RustCrate {
    /// Relative to the repository root.
    pub dir: String,
    pub name: String,
    /// `[[bench]]` targets (or files in benches/).
    pub benches: Vec<String>,
}

/// Reads `root`'s tree.
pub fn detect(root: &Path) -> Findings {
    let mut files = Vec::new();
    walk(root, root, 0, &mut files);
    let mut go_mods: Vec<PathBuf> = Vec::new();
    let mut cargo_tomls = Vec::new();
    let mut go_files = Vec::new();
    for rel in files {
        match rel.file_name().and_then(|n| n.to_str()) {
            Some("go.mod") => go_mods.push(rel),
            Some("Cargo.toml") => cargo_tomls.push(rel),
            Some(n) if n.ends_with(".go") => go_files.push(rel),
            _ => {}
        }
    }
    let go_modules = go_modules(root, &go_mods, &go_files);
    let crates = cargo_tomls.iter().filter_map(|t| rust_crate(root, t)).collect();
    Findings { go_modules, crates }
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            // Hidden dirs (.git, .perfgate), vendored and generated trees.
            let skip = name.starts_with('.')
                || name.starts_with('_')
                || matches!(name.as_ref(), "vendor" | "testdata" | "node_modules" | "target" | "reports");
            if !skip {
                walk(root, &entry.path(), depth + 1, out);
            }
        } else if kind.is_file() && entry.metadata().is_ok_and(|m| m.len() <= MAX_FILE_BYTES) {
            if let Ok(rel) = entry.path().strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
            if out.len() >= MAX_FILES {
                return;
            }
        }
    }
}

/// "." for the root, else the path with `/`.
fn rel_dir(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".into() } else { s }
}

fn go_modules(root: &Path, go_mods: &[PathBuf], go_files: &[PathBuf]) -> Vec<GoModule> {
    let module_dirs: Vec<PathBuf> = go_mods.iter().map(|m| m.parent().unwrap_or(Path::new("")).to_path_buf()).collect();
    // Each .go file belongs to the innermost module above it.
    let mut by_module: BTreeMap<usize, Vec<(PathBuf, GoFile)>> = BTreeMap::new();
    for rel in go_files {
        let owner = module_dirs
            .iter()
            .enumerate()
            .filter(|(_, d)| rel.starts_with(d))
            .max_by_key(|(_, d)| d.components().count())
            .map(|(i, _)| i);
        let Some(owner) = owner else { continue };
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else { continue };
        let file = gosrc::scan(&text);
        if !file.ignored {
            by_module.entry(owner).or_default().push((rel.clone(), file));
        }
    }
    let mut modules = Vec::new();
    for (i, dir) in module_dirs.iter().enumerate() {
        let path = std::fs::read_to_string(root.join(&go_mods[i]))
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| l.trim().strip_prefix("module ").map(|m| m.trim().trim_matches('"').to_string()))
            })
            .unwrap_or_default();
        let files = by_module.remove(&i).unwrap_or_default();
        modules.push(go_module(dir, path, &files));
    }
    modules
}

fn go_module(dir: &Path, path: String, files: &[(PathBuf, GoFile)]) -> GoModule {
    // Package directories, relative to the module.
    let package_of = |rel: &Path| {
        let parent = rel.parent().unwrap_or(Path::new("")).strip_prefix(dir).unwrap_or(Path::new(""));
        let d = rel_dir(parent);
        if d == "." { d } else { format!("./{d}") }
    };
    let is_test = |rel: &Path| rel.to_string_lossy().ends_with("_test.go");
    let mut benches: BTreeMap<String, usize> = BTreeMap::new();
    let mut mains: BTreeMap<String, Vec<&GoFile>> = BTreeMap::new();
    let mut routes = Vec::new();
    let mut pprof = false;
    for (rel, f) in files {
        if is_test(rel) {
            if !f.benchmarks.is_empty() {
                *benches.entry(package_of(rel)).or_default() += f.benchmarks.len();
            }
            continue;
        }
        pprof |= f.imports.iter().any(|i| i == "net/http/pprof");
        routes.extend(f.routes.iter().cloned());
        if f.package == "main" {
            mains.entry(package_of(rel)).or_default().push(f);
        }
    }
    let mut services = Vec::new();
    for (package, fs) in mains {
        let imports_http = fs.iter().any(|f| f.imports.iter().any(|i| i == "net/http" || is_http_framework(i)));
        if !(imports_http && fs.iter().any(|f| f.serves_http || f.imports.iter().any(|i| is_http_framework(i)))) {
            continue;
        }
        let binary = match package.rsplit('/').next() {
            Some(".") | None => path.rsplit('/').next().unwrap_or("service").to_string(),
            Some(name) => name.to_string(),
        };
        services.push(GoService {
            package,
            binary: sanitize_binary(&binary),
            flags: fs.iter().flat_map(|f| f.flags.iter().cloned()).collect(),
            getenv: fs.iter().flat_map(|f| f.getenv.iter().cloned()).collect(),
            routes: dedup(routes.clone()),
            pprof,
        });
    }
    GoModule { dir: rel_dir(dir), path, bench_packages: benches.into_iter().collect(), services }
}

fn is_http_framework(import: &str) -> bool {
    ["github.com/gin-gonic/gin", "github.com/labstack/echo", "github.com/gofiber/fiber"]
        .iter()
        .any(|f| import.starts_with(f))
}

fn sanitize_binary(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    if s.is_empty() || s.starts_with('.') { "service".into() } else { s }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// A crate whose Cargo.toml lists criterion as a dev-dependency and has
/// bench targets.
fn rust_crate(root: &Path, toml_rel: &Path) -> Option<RustCrate> {
    let text = std::fs::read_to_string(root.join(toml_rel)).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    let package = manifest.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let dev = manifest.get("dev-dependencies").and_then(|d| d.as_table());
    if !dev.is_some_and(|d| d.contains_key("criterion")) {
        return None;
    }
    let dir = toml_rel.parent().unwrap_or(Path::new(""));
    let mut benches: Vec<String> = manifest
        .get("bench")
        .and_then(|b| b.as_array())
        .map(|a| a.iter().filter_map(|b| b.get("name")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if benches.is_empty()
        && let Ok(entries) = std::fs::read_dir(root.join(dir).join("benches"))
    {
        benches =
            entries.flatten().filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_string)).collect();
        benches.sort();
    }
    (!benches.is_empty()).then(|| RustCrate { dir: rel_dir(dir), name, benches })
}
