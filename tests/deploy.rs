//! deploy/k8s/load-job.yaml: checked against the Kubernetes API schema
//! (kubernetes-validate from PyPI, strict, two Kubernetes versions; CI
//! installs it and must not skip), and its generators' own command run for
//! real: the pod script, as the manifest holds it, in four local processes
//! with the Job's JOB_COMPLETION_INDEX against a loopback server, their
//! stdout (the pod logs) merged by `perfgate load merge`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = "deploy/k8s/load-job.yaml";

/// The `kubernetes-validate` program: $PERFGATE_K8S_VALIDATE (.ci/run sets
/// it), else on PATH.
fn validator() -> Option<PathBuf> {
    let program = std::env::var_os("PERFGATE_K8S_VALIDATE").map(PathBuf::from).unwrap_or("kubernetes-validate".into());
    if Command::new(&program).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some(program);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have kubernetes-validate (PyPI; .ci/run installs it and sets PERFGATE_K8S_VALIDATE)"
    );
    eprintln!(
        "\n*** SKIPPED: kubernetes-validate not found (pip install kubernetes-validate; or set PERFGATE_K8S_VALIDATE) ***\n"
    );
    None
}

fn validate(program: &Path, file: &Path, version: &str) -> (bool, String) {
    let o = Command::new(program).args(["--strict", "-k", version]).arg(file).output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// The manifest as JSON, read by the validator's own Python (PyYAML).
fn manifest_json(program: &Path) -> serde_json::Value {
    let python = program.parent().map(|d| d.join("python")).filter(|p| p.exists()).unwrap_or("python3".into());
    let o = Command::new(python)
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", MANIFEST])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_load_job_is_a_valid_indexed_job_whose_generators_merge() {
    let Some(program) = validator() else { return };
    for version in ["1.37.0", "1.28.0"] {
        let (ok, said) = validate(&program, Path::new(MANIFEST), version);
        assert!(ok, "Kubernetes {version}: {said}");
    }
    // The validator does check: a misspelt field and a wrong type are refused.
    let text = std::fs::read_to_string(MANIFEST).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [("  parallelism: 4", "  paralelism: 4"), ("  completions: 4", "  completions: four")] {
        assert!(text.contains(from));
        let broken = dir.path().join("broken.yaml");
        std::fs::write(&broken, text.replace(from, to)).unwrap();
        let (ok, said) = validate(&program, &broken, "1.37.0");
        assert!(!ok, "{to:?} passed: {said}");
    }

    // What the schema cannot say: an Indexed Job whose N is the shard count.
    let job = manifest_json(&program);
    let spec = &job["spec"];
    assert_eq!((job["kind"].as_str(), spec["completionMode"].as_str()), (Some("Job"), Some("Indexed")));
    let container = &spec["template"]["spec"]["containers"][0];
    let env: std::collections::BTreeMap<String, String> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap().to_string()))
        .collect();
    let n: u64 = env["GENERATORS"].parse().unwrap();
    assert_eq!((spec["completions"].as_u64(), spec["parallelism"].as_u64()), (Some(n), Some(n)));
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    let script = container["args"][0].as_str().unwrap().to_string();
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    for needed in ["JOB_COMPLETION_INDEX", "--shard", "--start-at", "--hdr-log -"] {
        assert!(script.contains(needed), "{needed} in {script}");
    }

    // The pod script, run for real: N local "pods" against a loopback server.
    let server = support::TestServer::fast();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_perfgate")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let rate = 400.0;
    let pods: Vec<std::process::Child> = (0..n)
        .map(|i| {
            Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("GENERATORS", n.to_string())
                .env("TARGET_URL", server.url("/"))
                .env("START_AT", at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .env("RATE", rate.to_string())
                .env("DURATION", "2s")
                .env("WARMUP", "0s")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut logs = Vec::new();
    for (i, pod) in pods.into_iter().enumerate() {
        let out = pod.wait_with_output().unwrap();
        assert!(out.status.success(), "pod {i}: {}", String::from_utf8_lossy(&out.stderr));
        let log = dir.path().join(format!("pod-{i}.hlog"));
        std::fs::write(&log, &out.stdout).unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("generator {}/{n}", i + 1)));
        logs.push(log.to_str().unwrap().to_string());
    }
    let mut args = vec!["load", "merge", "--json"];
    args.extend(logs.iter().map(String::as_str));
    let o = Command::new(env!("CARGO_BIN_EXE_perfgate")).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let generators: Vec<&str> =
        m["generators"].as_array().unwrap().iter().map(|g| g["generator"].as_str().unwrap()).collect();
    assert_eq!(generators, (1..=n).map(|i| format!("{i}/{n}")).collect::<Vec<_>>());
    let throughput = m["throughput"].as_f64().unwrap();
    assert!((throughput - rate).abs() <= 0.02 * rate, "{throughput} of {rate} req/s: {m:#}");
    assert_eq!(m["errors"], 0);
}
