//! The build stage (DESIGN §2): each variant checked out (git worktree,
//! snapshot or patch) and every scenario made ready to run for it — test
//! binaries and targets built once, cached by tree + command + toolchain —
//! before any round is measured, so a build failure costs no rounds.

use crate::config;
use crate::model::Role;
use crate::plan::Plan;
use crate::target::postgres::Database;
use crate::variant::build_cache::BuildCache;
use crate::variant::{Repo, Resolved, VariantError};
use crate::workload::{self, BuildNote, Prepared, VariantContext, WorkloadError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Every scenario prepared for each variant measured: `prepared[i][slot]`
/// is scenario i for the baseline (slot 0) and the candidate (slot 1).
pub struct Builds {
    pub prepared: Vec<[Option<Prepared>; 2]>,
    /// `[target.postgres]` databases; a managed one stops when the last
    /// reference goes (after the prepared scenarios that hold one).
    pub databases: Vec<Arc<Database>>,
}

impl Builds {
    /// Releases what prepared scenarios hold (targets kept across rounds).
    pub fn finish(&mut self) {
        for pair in &mut self.prepared {
            for p in pair.iter_mut().flatten() {
                workload::finish(p);
            }
        }
    }
}

/// Why the build stage stopped, and where.
pub struct BuildError {
    pub scenario: String,
    pub role: Role,
    pub error: Failure,
}

pub enum Failure {
    Variant(VariantError),
    Workload(WorkloadError),
}

/// Above this, each run says how large the build cache is and how to prune it.
const CACHE_NOTE_BYTES: u64 = 5 << 30;

/// Checks out `variants` and prepares every scenario of the plan for each.
pub fn run(plan: &Plan, repo: &Repo, variants: &[&Resolved], logs: &Path) -> Result<Builds, BuildError> {
    let cache = BuildCache::new(repo.state_dir().join("builds"));
    let cached = cache.size();
    if cached > CACHE_NOTE_BYTES {
        crate::note!(
            "the build cache ({}) holds {}; `perfgate cache prune` removes builds unused for 14 days",
            repo.state_dir().join("builds").display(),
            crate::variant::build_cache::human_size(cached)
        );
    }
    let build_timeout = workload::build_timeout().map_err(|m| BuildError {
        scenario: String::new(),
        role: crate::model::Role::Baseline,
        error: Failure::Workload(WorkloadError::Invalid { scenario: "(environment)".into(), message: m }),
    })?;
    let started = Instant::now();
    let mut checkouts: Vec<(&Resolved, PathBuf)> = Vec::new();
    for v in variants {
        let checkout = repo.materialize(v).map_err(|e| BuildError {
            scenario: String::new(),
            role: v.role,
            error: Failure::Variant(e),
        })?;
        checkouts.push((v, checkout));
    }
    // One line per build, however many scenarios share it.
    let mut announced = std::collections::BTreeSet::new();
    let mut prepared = Vec::new();
    let mut databases: Databases = Vec::new();
    for i in 0..plan.scenarios.len() {
        let scenario = plan.scenario(i);
        let mut pair: [Option<Prepared>; 2] = [None, None];
        for (v, checkout) in &checkouts {
            let fail = |e| BuildError { scenario: scenario.name.clone(), role: v.role, error: Failure::Workload(e) };
            let mut ctx = VariantContext {
                role: v.role,
                tree: &v.tree,
                checkout,
                cache: &cache,
                logs,
                build_timeout,
                database: None,
            };
            let mut notes: Vec<BuildNote> = Vec::new();
            let target_build = match plan.target(i) {
                Some(t) if !matches!(scenario.kind, config::ScenarioKind::GoBench(_)) => {
                    let b = workload::build_target(t, &ctx).map_err(fail)?;
                    if let Some(b) = &b {
                        notes.push(BuildNote { role: v.role, what: "target".into(), build: b.clone() });
                    }
                    b
                }
                _ => None,
            };
            // After the target's build: set-up may run what it built (`{build}`).
            let place = DbPlace { checkout, build: target_build.as_ref().map(|b| b.dir.as_path()), repo, logs };
            ctx.database = database(plan, i, v.role, &place, &mut databases).map_err(fail)?;
            let p =
                workload::prepare(scenario, plan.target(i), target_build.as_ref(), &ctx, &mut notes, plan.allow_remote)
                    .map_err(fail)?;
            for n in notes {
                if !announced.insert((n.role.as_str(), n.what.clone(), n.build.key.clone())) {
                    continue;
                }
                let how = if n.build.cached { "cached, not rebuilt" } else { "built" };
                crate::note!("{:<9}  {}: {how} ({})", n.role.as_str(), n.what, n.build.key);
            }
            pair[v.role.slot()] = Some(p);
        }
        prepared.push(pair);
    }
    crate::note!("builds ready in {:.1}s", started.elapsed().as_secs_f64());
    Ok(Builds { prepared, databases: databases.into_iter().map(|(_, _, d)| d).collect() })
}

/// Each scenario file's `[target.postgres]` database per variant, made once.
type Databases = Vec<(usize, Role, Arc<Database>)>;

/// The database scenario `i`'s target has for `role`: made ready the first
/// time (a managed cluster in the run's TMPDIR, or `.perfgate/pg/`; set-up
/// run in the target's dir), shared by the file's other scenarios.
/// Where a variant's database is made: its checkout, its target's build
/// (`{build}` in `setup`), the repository (for `.perfgate/pg/`) and the logs.
struct DbPlace<'a> {
    checkout: &'a Path,
    build: Option<&'a Path>,
    repo: &'a Repo,
    logs: &'a Path,
}

fn database(
    plan: &Plan,
    i: usize,
    role: Role,
    place: &DbPlace<'_>,
    made: &mut Databases,
) -> Result<Option<Arc<Database>>, WorkloadError> {
    let DbPlace { checkout, build, repo, logs } = *place;
    let Some(target) = plan.target(i) else { return Ok(None) };
    let Some(pg) = &target.postgres else { return Ok(None) };
    // Benchmarks do not start the target: they get no database.
    if matches!(plan.scenario(i).kind, config::ScenarioKind::GoBench(_) | config::ScenarioKind::CargoBench(_)) {
        return Ok(None);
    }
    let file = plan.scenarios[i].file;
    if let Some((_, _, d)) = made.iter().find(|(f, r, _)| *f == file && *r == role) {
        return Ok(Some(d.clone()));
    }
    let parent = match crate::scope::tmp_dir() {
        Some(t) => t.to_path_buf(),
        None => repo.state_dir().join("pg"),
    };
    std::fs::create_dir_all(&parent)?;
    let base = parent.join(format!("pg-{file}-{role}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = workload::scenario_dir(checkout, target.dir.as_deref().unwrap_or("."));
    let env: Vec<(String, String)> = target.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let log = logs.join(format!("postgres-setup-{role}.log"));
    let db = match &pg.url {
        Some(url) => Database::External(url.clone()),
        None => {
            // Missing PostgreSQL is the set-up's problem, not the run's: exit 2.
            let bin = crate::target::postgres::locate().map_err(|message| WorkloadError::Invalid {
                scenario: plan.scenario(i).name.clone(),
                message: format!("[target.postgres]: {message}"),
            })?;
            crate::note!("{:<9}  starting a throwaway PostgreSQL ...", role.as_str());
            let setup = pg.setup.as_deref().map(|s| workload::substitute(s, build.unwrap_or(checkout), checkout, None));
            let steps = crate::target::postgres::SetUp { setup: setup.as_deref(), dir: &dir, env: &env, log: &log };
            Database::managed(&bin, pg, &base, &steps).map_err(|message| match message.as_str() {
                "interrupted" => WorkloadError::Interrupted,
                _ => WorkloadError::TargetFailed(format!("[target.postgres] for the {role}: {message}")),
            })?
        }
    };
    crate::note!("{:<9}  database: {}", role.as_str(), db.describe());
    let db = Arc::new(db);
    made.push((file, role, db.clone()));
    Ok(Some(db))
}
