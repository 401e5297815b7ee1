//! The JSON Schemas in `schemas/`: in step with the Rust types they are
//! generated from, and true to the files perfgate reads and writes (the
//! scenario files in `scenarios/`, broken ones, a results.json of a real run).

mod common;

use common::{Repo, assert_valid_results, out_dir, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed(file: &str) -> Value {
    let path = root().join("schemas").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("not a usable JSON Schema: {e}"))
}

/// A scenario file as the schema sees it: TOML tables become JSON objects.
fn toml_to_json(text: &str) -> Value {
    let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"));
    serde_json::to_value(table).expect("TOML converts to JSON")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("at {:?}: {e}", e.instance_path().as_str())).collect()
}

#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var("PERFGATE_UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (file, schema) in [
        ("results.schema.json", perfgate::schemas::results_schema()),
        ("scenario.schema.json", perfgate::schemas::scenario_schema()),
    ] {
        jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{file}: not a valid JSON Schema: {e}"));
        let path = root().join("schemas").join(file);
        let want = perfgate::schemas::to_file_text(&schema);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(want.as_str()) {
            continue;
        }
        if update {
            std::fs::write(&path, want).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the Rust types: {}\nregenerate with `just schemas` or \
         `PERFGATE_UPDATE_SCHEMAS=1 cargo test --test schemas`, and commit the result",
        stale.join(", ")
    );
}

#[test]
fn every_scenario_file_validates() {
    let schema = validator(&committed("scenario.schema.json"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        perfgate::config::parse(&path, &text).unwrap_or_else(|e| panic!("the parser rejects it: {e}"));
        let errs = errors(&schema, &toml_to_json(&text));
        assert!(errs.is_empty(), "{}:\n{}", path.display(), errs.join("\n"));
        assert!(
            text.starts_with("#:schema ../schemas/scenario.schema.json\n"),
            "{}: should start with the editors' schema directive",
            path.display()
        );
    }
}

/// The schema and the parser agree: what one rejects, the other does too.
#[test]
fn schema_and_parser_agree_on_valid_and_broken_files() {
    let schema = validator(&committed("scenario.schema.json"));
    let base = "name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"command\"\ncommand = \"true\"\n";
    let cases: &[(&str, String, bool)] = &[
        ("minimal", base.to_string(), true),
        ("unknown key", format!("{base}comand = \"x\"\n"), false),
        ("unknown top-level key", format!("nmae = \"y\"\n{base}"), false),
        ("unknown [target] key", format!("{base}[target]\nbuidl = \"make\"\n"), false),
        ("wrong type", format!("{base}timeout = 5\n"), false),
        ("wrong type in [compare]", format!("{base}[compare]\nrounds = \"six\"\n"), false),
        ("rounds below 1", format!("{base}[compare]\nrounds = 0\n"), false),
        ("alpha out of range", format!("{base}[compare]\nalpha = 1.5\n"), false),
        ("bad duration", format!("{base}timeout = \"5 sec\"\n"), false),
        ("duration without unit", format!("{base}timeout = \"5\"\n"), false),
        ("good duration", format!("{base}timeout = \"1m30s\"\n"), true),
        ("bad percentage", format!("{base}[compare]\nthreshold = \"2\"\n"), false),
        ("good percentage", format!("{base}[compare]\nthreshold = \"2.5%\"\n"), true),
        ("candidate with both", format!("{base}[compare]\ncandidate = {{ rev = \"a\", patch = \"b\" }}\n"), false),
        ("candidate patch", format!("{base}[compare]\ncandidate = {{ patch = \"b.patch\" }}\n"), true),
        ("field of another kind", format!("{base}packages = [\".\"]\n"), false),
        ("unknown kind", base.replace("\"command\"\n", "\"grpc\"\n"), false),
        ("command missing", "name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"command\"\n".into(), false),
        ("no scenarios", "name = \"x\"\n".into(), false),
        ("dir outside the checkout", format!("{base}dir = \"../other\"\n"), false),
        ("absolute target dir", format!("{base}[target]\ndir = \"/etc\"\n"), false),
        ("restart enum", format!("{base}[target]\nrestart = \"sometimes\"\n"), false),
        ("gobench benchtime count", gobench("benchtime = \"100x\""), true),
        ("gobench zero benchtime", gobench("benchtime = \"0s\""), false),
        ("gobench goroutine profile", gobench("profile = [\"goroutine\"]"), false),
        ("http open model", http("rate = 500\nmax_in_flight = 64"), true),
        ("http both models", http("rate = 5\nconnections = 2"), false),
        ("http max_in_flight without rate", http("max_in_flight = 64"), false),
        ("http request path", http("requests = [{ path = \"api\" }]"), false),
        (
            "http request mix",
            http("requests = [{ path = \"/a\", weight = 3 }, { method = \"post\", path = \"/b\" }]"),
            true,
        ),
        ("http unknown profile", http("profile = [\"gpu\"]"), false),
        ("websocket small message", websocket("message_size = 8"), false),
        ("websocket no clients", websocket("clients = 0"), false),
        ("websocket negative churn", websocket("churn = -1"), false),
        ("websocket ok", websocket("clients = 50\nramp = \"500ms\"\nchurn = 20\nrate = 200"), true),
        (
            "idle trickle without rate",
            "name = \"x\"\n[[scenario]]\nname = \"q\"\nkind = \"idle\"\nrequests = [{ path = \"/\" }]\n".into(),
            false,
        ),
    ];
    for (what, toml_text, valid) in cases {
        let parsed = perfgate::config::parse(Path::new("case.toml"), toml_text);
        assert_eq!(parsed.is_ok(), *valid, "{what}: parser: {:?}\n{toml_text}", parsed.err().map(|e| e.to_string()));
        let errs = errors(&schema, &toml_to_json(toml_text));
        assert_eq!(errs.is_empty(), *valid, "{what}: schema errors: {errs:#?}\n{toml_text}");
    }
}

fn gobench(extra: &str) -> String {
    format!("name = \"x\"\n[[scenario]]\nname = \"g\"\nkind = \"gobench\"\n{extra}\n")
}

fn http(extra: &str) -> String {
    format!("name = \"x\"\n[target]\nstart = \"srv {{port}}\"\n[[scenario]]\nname = \"h\"\nkind = \"http\"\n{extra}\n")
}

fn websocket(extra: &str) -> String {
    format!("name = \"x\"\n[[scenario]]\nname = \"w\"\nkind = \"websocket\"\n{extra}\n")
}

/// The duration and percentage patterns accept exactly what the parsers do.
#[test]
fn quantity_patterns_match_the_parsers() {
    let schema = committed("scenario.schema.json");
    let def = |name: &str| validator(&json!({ "$defs": schema["$defs"], "$ref": format!("#/$defs/{name}") }));
    let duration = def("Duration");
    for s in [
        "5s",
        "250ms",
        "1m30s",
        "1.5s",
        "100us",
        "100µs",
        "100μs",
        "2h",
        "1.s",
        ".5s",
        "5s.5s",
        " 5s ",
        "1h2m3s4ms5us6ns",
        "0s",
        "5",
        "5 s",
        "5 seconds",
        "5sec",
        "fast",
        "",
        " ",
        "s",
        "1.2.3s",
        "5s5",
        "-5s",
        "1e3s",
        "5S",
        "5ms ms",
    ] {
        let parser = perfgate::config::parse_duration(s).is_ok();
        assert_eq!(duration.is_valid(&json!(s)), parser, "duration {s:?}: the parser says {parser}");
    }
    let percent = def("Percent");
    for s in [
        "2%", "0.5%", "2.%", ".5%", "+2%", "1e2%", "1E-2%", " 2 % ", "0%", "-0%", "2", "-1%", "x%", "%", "2%%", "inf%",
        "NaN%", "1e%", "2 5%", "--0%", "0x10%",
    ] {
        let parser = perfgate::config::parse_percent(s).is_ok();
        assert_eq!(percent.is_valid(&json!(s)), parser, "percent {s:?}: the parser says {parser}");
    }
}

/// A results.json from a real `perfgate compare` run (a command scenario on a
/// real git repository, 4 rounds) validates against the committed schema.
#[test]
fn results_of_a_real_run_validate() {
    let repo = Repo::new();
    repo.write(
        "perf.toml",
        "name = \"cmd\"\n\n[[scenario]]\nname = \"spin\"\nkind = \"command\"\ncommand = \"sh spin.sh\"\n",
    );
    repo.write("spin.sh", "i=0\nwhile [ $i -lt 2000 ]; do i=$((i+1)); done\n");
    repo.commit_all("base");
    repo.write("spin.sh", "i=0\nwhile [ $i -lt 3000 ]; do i=$((i+1)); done\n");
    let out = out_dir(&repo, "run");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "4", "--out", out.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let results = out.join("results.json");
    assert_valid_results(&results);
    // Not vacuous: the run measured and compared something.
    let value = common::read_results(&results);
    assert!(!value["samples"].as_array().unwrap().is_empty() && !value["comparisons"].as_array().unwrap().is_empty());

    // And the schema does reject a results.json that breaks the contract.
    let schema = validator(&committed("results.schema.json"));
    let mut broken = value.clone();
    broken["comparisons"][0]["verdict"] = json!("better");
    broken["samples"][0].as_object_mut().unwrap().remove("value");
    assert_eq!(errors(&schema, &broken).len(), 2, "{:#?}", errors(&schema, &broken));
}
