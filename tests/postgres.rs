//! The managed PostgreSQL cluster (`target::postgres`) against Debian's real
//! PostgreSQL: initdb, a server on a Unix socket with pg_stat_statements
//! preloaded, a template that set-up fills, a fresh copy per round, and
//! nothing left when it stops. CI installs PostgreSQL (.ci/run) and must
//! not skip; elsewhere a missing one skips loudly.

mod common;

use perfgate::target::postgres::{self, Cluster, TEMPLATE_DB};

fn pg() -> Option<postgres::PgBin> {
    match postgres::locate() {
        Ok(b) => Some(b),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "CI must have PostgreSQL (.ci/run installs it): {e}");
            eprintln!("\n*** SKIPPED: {e} ***\n");
            None
        }
    }
}

/// Rounds start equal: what a round writes is gone in the next round's
/// copy of the template; the statistics extension works; stopping leaves
/// no server and no directory.
#[test]
fn a_cluster_copies_its_template_per_round_and_leaves_nothing() {
    let Some(bin) = pg() else { return };
    let base = std::env::temp_dir().join(format!("perfgate-pg-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let settings = vec![("pg_stat_statements.track".to_string(), "all".to_string())];
    let mut cluster = Cluster::start(&bin, &base, &settings, &["pg_stat_statements"]).unwrap();
    assert!(cluster.version().contains("PostgreSQL"));
    cluster.create_template().unwrap();
    cluster.psql(TEMPLATE_DB, "CREATE TABLE points (id int PRIMARY KEY, v float8)").unwrap();
    cluster.psql(TEMPLATE_DB, "INSERT INTO points SELECT i, i * 0.5 FROM generate_series(1, 1000) i").unwrap();
    cluster.psql(TEMPLATE_DB, "CREATE EXTENSION pg_stat_statements").unwrap();

    for round in 0..3 {
        let url = cluster.fresh_round_db().unwrap();
        assert!(url.starts_with("postgresql:///perfgate?host="), "{url}");
        assert_eq!(cluster.psql("perfgate", "SELECT count(*) FROM points").unwrap(), "1000", "round {round}");
        cluster.psql("perfgate", "DELETE FROM points WHERE id <= 500").unwrap();
        cluster.psql("perfgate", "SELECT pg_stat_statements_reset()").unwrap();
        for _ in 0..3 {
            cluster.psql("perfgate", "SELECT v FROM points WHERE id = 700").unwrap();
        }
        let calls = cluster
            .psql("perfgate", "SELECT calls FROM pg_stat_statements WHERE query LIKE 'SELECT v FROM points%'")
            .unwrap();
        assert_eq!(calls, "3", "round {round}: the statement counted per call");
    }
    let server_pids = || {
        let out = std::process::Command::new("pgrep").args(["-f", &base.display().to_string()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert!(!server_pids().is_empty(), "the server runs from its directory");
    cluster.stop();
    assert_eq!(server_pids(), "", "no server left");
    assert!(!base.exists(), "the cluster's directory is removed");
}

/// A directory without PostgreSQL's programs is an error saying how to
/// install it.
#[test]
fn a_missing_postgresql_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let err = postgres::locate_in(empty.path()).unwrap_err();
    assert!(err.contains("apt-get install postgresql") && err.contains("has no initdb"), "{err}");
}

/// `[target.postgres]` end to end: `perfgate compare` starts a cluster per
/// variant, runs `setup` once into the template, and every trial of a
/// command scenario sees a fresh copy (set-up's 100 rows, never a previous
/// trial's insert); after the run no server is left. A failing set-up is
/// exit 3 naming it, and leaves no server either.
#[test]
fn compare_gives_every_trial_a_fresh_copy_of_the_set_up_database() {
    let Some(_) = pg() else { return };
    let repo = common::Repo::new();
    let counts = repo.path().join("counts.txt");
    let scenario = |setup: &str| {
        format!(
            "name = \"pg\"\n\n[target.postgres]\nsetup = \"{setup}\"\nsettings = {{ work_mem = \"8MB\" }}\n\n\
             [[scenario]]\nname = \"rows\"\nkind = \"command\"\n\
             command = \"psql {{pg_url}} -X -q -A -t -v ON_ERROR_STOP=1 -c 'INSERT INTO t VALUES (0)' -c 'SELECT count(*) FROM t' >> {}\"\n",
            counts.display()
        )
    };
    let setup = "psql {pg_url} -X -q -v ON_ERROR_STOP=1 -c 'CREATE TABLE t (id int)' -c 'INSERT INTO t SELECT generate_series(1, 100)'";
    repo.write("perf.toml", &scenario(setup));
    repo.commit_all("base");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--candidate", "HEAD", "--rounds", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let seen = std::fs::read_to_string(&counts).unwrap();
    assert_eq!(seen.lines().collect::<Vec<_>>(), vec!["101"; 6], "every trial starts from set-up's 100 rows");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("database: managed postgres (PostgreSQL)"), "{stderr}");
    assert_eq!(servers_of(&repo), "", "no server left after the run");

    repo.write("perf.toml", &scenario("psql {pg_url} -X -v ON_ERROR_STOP=1 -c 'SELECT * FROM missing'"));
    repo.commit_all("broken set-up");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--candidate", "HEAD", "--rounds", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", common::text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("[target.postgres] setup failed") && stderr.contains("missing"), "{stderr}");
    assert_eq!(servers_of(&repo), "", "no server left after a failed set-up");

    let o = common::perfgate_cmd(repo.path(), &["compare", "--scenario", "perf.toml", "--candidate", "HEAD"])
        .env("PERFGATE_PG_BINDIR", "/nonexistent/pg/bin")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("apt-get install postgresql"), "{}", common::text(&o));
}

/// `postgres` server processes started by perfgate (their data lives in a
/// `pg-<file>-<role>-<pid>` directory).
fn servers_of(_repo: &common::Repo) -> String {
    let out = std::process::Command::new("pgrep")
        .args(["-af", "postgres -D .*/pg-[0-9]+-(baseline|candidate)-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `[target.postgres]` is checked where it is written.
#[test]
fn postgres_settings_are_validated() {
    let repo = common::Repo::new();
    let tail = "\n[[scenario]]\nname = \"s\"\nkind = \"command\"\ncommand = \"true\"\n";
    let cases = [
        ("url = \"mysql://x\"\n", "must start with postgresql://"),
        ("url = \"postgresql://u@127.0.0.1/db\"\nsetup = \"true\"\n", "remove `setup` and `settings`"),
        ("setup = \" \"\n", "setup must not be empty"),
        ("settings = { \"bad name\" = \"1\" }\n", "is not a PostgreSQL setting name"),
        ("user = \"x\"\n", "unknown field `user`"),
    ];
    for (body, want) in cases {
        common::assert_refused(
            &repo,
            &format!("name = \"v\"\n\n[target.postgres]\n{body}{tail}"),
            &[("", want)],
            "perf.toml:",
        );
    }
}
