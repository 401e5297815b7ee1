//! Reports of a real run: names that are markup stay text in report.html
//! (and in the browser's DOM), the page loads in headless Chromium with no
//! script error and no external request, and `perfgate report` re-renders a
//! stored run to the same bytes.

mod common;

use common::{Repo, perfgate_cmd, read_results, text};

/// A Go module whose benchmarks are named like an attack on the report.
fn markup_repo() -> Repo {
    let repo = Repo::new();
    repo.write("go.mod", "module example.com/markup\n\ngo 1.26\n");
    repo.write(
        "work.go",
        "package work\n\nfunc Work(n int) uint64 {\n\tvar x uint64 = 1\n\tfor i := 0; i < n; i++ {\n\t\tx = x*6364136223846793005 + 1442695040888963407\n\t}\n\treturn x\n}\n",
    );
    repo.write(
        "work_test.go",
        r#"package work

import "testing"

var sink uint64

func BenchmarkName(b *testing.B) {
	for _, name := range []string{"<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "a|b&c"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink = Work(20000)
			}
		})
	}
}
"#,
    );
    repo.write(
        "perf.toml",
        "name = \"markup\"\n\n[[scenario]]\nname = \"names\"\nkind = \"gobench\"\nbench = \"Name\"\nbenchtime = \"20ms\"\n",
    );
    repo.commit_all("markup names");
    repo
}

#[test]
fn markup_names_stay_text_and_stored_runs_rerender() {
    let repo = markup_repo();
    let out_dir = repo.path().join("out");
    let out = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--baseline",
        "HEAD",
        "--candidate",
        "HEAD",
        "--rounds",
        "4",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let log = text(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{log}");
    let html_path = out_dir.join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap_or_else(|e| panic!("no report.html ({e}):\n{log}"));
    let results = read_results(&out_dir.join("results.json"));
    let names: Vec<&str> =
        results["comparisons"].as_array().unwrap().iter().map(|c| c["benchmark"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.contains("<script>alert(1)</script>")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("<img_src=x_onerror=alert(2)>")), "{names:?}");

    // Markup from the outside world is text in the page, never markup.
    for raw in ["<script>alert(1)", "<img_src=x", "onerror=alert(2)>"] {
        assert!(!html.contains(raw), "report.html contains raw markup {raw:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "escaped name missing from report.html");
    assert!(html.contains("&lt;img_src=x_onerror=alert(2)&gt;"), "escaped name missing from report.html");
    assert_eq!(html.matches("<script").count(), 1, "only the report's own script may be in the page");

    // The brief quotes the names as text too: inside code spans, where
    // GitHub shows markup literally.
    let brief = std::fs::read_to_string(out_dir.join("brief.md")).unwrap();
    assert!(brief.contains("<script>alert(1)</script>"), "the name should be quoted in the brief:\n{brief}");
    for line in brief.lines() {
        for (i, _) in line.match_indices('<') {
            let ticks = line[..i].matches('`').count();
            assert!(ticks % 2 == 1, "markup outside a code span in brief.md: {line}");
        }
    }

    if let Some(chromium) = common::chromium() {
        let shot = out_dir.join("screenshot.png");
        let rendered = common::render_in_chromium(&chromium, &html_path, &shot, 1600);
        common::assert_report_loads(&html_path, &rendered);
        // In the live DOM the names are text nodes: no element came from them.
        assert_eq!(rendered.dom.matches("<script").count(), 1, "{}", rendered.dom);
        assert!(!rendered.dom.contains("<img src=\"x\"") && !rendered.dom.contains("<img_src"), "{}", rendered.dom);
        assert!(rendered.dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "name not shown as text");
    }

    // Re-rendering the stored run reproduces every report byte for byte.
    let again = repo.path().join("again");
    let out = perfgate_cmd(
        repo.path(),
        &["report", out_dir.join("results.json").to_str().unwrap(), "--out", again.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for file in ["report.html", "brief.md"] {
        let a = std::fs::read(out_dir.join(file)).unwrap();
        let b = std::fs::read(again.join(file)).unwrap();
        assert!(a == b, "{file} re-rendered differently");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("scenario names"), "terminal report expected on stdout:\n{stdout}");

    let format = |f: &str| {
        let out = perfgate_cmd(repo.path(), &["report", out_dir.join("results.json").to_str().unwrap(), "--format", f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(format("md"), std::fs::read_to_string(out_dir.join("brief.md")).unwrap());
    assert_eq!(format("html"), html);
    let json: serde_json::Value = serde_json::from_str(&format("json")).unwrap();
    assert_eq!(json, results);
    assert!(format("terminal").contains("scenario names"));

    crafted_files_are_not_read(&repo, &results);

    // A file that is not a run is bad input (exit 2), with a message.
    repo.write("junk.json", "{\"not\": \"results\"}");
    let out = perfgate_cmd(repo.path(), &["report", "junk.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a perfgate results file"), "{}", text(&out));
}

/// A results.json is input too: the flame graphs it names are embedded only
/// from the run's own profiles/ (never /etc/passwd, never /dev/zero, never
/// through a symlink), a path refused is not linked either, and the page
/// carries a Content-Security-Policy.
fn crafted_files_are_not_read(repo: &Repo, results: &serde_json::Value) {
    let dir = repo.path().join("crafted");
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    repo.write("secret.svg", "<svg>SECRET-OUTSIDE</svg>");
    std::os::unix::fs::symlink("/dev/zero", dir.join("profiles/zero.svg")).unwrap();
    std::os::unix::fs::symlink(repo.path().join("secret.svg"), dir.join("profiles/link.svg")).unwrap();
    std::fs::write(dir.join("profiles/ok.svg"), "<svg>INSIDE</svg>").unwrap();
    let mut crafted = results.clone();
    let profile = |variant: &str, flame: &str| {
        serde_json::json!({"scenario": "names", "variant": variant, "kind": "cpu", "path": "profiles/x.pb.gz",
            "top": [], "sample_type": "cpu", "unit": "nanoseconds", "total": 1.0, "flame_graph": flame})
    };
    crafted["profiles"] = serde_json::json!([
        profile("baseline", "profiles/../../secret.svg"),
        profile("candidate", "profiles/zero.svg")
    ]);
    crafted["profile_diffs"] = serde_json::json!([{"scenario": "names", "kind": "cpu", "sample_type": "cpu",
        "unit": "nanoseconds", "baseline_total": 1.0, "top": [], "flame_graph": "/etc/passwd"}]);
    let mut second = crafted.clone();
    second["profiles"] =
        serde_json::json!([profile("baseline", "profiles/link.svg"), profile("candidate", "profiles/ok.svg")]);
    second["profile_diffs"][0]["flame_graph"] = "javascript:alert(1)".into();
    for (i, doc) in [crafted, second].iter().enumerate() {
        std::fs::write(dir.join("results.json"), serde_json::to_string(doc).unwrap()).unwrap();
        let started = std::time::Instant::now();
        let out =
            perfgate_cmd(repo.path(), &["report", dir.join("results.json").to_str().unwrap(), "--format", "html"])
                .output()
                .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "report hung on a crafted path");
        let html = String::from_utf8(out.stdout).unwrap();
        assert!(!html.contains("root:x:0:0") && !html.contains("cm9vdDp4OjA6"), "/etc/passwd embedded");
        assert!(
            !html.contains("SECRET-OUTSIDE") && !html.contains("PHN2Zz5TRUNSRVQtT1VUU0lERT"),
            "a file outside profiles/ embedded"
        );
        assert!(!html.contains("href=\"javascript:") && !html.contains("href=\"/etc"), "a crafted link kept");
        assert!(html.contains("not embedded"), "refusals should be said in the page");
        assert!(html.contains("http-equiv=\"Content-Security-Policy\""), "no CSP");
        if i == 1 {
            // The one file that is inside profiles/ is still embedded.
            assert!(html.contains("PHN2Zz5JTlNJREU8L3N2Zz4"), "profiles/ok.svg should be embedded");
        }
    }
}
