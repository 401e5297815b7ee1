//! `perfgate history list|show|trend|export`: reads the nightly history (written by
//! `perfgate nightly`) as a table, JSON or CSV — the runs, each metric's
//! series with its change points, or every night of every metric.

use super::{CliError, EXIT_OK};
use crate::history::changepoint;
use crate::history::{ExportError, ExportRow, HistoryError, HistoryStore, Location, MetricHistory, StoredRun};
use crate::model::{Better, Verdict};
use crate::report::format::{format_ci_halfwidth, format_value, signed};
use comfy_table::{Cell, CellAlignment, Color, Table, presets};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: HistoryCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum HistoryCommand {
    /// The recorded runs, oldest first.
    List {
        #[command(flatten)]
        db: Db,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Each metric across the nights: its latest value, last night's change and its change points.
    Show {
        #[command(flatten)]
        db: Db,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Only metrics whose "scenario/benchmark/metric" contains FILTER.
        #[arg(long, value_name = "FILTER")]
        metric: Option<String>,
        /// Change points: largest t-test p-value accepted.
        #[arg(long, value_name = "P", default_value_t = changepoint::Options::default().max_pvalue)]
        max_pvalue: f64,
        /// Change points: smallest change of the mean, e.g. 2%.
        #[arg(long, value_name = "PCT", value_parser = crate::config::parse_percent, default_value = "2%")]
        min_magnitude: f64,
    },
    /// Write trend.html from the history now (safe while a nightly is recording).
    Trend {
        #[command(flatten)]
        db: Db,
        /// Where to write it.
        #[arg(long, value_name = "FILE", default_value = "reports/trend.html")]
        out: PathBuf,
        /// The scenario set (scenario names joined by ","), when the history holds several.
        #[arg(long, value_name = "SET")]
        scenarios: Option<String>,
        /// Drift: smallest chained change worth flagging, e.g. 2%.
        #[arg(long, value_name = "PCT", value_parser = crate::config::parse_percent, default_value = "2%")]
        threshold: f64,
        /// Change points: largest t-test p-value accepted.
        #[arg(long, value_name = "P", default_value_t = changepoint::Options::default().max_pvalue)]
        max_pvalue: f64,
        /// Change points: smallest change of the mean, e.g. 2%.
        #[arg(long, value_name = "PCT", value_parser = crate::config::parse_percent, default_value = "2%")]
        min_magnitude: f64,
    },
    /// Every night of every metric, one row each, for spreadsheets and scripts.
    Export {
        #[command(flatten)]
        db: Db,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
    },
    /// Copy every run of one history into another, e.g. SQLite into a shared PostgreSQL.
    Migrate {
        /// The history to copy (a SQLite file or a postgresql:// URL).
        #[arg(long, value_name = "DB")]
        from: Location,
        /// Where to copy it: created if missing; may hold only runs of an earlier copy.
        #[arg(long, value_name = "DB")]
        to: Location,
    },
}

#[derive(clap::Args, Debug)]
pub struct Db {
    /// The history `perfgate nightly` writes: a SQLite file or a postgresql:// URL.
    #[arg(long, value_name = "DB", env = "PERFGATE_HISTORY", default_value = "reports/history.sqlite")]
    pub history: Location,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

pub fn run(args: HistoryArgs) -> Result<i32, CliError> {
    match args.command {
        HistoryCommand::List { db, format } => {
            let history = open(&db)?;
            let runs = history.runs(None).map_err(history_error)?;
            print(&render_list(&runs, format))
        }
        HistoryCommand::Show { db, format, metric, max_pvalue, min_magnitude } => {
            if !(max_pvalue > 0.0 && max_pvalue < 1.0) {
                return Err(CliError::bad_input(anyhow::anyhow!(
                    "--max-pvalue must be between 0 and 1, got {max_pvalue}"
                )));
            }
            let opts = changepoint::Options { max_pvalue, min_magnitude };
            let history = open(&db)?;
            let mut shown = Vec::new();
            for set in history.scenario_sets().map_err(history_error)? {
                for series in history.series(&set).map_err(history_error)? {
                    let name = format!("{}/{}/{}", series.scenario, series.benchmark, series.metric);
                    if metric.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
                        continue;
                    }
                    shown.push(MetricHistory::new(&set, series, &opts, min_magnitude));
                }
            }
            if shown.is_empty() && format == Format::Text {
                let why = match &metric {
                    Some(f) => format!("no metric matches {f:?}"),
                    None => "no complete nights in the history yet".into(),
                };
                crate::note!("{why} ({})", db.history);
                return Ok(EXIT_OK);
            }
            print(&render_show(&shown, format))
        }
        HistoryCommand::Export { db, format } => {
            let history = open(&db)?;
            export(history.as_ref(), format)
        }
        HistoryCommand::Migrate { from, to } => migrate(&from, &to),
        HistoryCommand::Trend { db, out, scenarios, threshold, max_pvalue, min_magnitude } => {
            let history = open(&db)?;
            let set = match scenarios {
                Some(set) => set,
                None => {
                    let sets = history.scenario_sets().map_err(history_error)?;
                    match sets.as_slice() {
                        [one] => one.clone(),
                        [] => return Err(CliError::bad_input(anyhow::anyhow!("the history holds no run yet"))),
                        many => {
                            return Err(CliError::bad_input(anyhow::anyhow!(
                                "the history holds several scenario sets; pick one with --scenarios: {}",
                                many.join(" | ")
                            )));
                        }
                    }
                }
            };
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let absolute = |p: &std::path::Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
            let out = absolute(&out);
            let out_dir = out.parent().map(std::path::Path::to_path_buf).unwrap_or_else(|| cwd.clone());
            // Report paths are relative to the history file's directory, or
            // (a server's history) to where the reports are: the working directory's reports/.
            let db_dir = match db.history.under(&cwd).directory() {
                Some(d) => d.to_path_buf(),
                None => cwd.join("reports"),
            };
            let change = changepoint::Options { max_pvalue, min_magnitude };
            let found = crate::nightly::trend(history.as_ref(), &set, &db_dir, &out_dir, &change, threshold)
                .map_err(history_error)?;
            if found.nights == 0 {
                return Err(CliError::bad_input(anyhow::anyhow!(
                    "no complete run for scenarios {set:?} in the history"
                )));
            }
            std::fs::create_dir_all(&out_dir)
                .and_then(|_| crate::report::json::write_atomically(&out, found.html.as_bytes()))
                .map_err(|e| CliError::run_failed(anyhow::anyhow!("cannot write {}: {e}", out.display())))?;
            crate::out!(
                "{}: {} night(s), {} recent change point(s), {} drift(s) reaching the newest night\n",
                out.display(),
                found.nights,
                found.change_points.len(),
                found.drifts.len()
            );
            Ok(EXIT_OK)
        }
    }
}

fn open(db: &Db) -> Result<Box<dyn HistoryStore>, CliError> {
    db.history.open_existing().map_err(history_error)
}

/// A history that is missing or not one is the user's input; a database
/// that fails while being read is not.
fn history_error(e: HistoryError) -> CliError {
    if e.is_bad_input() { CliError::bad_input(e) } else { CliError::run_failed(e) }
}

fn migrate(from: &Location, to: &Location) -> Result<i32, CliError> {
    if from == to {
        return Err(CliError::bad_input(anyhow::anyhow!("--from and --to are the same history ({from})")));
    }
    let source = from.open_existing().map_err(history_error)?;
    let mut target = to.open().map_err(history_error)?;
    let done = crate::history::migrate::migrate(source.as_ref(), target.as_mut(), &mut |r| {
        crate::note!("copied run {} ({}, {})", r.run_id, r.scenario_set, r.started_at)
    })
    .map_err(|e| match e {
        crate::history::migrate::MigrateError::History(e) => history_error(e),
        e => CliError::bad_input(e),
    })?;
    crate::out!(
        "{} run(s) copied from {from} to {to} ({} samples); {} already there\n",
        done.copied,
        done.samples,
        done.skipped
    );
    Ok(EXIT_OK)
}

fn print(text: &str) -> Result<i32, CliError> {
    crate::out!("{text}");
    Ok(EXIT_OK)
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `2026-01-02 02:00` (UTC) for the table; the stored text if it is not a timestamp.
fn when(started_at: &str) -> String {
    started_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| started_at.to_string())
}

fn table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if crate::report::terminal::color_enabled() {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(header);
    t
}

fn colored(text: String, bad: Option<bool>) -> Cell {
    match bad {
        Some(true) => Cell::new(text).fg(Color::Red),
        Some(false) => Cell::new(text).fg(Color::Green),
        None => Cell::new(text),
    }
}

fn render_list(runs: &[StoredRun], format: Format) -> String {
    match format {
        Format::Json => json(&runs),
        Format::Csv => {
            let mut out = csv_row([
                "id",
                "run_id",
                "started_at",
                "finished_at",
                "revision",
                "commit",
                "tree",
                "baseline_commit",
                "scenario_set",
                "machine",
                "status",
                "improved",
                "regressed",
                "report_dir",
            ]);
            for r in runs {
                out.push_str(&csv_row([
                    &r.id.to_string(),
                    &r.run_id,
                    &r.started_at,
                    &r.finished_at,
                    &r.revision,
                    &r.commit,
                    &r.tree,
                    r.baseline_commit.as_deref().unwrap_or(""),
                    &r.scenario_set,
                    &r.machine,
                    &r.status,
                    &r.improved.to_string(),
                    &r.regressed.to_string(),
                    &r.report_dir,
                ]));
            }
            out
        }
        Format::Text => {
            if runs.is_empty() {
                return "no runs in the history yet\n".into();
            }
            // The scenarios column only says something when there are several sets.
            let sets = runs.iter().any(|r| r.scenario_set != runs[0].scenario_set);
            let mut header =
                vec!["id", "started (UTC)", "revision", "commit", "against", "status", "improved", "regressed"];
            if sets {
                header.push("scenarios");
            }
            header.push("report");
            let mut t = table(header);
            for r in runs {
                let mut row = vec![
                    Cell::new(r.id).set_alignment(CellAlignment::Right),
                    Cell::new(when(&r.started_at)),
                    Cell::new(&r.revision),
                    Cell::new(short(&r.commit)),
                    Cell::new(r.baseline_commit.as_deref().map(short).unwrap_or("first night")),
                    colored(r.status.clone(), (r.status != "complete").then_some(true)),
                    colored(r.improved.to_string(), (r.improved > 0).then_some(false))
                        .set_alignment(CellAlignment::Right),
                    colored(r.regressed.to_string(), (r.regressed > 0).then_some(true))
                        .set_alignment(CellAlignment::Right),
                ];
                if sets {
                    row.push(Cell::new(&r.scenario_set));
                }
                row.push(Cell::new(&r.report_dir));
                t.add_row(row);
            }
            format!("{t}\n{} runs\n", runs.len())
        }
    }
}

fn render_show(shown: &[MetricHistory], format: Format) -> String {
    match format {
        Format::Json => json(&shown),
        Format::Csv => {
            let mut out = csv_row([
                "scenario_set",
                "scenario",
                "benchmark",
                "metric",
                "unit",
                "better",
                "nights",
                "latest_run",
                "latest_commit",
                "latest_median",
                "latest_ci_low",
                "latest_ci_high",
                "latest_delta_pct",
                "latest_verdict",
                "change_points",
                "last_change_from",
                "last_change_to",
                "last_change_pct",
                "last_change_p_value",
            ]);
            for m in shown {
                let p = m.latest();
                let c = m.change_points.last();
                out.push_str(&csv_row([
                    &m.scenario_set,
                    &m.series.scenario,
                    &m.series.benchmark,
                    &m.series.metric,
                    &m.series.unit,
                    better_str(m.series.better),
                    &m.series.points.len().to_string(),
                    &opt(p.map(|p| p.run)),
                    p.map(|p| p.commit.as_str()).unwrap_or(""),
                    &num(p.map(|p| p.median)),
                    &num(p.and_then(|p| p.ci_low)),
                    &num(p.and_then(|p| p.ci_high)),
                    &num(p.and_then(|p| p.delta_pct)),
                    p.and_then(|p| p.verdict).map(Verdict::as_str).unwrap_or(""),
                    &m.change_points.len().to_string(),
                    c.map(|c| c.from_commit.as_str()).unwrap_or(""),
                    c.map(|c| c.to_commit.as_str()).unwrap_or(""),
                    &num(c.map(|c| c.magnitude_pct)),
                    &num(c.map(|c| c.p_value)),
                ]));
            }
            out
        }
        Format::Text => {
            let mut out = String::new();
            let mut sets: Vec<&str> = shown.iter().map(|m| m.scenario_set.as_str()).collect();
            sets.dedup();
            for set in sets {
                out.push_str(&format!("scenarios {set}\n"));
                let mut t = table(vec!["metric", "nights", "latest", "last night", "change points"]);
                for m in shown.iter().filter(|m| m.scenario_set == set) {
                    let Some(p) = m.latest() else { continue };
                    let latest = format!(
                        "{} {}",
                        format_value(p.median, &m.series.unit),
                        format_ci_halfwidth(p.median, p.ci_low, p.ci_high)
                    );
                    let (last, bad) = match (p.delta_pct, p.verdict) {
                        (Some(d), Some(v)) => {
                            let ci = match (p.delta_ci_low_pct, p.delta_ci_high_pct) {
                                (Some(lo), Some(hi)) => format!(" [{}, {}]", signed(lo, 1), signed(hi, 1)),
                                _ => " [±∞]".into(),
                            };
                            let bad = match v {
                                Verdict::Regressed => Some(true),
                                Verdict::Improved => Some(false),
                                _ => None,
                            };
                            (format!("{}%{ci} {}", signed(d, 1), v.as_str()), bad)
                        }
                        _ => ("first night".into(), None),
                    };
                    let changes: Vec<String> = m
                        .change_points
                        .iter()
                        .map(|c| {
                            format!(
                                "{}..{} {}% (p {:.1e})",
                                short(&c.from_commit),
                                short(&c.to_commit),
                                signed(c.magnitude_pct, 1),
                                c.p_value
                            )
                        })
                        .collect();
                    let any_bad = m.change_points.last().map(|c| c.regressed);
                    t.add_row(vec![
                        Cell::new(m.name()),
                        Cell::new(m.series.points.len()).set_alignment(CellAlignment::Right),
                        Cell::new(latest).set_alignment(CellAlignment::Right),
                        colored(last, bad).set_alignment(CellAlignment::Right),
                        colored(if changes.is_empty() { "-".into() } else { changes.join("\n") }, any_bad),
                    ]);
                }
                out.push_str(&format!("{t}\n\n"));
            }
            let with = shown.iter().filter(|m| !m.change_points.is_empty()).count();
            out.push_str(&format!("{} metrics, {with} with change points\n", shown.len()));
            out
        }
    }
}

/// Streams every row to stdout: a long history is never held in memory.
fn export(history: &dyn HistoryStore, format: ExportFormat) -> Result<i32, CliError> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut first = true;
    let result = match format {
        ExportFormat::Csv => w
            .write_all(
                csv_row([
                    "run",
                    "started_at",
                    "commit",
                    "scenario",
                    "benchmark",
                    "metric",
                    "unit",
                    "better",
                    "n",
                    "median",
                    "ci_low",
                    "ci_high",
                    "delta_pct",
                    "delta_ci_low_pct",
                    "delta_ci_high_pct",
                    "verdict",
                ])
                .as_bytes(),
            )
            .map_err(ExportError::Write)
            .and_then(|_| {
                history.export(&mut |r: ExportRow| {
                    w.write_all(
                        csv_row([
                            &r.run.to_string(),
                            &r.started_at,
                            &r.commit,
                            &r.scenario,
                            &r.benchmark,
                            &r.metric,
                            &r.unit,
                            better_str(r.better),
                            &r.n.to_string(),
                            &num(Some(r.median)),
                            &num(r.ci_low),
                            &num(r.ci_high),
                            &num(r.delta_pct),
                            &num(r.delta_ci_low_pct),
                            &num(r.delta_ci_high_pct),
                            r.verdict.map(Verdict::as_str).unwrap_or(""),
                        ])
                        .as_bytes(),
                    )
                })
            }),
        ExportFormat::Json => w
            .write_all(b"[")
            .map_err(ExportError::Write)
            .and_then(|_| {
                history.export(&mut |r: ExportRow| {
                    w.write_all(if first { b"\n  " } else { b",\n  " })?;
                    first = false;
                    serde_json::to_writer(&mut w, &r).map_err(std::io::Error::other)
                })
            })
            .and_then(|_| w.write_all(b"\n]\n").map_err(ExportError::Write)),
    }
    .and_then(|_| w.flush().map_err(ExportError::Write));
    match result {
        Ok(()) => Ok(EXIT_OK),
        // `perfgate history export | head`: the reader had enough.
        Err(ExportError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(ExportError::Write(e)) => Err(CliError::run_failed(anyhow::anyhow!("cannot write the export: {e}"))),
        Err(ExportError::History(e)) => Err(history_error(e)),
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"cannot serialize: {e}\""));
    s.push('\n');
    s
}

fn better_str(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
    }
}

/// Empty for none.
fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Empty for none; the shortest text that reads back as the same number,
/// with an exponent for tiny p-values (`2.1e-13`, not 28 digits).
fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:?}")).unwrap_or_default()
}

/// One CSV record (RFC 4180): fields holding a comma, quote or line break
/// are quoted, quotes doubled — benchmark names can hold any of them.
fn csv_row<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A benchmark name such as `=HYPERLINK(...)` must stay text in a
        // spreadsheet: prefix it with `'` (numbers like -3.2 stay numbers).
        let guarded;
        let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) && f.parse::<f64>().is_err() {
            guarded = format!("'{f}");
            guarded.as_str()
        } else {
            f
        };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_row(["a", "b c", ""]), "a,b c,\n");
        assert_eq!(csv_row(["x,y", "say \"hi\"", "two\nlines"]), "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_as_formulas_stay_text() {
        assert_eq!(
            csv_row(["=HYPERLINK(\"http://x\")", "+1+2", "@SUM(A1)", "-cmd"]),
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+1+2,'@SUM(A1),'-cmd\n"
        );
        assert_eq!(csv_row(["-3.25", "+4", "1e-9", "-inf"]), "-3.25,+4,1e-9,-inf\n");
    }
}
