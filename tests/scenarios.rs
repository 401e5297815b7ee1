//! The scenario files shipped in scenarios/ are valid, and `validate`
//! reports each kind they use.

mod common;

#[test]
fn shipped_scenarios_validate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = common::perfgate_cmd(root, &args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(gobench)") && stdout.contains("(command)"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains(": ok: ")).count(), files.len());
}
