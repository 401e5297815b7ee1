# perfgate recipes: thin wrappers over the CLI (`just --list`).

set shell := ["bash", "-euo", "pipefail", "-c"]

perfgate := "cargo run --quiet --release --"

# The demo: HEAD vs HEAD + examples/dashboard/optimize.patch.
demo *ARGS:
    {{perfgate}} compare --scenario scenarios/demo.toml {{ARGS}}

# The demo on PostgreSQL: the dashboard's PostgreSQL store, with the database's own evidence (needs PostgreSQL).
demo-postgres *ARGS:
    {{perfgate}} compare --scenario scenarios/demo-postgres.toml {{ARGS}}

# The Rust example: examples/rustlib at HEAD vs HEAD + its optimize.patch, timed and counted (needs Valgrind).
rust *ARGS:
    {{perfgate}} compare --scenario scenarios/rust.toml {{ARGS}}

# Compare the working tree (or --candidate/--patch) against HEAD on the given scenario.
bench-compare scenario="scenarios/demo.toml" *ARGS:
    {{perfgate}} compare --scenario {{scenario}} {{ARGS}}

# Check scenario files without running them.
validate *FILES="scenarios/*.toml":
    {{perfgate}} validate {{FILES}}

# Regenerate the JSON Schemas in schemas/ from the Rust types (tests/schemas.rs fails when they drift).
schemas:
    {{perfgate}} schema results > schemas/results.schema.json
    {{perfgate}} schema scenario > schemas/scenario.schema.json

# Compare two Go benchmark files like benchstat.
benchstat old new *ARGS:
    {{perfgate}} benchstat {{old}} {{new}} {{ARGS}}

# The test suite (what CI runs).
test:
    cargo test

# Criterion benchmarks of perfgate's own hot paths.
bench:
    cargo bench --bench benchstat --bench profile --bench report --bench history

# Nightly: HEAD against the last nightly, recorded in reports/history.sqlite; exit 1 on a regression or a drift.
nightly *ARGS="--scenario scenarios/demo.toml":
    {{perfgate}} nightly {{ARGS}}

# Re-render a stored run (terminal table; report.html and brief.md next to it, or --out DIR, or --format md|html|json).
report results="reports/latest/results.json" *ARGS:
    {{perfgate}} report {{results}} {{ARGS}}

# perfgate benchstat vs the real benchstat on a large input, side by side.
bench-vs-benchstat:
    bash scripts/bench-vs-benchstat.sh

# perfgate profile top vs go tool pprof -top on the same ~10 MB profile, side by side (RUNS).
profile-vs-pprof runs="3":
    bash scripts/profile-vs-pprof.sh {{runs}}

# Format and lint.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# perfgate load vs wrk vs oha against the same Go hello server, side by side (CONNS SECONDS ROUNDS).
load-vs-wrk *ARGS="32 10 5":
    bash scripts/load-vs-wrk.sh {{ARGS}}

# Verdicts of default (sequential) runs on a real Go module: +10%, +5%, A/A, A/A beside a noisy neighbour (~30 min).
verdict-rates *ARGS:
    cargo build --release --quiet
    python3 scripts/verdict-rates.py {{ARGS}}

# How noisy a pair of trials is per way of running a gobench suite (per benchmark or whole suite, 30 or 100 ms).
pair-noise *ARGS:
    cargo build --release --quiet
    python3 scripts/pair-noise.py {{ARGS}}

# Instructions vs time on a real Go module made 1% slower: 5 A/B and 5 A/A default runs counted under Valgrind (~20 min).
instructions-check *ARGS:
    cargo build --release --quiet
    python3 scripts/instructions-check.py {{ARGS}}
