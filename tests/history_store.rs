//! The history's contract, run on both stores: SQLite (a file) and
//! PostgreSQL (a real server from Debian's packages, started here). Every
//! case runs on each; `history migrate` copies between them both ways; two
//! real `perfgate nightly` processes of one series on PostgreSQL take turns.
//! CI installs PostgreSQL (.ci/run) and must not skip; elsewhere a missing
//! one skips loudly.

mod common;

use perfgate::history::fixture::{new_run, night};
use perfgate::history::migrate::{MigrateError, migrate};
use perfgate::history::{HistoryError, HistoryStore, Location, RunRecord};
use perfgate::model::{Better, Verdict};
use perfgate::target::postgres::{self as pgtarget, Cluster};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The server's tests and the nightly processes share 2 cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn pg() -> Option<pgtarget::PgBin> {
    match pgtarget::locate() {
        Ok(b) => Some(b),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "CI must have PostgreSQL (.ci/run installs it): {e}");
            eprintln!("\n*** SKIPPED: {e} ***\n");
            None
        }
    }
}

/// A throwaway server (stopped and removed when dropped); each case gets a
/// database of its own.
struct Server {
    cluster: Cluster,
    next: usize,
}

impl Server {
    fn start(bin: &pgtarget::PgBin) -> Server {
        let base = std::env::temp_dir().join(format!("perfgate-history-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        Server { cluster: Cluster::start(bin, &base, &[], &[]).unwrap(), next: 0 }
    }

    fn database(&mut self) -> Location {
        self.next += 1;
        let name = format!("history_{}", self.next);
        self.cluster.psql("postgres", &format!("CREATE DATABASE {name}")).unwrap();
        Location::Postgres(self.cluster.url(&name))
    }
}

/// Direct access to the tables, under the store.
fn count(at: &Location, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match at {
        Location::File(p) => rusqlite::Connection::open(p).unwrap().query_row(&sql, [], |r| r.get(0)).unwrap(),
        Location::Postgres(url) => {
            postgres::Client::connect(url, postgres::NoTls).unwrap().query_one(&sql, &[]).unwrap().get(0)
        }
    }
}

fn execute(at: &Location, sql: &str) {
    match at {
        Location::File(p) => rusqlite::Connection::open(p).unwrap().execute_batch(sql).unwrap(),
        Location::Postgres(url) => postgres::Client::connect(url, postgres::NoTls).unwrap().batch_execute(sql).unwrap(),
    }
}

type Case = (&'static str, fn(&Location));

/// Every case of the contract, on the store at `at` (a fresh place each).
fn cases(mut fresh: impl FnMut() -> Location) {
    let cases: [Case; 7] = [
        ("schema", schema),
        ("reads back", reads_back),
        ("series", series),
        ("last run", last_run),
        ("a failing run", failing_run),
        ("series lock", series_lock),
        ("migrate to a file", |at| {
            let dir = tempfile::tempdir().unwrap();
            copies(at, &Location::File(dir.path().join("copy.sqlite")))
        }),
    ];
    for (name, case) in cases {
        eprintln!("case: {name}");
        case(&fresh());
    }
}

#[test]
fn the_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    cases(|| {
        n += 1;
        Location::File(dir.path().join(format!("h{n}/history.sqlite")))
    });
}

#[test]
fn the_contract_holds_on_postgresql_and_histories_move_between_the_two() {
    let Some(bin) = pg() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = Server::start(&bin);
    cases(|| server.database());
    // Both ways across: SQLite → PostgreSQL → SQLite.
    let dir = tempfile::tempdir().unwrap();
    let file = Location::File(dir.path().join("a.sqlite"));
    let db = server.database();
    copies(&file, &db);
    let db2 = server.database();
    copies(&db2, &Location::File(dir.path().join("b.sqlite")));

    // The binary's own verbs: migrate, then every reading verb prints the
    // same on both (ids included: a copy into an empty history keeps them).
    let c = server.database();
    let (Location::File(source), Location::Postgres(url)) = (&file, &c) else { unreachable!() };
    let perfgate = |args: &[&str]| {
        let o = common::perfgate_cmd(dir.path(), args).env("NO_COLOR", "1").output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", common::text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let said = perfgate(&["history", "migrate", "--from", source.to_str().unwrap(), "--to", url]);
    assert!(said.contains("4 run(s) copied") && said.contains("102 samples"), "{said}");
    for verb in [&["list", "--format", "json"][..], &["show", "--format", "json"], &["export", "--format", "csv"]] {
        let on = |db: &str| perfgate(&[&["history"][..], verb, &["--history", db]].concat());
        let (a, b) = (on(source.to_str().unwrap()), on(url));
        assert!(a.len() > 100, "{verb:?}: {a}");
        assert_eq!(a, b, "{verb:?}");
    }
    let again = perfgate(&["history", "migrate", "--from", source.to_str().unwrap(), "--to", url]);
    assert!(again.contains("0 run(s) copied") && again.contains("4 already there"), "{again}");

    // A database that is a history of something else is refused, untouched.
    let other = server.database();
    execute(&other, "CREATE TABLE runs (x int)");
    let e = other.open().unwrap_err();
    assert!(matches!(e, HistoryError::NotHistory(_)), "{e}");
    assert_eq!(count(&other, "runs"), 0);
    // A URL's password never shows in messages.
    let wrong = Location::parse("postgresql://someone:s3cret@127.0.0.1:1/nothing");
    let e = wrong.open().unwrap_err();
    assert!(matches!(e, HistoryError::Connect { .. }), "{e}");
    assert!(!e.to_string().contains("s3cret") && e.to_string().contains("someone:***@"), "{e}");
}

fn schema(at: &Location) {
    let e = at.open_existing().expect_err("nothing there yet");
    assert!(matches!(e, HistoryError::Missing(_)), "{e}");
    assert!(e.to_string().contains("`perfgate nightly` creates it"), "{e}");
    if let Location::File(p) = at {
        assert!(!p.exists(), "a reader must not create the file");
    }
    let mut h = at.open().unwrap();
    h.record(&new_run(&night(1, None, 100.0, 2, 6), "c1", None, "bench")).unwrap();
    drop(h);
    // Opening again migrates nothing and loses nothing.
    assert_eq!(at.open().unwrap().runs(None).unwrap().len(), 1);
    assert_eq!(at.open_existing().unwrap().runs(None).unwrap().len(), 1);
    // A history from a newer perfgate is refused, not rewritten.
    execute(
        at,
        match at {
            Location::File(_) => "PRAGMA user_version = 99",
            Location::Postgres(_) => "UPDATE perfgate_history SET version = 99",
        },
    );
    for e in [at.open().unwrap_err(), at.open_existing().unwrap_err()] {
        assert!(matches!(e, HistoryError::TooNew { found: 99, known: 1, .. }), "{e}");
        assert!(e.to_string().contains("use a newer perfgate"), "{e}");
    }
    assert_eq!(count(at, "runs"), 1);
}

fn reads_back(at: &Location) {
    let mut h = at.open().unwrap();
    let first = night(1, None, 100.0, 3, 8);
    let id1 = h.record(&new_run(&first, "c1", None, "bench")).unwrap();
    let second = night(2, Some(100.0), 150.0, 3, 8);
    let id2 = h.record(&new_run(&second, "c2", Some("c1"), "bench")).unwrap();
    assert!(id2 > id1);
    let runs = h.runs(Some("bench")).unwrap();
    assert_eq!(runs.len(), 2);
    let r = &runs[1];
    assert_eq!(
        (r.id, r.run_id.as_str(), r.revision.as_str(), r.commit.as_str(), r.tree.as_str()),
        (id2, "20260102-020000-bench", "HEAD", "c2", "tree")
    );
    assert_eq!((r.started_at.as_str(), r.finished_at.as_str()), ("2026-01-02T02:00:00Z", "2026-01-02T02:10:00Z"));
    assert_eq!(r.machine, "Test CPU, 2 cores, ci-1");
    assert_eq!((r.scenario_set.as_str(), r.baseline_commit.as_deref()), ("bench", Some("c1")));
    assert_eq!((r.status.as_str(), r.improved, r.regressed), ("complete", 0, 3));
    assert_eq!(runs[0].baseline_commit, None);
    assert_eq!(count(at, "samples"), (3 * 8) + (3 * 8 * 2));
    assert_eq!((count(at, "comparisons"), count(at, "summaries"), count(at, "metrics")), (3, 6, 3));

    // What was recorded is what reads back, to the bit.
    let mut records = Vec::new();
    h.records(&mut |r| {
        records.push(r);
        Ok(())
    })
    .unwrap();
    let expected = [
        RunRecord::new(&new_run(&first, "c1", None, "bench")).unwrap(),
        RunRecord::new(&new_run(&second, "c2", Some("c1"), "bench")).unwrap(),
    ];
    assert_eq!(records, expected);
    // Comparisons as the export shows them; tonight's summary is the candidate's.
    let mut rows = Vec::new();
    h.export(&mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(rows.len(), 6);
    for c in &second.comparisons {
        let row = rows.iter().find(|r| r.run == id2 && r.benchmark == c.benchmark).unwrap();
        assert_eq!((row.delta_pct, row.verdict), (Some(c.delta_pct), Some(c.verdict)));
        assert_eq!(
            (row.median, row.ci_low, row.ci_high),
            (c.candidate.median, c.candidate.ci_low, c.candidate.ci_high)
        );
    }
    assert!(rows.iter().filter(|r| r.run == id1).all(|r| r.verdict.is_none()));
}

fn series(at: &Location) {
    let mut h = at.open().unwrap();
    let nights = [night(1, None, 100.0, 4, 8), night(2, Some(100.0), 100.0, 4, 8), night(3, Some(100.0), 120.0, 4, 8)];
    let mut last: Option<&str> = None;
    for (i, n) in nights.iter().enumerate() {
        let commit = ["c1", "c2", "c3"][i];
        h.record(&new_run(n, commit, last, "bench")).unwrap();
        last = Some(commit);
    }
    // Another scenario set and an interrupted night do not belong.
    h.record(&new_run(&night(4, None, 1.0, 4, 8), "x", None, "other")).unwrap();
    let mut broken = night(5, Some(120.0), 500.0, 4, 8);
    broken.run.status = "interrupted".into();
    h.record(&new_run(&broken, "c4", Some("c3"), "bench")).unwrap();

    let series = h.series("bench").unwrap();
    let names: Vec<&str> = series.iter().map(|s| s.benchmark.as_str()).collect();
    assert_eq!(names, ["BenchmarkQuery/000-2", "BenchmarkQuery/001-2", "BenchmarkQuery/002-2", "BenchmarkQuery/003-2"]);
    for s in &series {
        assert_eq!(
            (s.scenario.as_str(), s.metric.as_str(), s.unit.as_str(), s.better),
            ("bench", "sec/op", "ns/op", Better::Lower)
        );
        let commits: Vec<&str> = s.points.iter().map(|p| p.commit.as_str()).collect();
        assert_eq!(commits, ["c1", "c2", "c3"]);
        assert_eq!((s.points[0].delta_pct, s.points[0].verdict), (None, None));
        assert_eq!(s.points[1].verdict, Some(Verdict::Unchanged), "{:?}", s.points[1]);
        assert_eq!(s.points[2].verdict, Some(Verdict::Regressed));
        let d = s.points[2].delta_pct.unwrap();
        assert!((d - 20.0).abs() < 2.0, "{d}");
        assert!(s.points[2].delta_ci_low_pct.unwrap() < d && d < s.points[2].delta_ci_high_pct.unwrap());
        assert!((s.points[2].median - 120.0).abs() < 1.5);
    }
    assert_eq!(h.series("other").unwrap().len(), 4);
    assert!(h.series("nothing").unwrap().is_empty());
    assert_eq!(h.scenario_sets().unwrap(), ["bench", "other"]);
}

fn last_run(at: &Location) {
    let mut h = at.open().unwrap();
    assert_eq!(h.last_run("a").unwrap(), None);
    let r = night(1, None, 1.0, 1, 6);
    h.record(&new_run(&r, "a1", None, "a")).unwrap();
    let a2 = h.record(&new_run(&r, "a2", Some("a1"), "a")).unwrap();
    h.record(&new_run(&r, "b1", None, "b")).unwrap();
    let mut failed = r.clone();
    failed.run.status = "failed".into();
    h.record(&new_run(&failed, "a3", Some("a2"), "a")).unwrap();
    let last = h.last_run("a").unwrap().unwrap();
    assert_eq!((last.id, last.commit.as_str()), (a2, "a2"));
    assert_eq!(h.last_run("b").unwrap().unwrap().commit, "b1");
    assert_eq!(h.last_run("a,b").unwrap(), None);
    assert_eq!(h.runs(Some("a")).unwrap().len(), 3);
    assert_eq!(h.runs(None).unwrap().len(), 4);
}

fn failing_run(at: &Location) {
    let mut h = at.open().unwrap();
    h.record(&new_run(&night(1, None, 1.0, 3, 6), "c1", None, "bench")).unwrap();
    let before: Vec<i64> = ["runs", "samples", "metrics", "comparisons", "summaries"].map(|t| count(at, t)).to_vec();
    let mut bad = night(2, Some(1.0), 1.0, 5, 6);
    bad.samples.last_mut().unwrap().value = f64::NAN;
    let e = h.record(&new_run(&bad, "c2", Some("c1"), "bench")).unwrap_err();
    assert!(matches!(e, HistoryError::NotANumber { .. }), "{e}");
    assert!(e.to_string().contains("nothing was recorded"), "{e}");
    // A run the database refuses midway (a duplicate sample key, past the
    // run row and the new metrics) is rolled back whole.
    let mut record = RunRecord::new(&new_run(&night(3, Some(1.0), 1.0, 5, 6), "c3", Some("c1"), "bench")).unwrap();
    let dup = record.samples.last().unwrap().clone();
    record.samples.push(dup);
    assert!(h.write(&record).is_err());
    let after: Vec<i64> = ["runs", "samples", "metrics", "comparisons", "summaries"].map(|t| count(at, t)).to_vec();
    assert_eq!(after, before);
    assert_eq!(h.last_run("bench").unwrap().unwrap().commit, "c1");
    // The store goes on working after the failed transaction.
    h.record(&new_run(&night(4, Some(1.0), 1.0, 5, 6), "c4", Some("c1"), "bench")).unwrap();
    assert_eq!(h.last_run("bench").unwrap().unwrap().commit, "c4");
}

/// Two stores on one history: the second waits for the first's series lock
/// (and says so), not for another series', and gets it when the first is dropped.
fn series_lock(at: &Location) {
    let mut first = at.open().unwrap();
    first.lock_series("a,b", &mut || panic!("nobody holds it yet")).unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let waiter = {
        let (at, released) = (at.clone(), released.clone());
        std::thread::spawn(move || {
            let mut second = at.open().unwrap();
            second.lock_series("other", &mut || panic!("another series is free")).unwrap();
            let mut waited = false;
            second
                .lock_series("a,b", &mut || {
                    waited = true;
                    tx.send(()).unwrap();
                })
                .unwrap();
            (waited, released.load(Ordering::SeqCst))
        })
    };
    rx.recv_timeout(Duration::from_secs(30)).expect("the second store waits");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiter.is_finished(), "the lock was taken twice");
    released.store(true, Ordering::SeqCst);
    drop(first);
    let started = Instant::now();
    let (waited, after_release) = waiter.join().unwrap();
    assert!(waited && after_release);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// `from` filled with two scenario sets, copied into `to`, reads the same
/// there; copying again copies nothing; a target with runs of its own is refused.
fn copies(from: &Location, to: &Location) {
    let mut h = from.open().unwrap();
    let mut last: Option<String> = None;
    for (i, level) in [100.0, 100.0, 130.0].into_iter().enumerate() {
        let commit = format!("c{i}");
        let r = night(i as u64 + 1, (i > 0).then_some(100.0), level, 3, 6);
        h.record(&new_run(&r, &commit, last.as_deref(), "bench")).unwrap();
        last = Some(commit);
    }
    h.record(&new_run(&night(7, None, 5.0, 2, 6), "o1", None, "other")).unwrap();
    let all = |s: &dyn HistoryStore| {
        let mut v = Vec::new();
        s.records(&mut |r| {
            v.push(r);
            Ok(())
        })
        .unwrap();
        v
    };
    let mut target = to.open().unwrap();
    let done = migrate(h.as_ref(), target.as_mut(), &mut |_| {}).unwrap();
    assert_eq!((done.copied, done.skipped, done.samples), (4, 0, 2 * 3 * 6 * 3 - 3 * 6 + 2 * 6));
    assert_eq!(all(target.as_ref()), all(h.as_ref()));
    for set in ["bench", "other"] {
        let strip = |s: &dyn HistoryStore| {
            let mut series = s.series(set).unwrap();
            series.iter_mut().flat_map(|s| s.points.iter_mut()).for_each(|p| p.run = 0);
            series
        };
        assert_eq!(strip(target.as_ref()), strip(h.as_ref()));
        assert_eq!(target.last_run(set).unwrap().map(|r| r.commit), h.last_run(set).unwrap().map(|r| r.commit));
    }
    let again = migrate(h.as_ref(), target.as_mut(), &mut |_| panic!("nothing to copy")).unwrap();
    assert_eq!((again.copied, again.skipped), (0, 4));
    // The target gets a night of its own: copying into it now would put
    // older nights after it.
    target.record(&new_run(&night(8, None, 1.0, 1, 6), "t1", None, "bench")).unwrap();
    let e = migrate(h.as_ref(), target.as_mut(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, MigrateError::TargetHasOtherRuns { count: 1, .. }), "{e}");
}

/// Two real nightlies of one series started together on a shared
/// PostgreSQL history: the second waits for the first and runs against it.
/// A nightly killed with SIGKILL while holding the lock releases it (its
/// connection dies with it) and records nothing.
#[test]
fn nightlies_of_one_series_take_turns_on_postgresql() {
    use std::io::BufRead;
    let Some(bin) = pg() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = Server::start(&bin);
    let Location::Postgres(url) = server.database() else { unreachable!() };
    let repo = common::Repo::new();
    repo.write(
        "perf.toml",
        "name = \"turns\"\n\n[compare]\nrounds = 4\n\n[[scenario]]\nname = \"nap\"\nkind = \"command\"\ncommand = \"sleep 0.3\"\n",
    );
    repo.commit_all("one");
    let nightly = |out: &str| {
        let mut cmd = common::perfgate_cmd(repo.path(), &["nightly", "--scenario", "perf.toml", "--out", out]);
        cmd.env("PERFGATE_HISTORY", &url).stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
        cmd.spawn().unwrap()
    };
    /// Reads `child`'s stderr until a line starts with `prefix`; the lines read.
    fn until(lines: &mut impl Iterator<Item = String>, prefix: &str) -> Vec<String> {
        let mut seen = Vec::new();
        for line in lines {
            let done = line.starts_with(prefix) || line.contains(prefix);
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("never saw {prefix:?}:\n{}", seen.join("\n"));
    }

    // A night holding the lock, killed: no cleanup at all.
    let mut killed = nightly("out/killed");
    let mut lines = std::io::BufReader::new(killed.stderr.take().unwrap()).lines().map_while(Result::ok);
    until(&mut lines, "[1/");
    killed.kill().unwrap();
    killed.wait().unwrap();

    // Two at once: the first measures while holding the lock, the second waits.
    let mut first = nightly("out/first");
    let mut first_lines = std::io::BufReader::new(first.stderr.take().unwrap()).lines().map_while(Result::ok);
    until(&mut first_lines, "[1/");
    let mut second = nightly("out/second");
    let mut second_lines = std::io::BufReader::new(second.stderr.take().unwrap()).lines().map_while(Result::ok);
    until(&mut second_lines, "waiting for it");
    let first_rest: Vec<String> = first_lines.collect();
    assert_eq!(first.wait().unwrap().code(), Some(0), "{}", first_rest.join("\n"));
    let second_rest: Vec<String> = second_lines.collect();
    assert_eq!(second.wait().unwrap().code(), Some(0), "{}", second_rest.join("\n"));

    let a = common::read_results(&repo.path().join("out/first/results.json"));
    let b = common::read_results(&repo.path().join("out/second/results.json"));
    assert_eq!(a["nightly"]["nights"], 1, "the first night: the killed one left nothing");
    assert!(a["nightly"]["previous"].is_null());
    assert_eq!(b["nightly"]["nights"], 2);
    assert_eq!(b["nightly"]["previous"]["run_id"], a["run"]["id"], "the second ran against the first");
    assert_eq!(b["variants"].as_array().unwrap().len(), 2, "a paired comparison, not a night alone");
    assert!(!b["nightly"]["history"].to_string().contains("password"));

    let list = common::perfgate_cmd(repo.path(), &["history", "list", "--history", &url, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", common::text(&list));
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(runs[0]["run_id"], a["run"]["id"]);
    assert!(runs[0]["baseline_commit"].is_null());
    assert_eq!(runs[1]["baseline_commit"], runs[0]["commit"]);
    let samples = |r: &serde_json::Value| r["samples"].as_array().unwrap().len() as i64;
    let total: i64 = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .query_one("SELECT count(*) FROM samples", &[])
        .unwrap()
        .get(0);
    assert_eq!(total, samples(&a) + samples(&b), "every sample of both runs, nothing of the killed one");
}
