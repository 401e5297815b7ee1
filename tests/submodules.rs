//! A repository with a submodule: each variant's checkout gets the
//! submodule at the commit the variant records (run as a registered,
//! time-limited process group).

mod common;

use common::{Repo, text};

#[test]
fn variants_check_out_their_own_submodule_commits() {
    let lib = Repo::new();
    lib.write("value.txt", "one\n");
    lib.commit_all("one");
    let repo = Repo::new();
    let file_ok = ["-c", "protocol.file.allow=always"];
    let url = lib.path().display().to_string();
    repo.git(&[file_ok[0], file_ok[1], "submodule", "add", "--quiet", &url, "lib"]);
    repo.write(
        "perf.toml",
        "name = \"sub\"\n\n[[scenario]]\nname = \"read\"\nkind = \"command\"\ncommand = \"grep -q one lib/value.txt\"\n",
    );
    repo.commit_all("with lib at one");
    let out = common::perfgate_cmd(repo.path(), &["compare", "--scenario", "perf.toml", "--rounds", "2"])
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    for role in ["baseline", "candidate"] {
        let value = std::fs::read_to_string(repo.path().join(format!(".perfgate/worktrees/{role}/lib/value.txt")));
        assert_eq!(value.unwrap_or_default(), "one\n", "{role}: {}", text(&out));
    }
    // No log left behind by a successful update.
    let tmp = repo.path().join(".perfgate/tmp");
    assert!(!tmp.read_dir().map(|mut d| d.next().is_some()).unwrap_or(false));
}
