//! File names derived from user or target data: scenario and run names,
//! profile kinds, Go import paths, benchmark names. Every such name goes
//! through [`file_component`] before it touches a path, so that no name —
//! `../../x`, `a/b`, `.hidden`, a 10 kB benchmark name — can leave the
//! directory it is joined to, hide, or fail to be created.

use sha2::{Digest, Sha256};

/// Longest component we produce (bytes); file systems allow 255, and the
/// caller adds a prefix and an extension.
const MAX_LEN: usize = 96;

/// One path component that is safe to join to a directory: only ASCII
/// letters, digits, `-`, `_` and `.` (anything else becomes `_`), never
/// starting with `.` (so never `.` or `..`), never empty, and at most
/// 96 bytes (a longer name keeps its first 80 bytes plus a hash of the
/// whole, so distinct long names stay distinct).
pub fn file_component(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > MAX_LEN {
        let digest = Sha256::digest(name.as_bytes());
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        out.truncate(80);
        out.push('-');
        out.push_str(&hash);
    }
    out
}

/// Why a scenario name cannot name files, or `None` when it can. Names
/// that merely contain spaces or punctuation are fine (they map to `_`);
/// these cannot be told apart from a path or from nothing at all.
pub fn unusable_name(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!("contains the control character {c:?}"));
    }
    if name.contains(['/', '\\']) {
        return Some("contains a path separator (`/` or `\\`); file names are derived from it".into());
    }
    if name.starts_with('.') {
        return Some("starts with `.`; file names are derived from it".into());
    }
    if name.len() > 200 {
        return Some(format!("is {} bytes long (at most 200)", name.len()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_never_escape_or_hide() {
        for name in ["..", ".", "", "../../../../tmp/x", "a/b", "/etc/passwd", ".git", "a\\..\\b", "\u{1b}]52;c;x\u{7}"]
        {
            let c = file_component(name);
            assert!(!c.is_empty() && !c.starts_with('.'), "{name:?} -> {c:?}");
            assert!(!c.contains(['/', '\\']), "{name:?} -> {c:?}");
            let joined = std::path::Path::new("/out").join(&c);
            assert_eq!(joined.parent(), Some(std::path::Path::new("/out")), "{name:?} -> {c:?}");
        }
        assert_eq!(file_component("dashboard-7d"), "dashboard-7d");
        assert_eq!(file_component("cpu@example.com/x/y"), "cpu_example.com_x_y");
    }

    #[test]
    fn long_names_are_bounded_and_stay_distinct() {
        let a = file_component(&"x".repeat(10_000));
        let b = file_component(&format!("{}y", "x".repeat(9_999)));
        assert!(a.len() <= MAX_LEN && b.len() <= MAX_LEN);
        assert_ne!(a, b);
        let multibyte = file_component(&"é".repeat(500));
        assert!(multibyte.len() <= MAX_LEN);
    }

    #[test]
    fn unusable_names_say_why() {
        assert!(unusable_name("GET /items").unwrap().contains("path separator"));
        assert!(unusable_name("../x").is_some());
        assert!(unusable_name(".x").unwrap().contains("starts with"));
        assert!(unusable_name("a\u{1b}[31m").unwrap().contains("control"));
        assert!(unusable_name("dashboard 7d").is_none());
    }
}
