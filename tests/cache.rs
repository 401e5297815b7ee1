//! `perfgate cache` and `perfgate cache prune` on a real repository's
//! `.perfgate/builds`: old and unfinished builds go, recent ones stay.

mod common;

use common::{Repo, text};
use std::time::{Duration, SystemTime};

#[test]
fn prune_removes_old_and_unfinished_builds_only() {
    let repo = Repo::new();
    repo.write("README", "x\n");
    repo.commit_all("base");
    let builds = repo.path().join(".perfgate/builds");
    // cargobench's target dir, last built in a day ago: kept by the default
    // prune, listed, removed with every build by --older-than 0s.
    let cargo = repo.path().join(".perfgate/cargo-target");
    std::fs::create_dir_all(cargo.join("release/deps")).unwrap();
    std::fs::write(cargo.join("release/deps/x"), vec![0u8; 4096]).unwrap();
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    for d in [cargo.clone(), cargo.join("release"), cargo.join("release/deps")] {
        std::fs::File::open(&d).unwrap().set_modified(day_ago).unwrap();
    }
    for (key, complete, age_days) in [("old", true, 30u64), ("half", false, 0), ("fresh", true, 1)] {
        let dir = builds.join(key);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bin"), vec![0u8; 4096]).unwrap();
        if complete {
            let marker = dir.join(".perfgate-build-complete");
            std::fs::write(&marker, b"").unwrap();
            let used = SystemTime::now() - Duration::from_secs(age_days * 86_400);
            std::fs::File::options().write(true).open(&marker).unwrap().set_modified(used).unwrap();
        }
    }
    let out = repo.perfgate(&["cache"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("3 build(s)")
            && listing.contains("(unfinished)")
            && listing.contains("used 30d ago")
            && listing.contains("cargo-target: 4.0 KiB (cargo's target dir for cargobench scenarios), built in 1d ago"),
        "{listing}"
    );

    let out = repo.perfgate(&["cache", "prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 2 build(s)"), "{}", text(&out));
    assert!(!builds.join("old").exists() && !builds.join("half").exists());
    assert!(builds.join("fresh/bin").exists() && cargo.exists());

    let out = repo.perfgate(&["cache", "prune", "--older-than", "0s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!builds.join("fresh").exists() && !cargo.exists(), "{}", text(&out));
}
