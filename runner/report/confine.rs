//! What a report may read and link, given a results.json it did not write.
//! A crafted results.json names files (`flame_graph`) and links (history's
//! report directories); a renderer embeds only regular files under the
//! run's own `profiles/`, no larger than a cap, and links only relative
//! paths that no browser takes for a scheme.

use std::io::Read;
use std::path::{Component, Path};

/// Largest flame graph embedded in report.html (inferno's SVG of a large
/// profile is a few MB).
pub const MAX_EMBEDDED_BYTES: u64 = 32 << 20;

/// Reads `rel` (relative to the run directory `out_dir`) if it is a regular
/// file inside `out_dir/profiles/` once every link is resolved, and at most
/// [`MAX_EMBEDDED_BYTES`] long. The error says which rule refused it.
pub fn read_profile_file(out_dir: &Path, rel: &str) -> Result<Vec<u8>, String> {
    let path = Path::new(rel);
    let mut parts = path.components();
    if parts.next() != Some(Component::Normal("profiles".as_ref()))
        || !parts.all(|c| matches!(c, Component::Normal(_)))
        || path.components().count() < 2
    {
        return Err("only files under the run's profiles/ are embedded".into());
    }
    let root = out_dir.join("profiles").canonicalize().map_err(|e| format!("profiles/: {e}"))?;
    let file = out_dir.join(path).canonicalize().map_err(|e| e.to_string())?;
    if !file.starts_with(&root) {
        return Err(format!("it resolves to {}, outside the run's profiles/", file.display()));
    }
    let meta = std::fs::metadata(&file).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_EMBEDDED_BYTES {
        return Err(format!("{} bytes, over the {} MiB cap", meta.len(), MAX_EMBEDDED_BYTES >> 20));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(&file)
        .and_then(|f| f.take(MAX_EMBEDDED_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_EMBEDDED_BYTES {
        return Err(format!("grew past the {} MiB cap while read", MAX_EMBEDDED_BYTES >> 20));
    }
    Ok(bytes)
}

/// `link` if a browser would read it as a relative path: no scheme
/// (`javascript:`, `data:`, `file:` …), not protocol-relative (`//host`),
/// no backslashes or control characters (which browsers rewrite).
pub fn relative_link(link: &str) -> Option<&str> {
    let first_segment = link.split(['/', '?', '#']).next().unwrap_or("");
    let ok = !link.is_empty()
        && !first_segment.contains(':')
        && !link.starts_with("//")
        && !link.chars().any(|c| c == '\\' || c.is_control());
    ok.then_some(link)
}

/// `html` with a Content-Security-Policy `<meta>` right after its
/// `<meta charset="utf-8">`: nothing loads from anywhere (images only as
/// `data:`), and only the page's own inline scripts run — each allowed by
/// its SHA-256, so markup that slipped into a chart could not run one.
pub fn with_content_security_policy(html: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script>") {
        let body = &rest[start + "<script>".len()..];
        let Some(end) = body.find("</script>") else { break };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        rest = &body[end..];
    }
    let scripts = if hashes.is_empty() { "'none'".to_string() } else { hashes.join(" ") };
    let policy = format!(
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {scripts}; base-uri 'none'; form-action 'none'"
    );
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">");
    let anchor = "<meta charset=\"utf-8\">";
    match html.find(anchor) {
        Some(at) => format!("{}\n{meta}{}", &html[..at + anchor.len()], &html[at + anchor.len()..]),
        None => format!("{meta}\n{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_regular_files_under_profiles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("profiles")).unwrap();
        std::fs::write(dir.path().join("profiles/a.svg"), b"<svg/>").unwrap();
        std::fs::write(dir.path().join("secret"), b"x").unwrap();
        assert_eq!(read_profile_file(dir.path(), "profiles/a.svg").unwrap(), b"<svg/>");
        for bad in ["/etc/passwd", "secret", "profiles/../secret", "profiles", "profiles/", "./profiles/a.svg"] {
            assert!(read_profile_file(dir.path(), bad).is_err(), "{bad}");
        }
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("profiles/l.svg")).unwrap();
        assert!(read_profile_file(dir.path(), "profiles/l.svg").unwrap_err().contains("outside"));
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("profiles/z.svg")).unwrap();
        assert!(read_profile_file(dir.path(), "profiles/z.svg").is_err());
        std::fs::create_dir(dir.path().join("profiles/d.svg")).unwrap();
        assert!(read_profile_file(dir.path(), "profiles/d.svg").unwrap_err().contains("regular"));
        let big = std::fs::File::create(dir.path().join("profiles/big.svg")).unwrap();
        big.set_len(MAX_EMBEDDED_BYTES + 1).unwrap();
        assert!(read_profile_file(dir.path(), "profiles/big.svg").unwrap_err().contains("cap"));
    }

    #[test]
    fn links_without_schemes_only() {
        for good in ["../20261201-x/report.html", "profiles/a.svg", "x/a:b.html"] {
            assert!(relative_link(good).is_some(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "//evil.example/x",
            "file:///etc",
            "a\\b",
            "\tjavascript:x",
            "",
        ] {
            assert!(relative_link(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_policy_allows_exactly_the_page_s_scripts() {
        let html =
            "<!doctype html>\n<meta charset=\"utf-8\">\n<body><script>go()</script><script>two()</script></body>";
        let out = with_content_security_policy(html);
        let meta = out.lines().nth(2).unwrap();
        assert!(
            meta.starts_with(
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:;"
            )
        );
        // echo -n 'go()' | openssl dgst -sha256 -binary | base64
        assert!(meta.contains("'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"), "{meta}");
        assert_eq!(meta.matches("'sha256-").count(), 2);
        assert!(out.ends_with("<body><script>go()</script><script>two()</script></body>"));
        assert!(with_content_security_policy("<meta charset=\"utf-8\">").contains("script-src 'none'"));
    }
}
