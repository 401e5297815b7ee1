#!/usr/bin/env python3
"""Instructions vs time on a 1% change, here, every time?

A real Go module in a real git repository (scripts/gomodule.py) whose
second commit makes BenchmarkWork do 1% more loop rounds. Runs `perfgate
compare` with default flags (sequential rounds until settled) on
BenchmarkWork with `measure = "instructions"`:

  ab   base vs +1% Work: regressed, exit 1;
  aa   base vs base: unchanged, exit 0;
  both one run with measure = ["time", "instructions"] and --max-time 90s,
       to put the two measures of the same pair side by side.

Prints one line per run and a summary for the README.

    python3 scripts/instructions-check.py [--ab 5] [--aa 5] [--both 1]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gomodule  # noqa: E402

SCENARIO = """name = "counts"

[[scenario]]
name = "bench"
kind = "gobench"
bench = "{bench}"
measure = {measure}
"""

PERFGATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "perfgate")


def run(repo, base, cand, extra, out):
    started = time.monotonic()
    p = subprocess.run(
        [PERFGATE, "compare", "--scenario", "perf.toml", "--baseline", base, "--candidate", cand, "--out", out, *extra],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    with open(os.path.join(out, "results.json")) as f:
        r = json.load(f)
    rows = {(c["benchmark"], c["metric"]): c for c in r["comparisons"]}
    return p.returncode, wall, r, rows


def line(kind, i, code, wall, r, rows, metrics):
    cells = []
    for (bench, metric), c in sorted(rows.items()):
        if metric in metrics:
            lo, hi = c.get("delta_ci_low_pct"), c.get("delta_ci_high_pct")
            ci = f"[{lo:+.2f}, {hi:+.2f}]" if lo is not None else "[—]"
            cells.append(f"{bench} {metric} {c['delta_pct']:+.2f}% {ci} {c['verdict']}")
    print(f"{kind} {i}: exit {code}, {r['run']['rounds']} rounds, {wall:.0f}s — " + "; ".join(cells), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ab", type=int, default=5)
    ap.add_argument("--aa", type=int, default=5)
    ap.add_argument("--both", type=int, default=1)
    ap.add_argument("--bench", default="Work", help="-test.bench pattern (Map and Sort allocate: noisier counts)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        base, cand = gomodule.make_repo(repo, [100_000, 101_000], SCENARIO.format(bench=a.bench, measure='"instructions"'))
        summary = {"ab": [], "aa": []}
        for kind, n, pair in (("ab", a.ab, (base, cand)), ("aa", a.aa, (base, base))):
            for i in range(n):
                code, wall, r, rows = run(repo, *pair, [], os.path.join(tmp, f"{kind}{i}"))
                line(kind, i + 1, code, wall, r, rows, {"instructions/op"})
                work = rows.get(("Work", "instructions/op"), {})
                others = [c["verdict"] for (b, m), c in rows.items() if m == "instructions/op" and b != "Work"]
                summary[kind].append((code, wall, work.get("verdict"), work.get("delta_pct"), others))
        with open(os.path.join(repo, "perf.toml"), "w") as f:
            f.write(SCENARIO.format(bench=a.bench, measure='["time", "instructions"]'))
        for i in range(a.both):
            code, wall, r, rows = run(repo, base, cand, ["--max-time", "90s"], os.path.join(tmp, f"both{i}"))
            line("both", i + 1, code, wall, r, rows, {"instructions/op", "ns/op"})
        for kind, runs in summary.items():
            if not runs:
                continue
            walls = [w for _, w, _, _, _ in runs]
            verdicts = [v for _, _, v, _, _ in runs]
            deltas = [d for _, _, _, d, _ in runs if d is not None]
            others = [v for *_, o in runs for v in o]
            print(
                f"{kind}: n={len(runs)}; Work: {verdicts.count('regressed')} regressed, "
                f"{verdicts.count('unchanged')} unchanged, delta {min(deltas):+.2f}..{max(deltas):+.2f}%; "
                f"others: {others.count('unchanged')}/{len(others)} unchanged; "
                f"wall median {statistics.median(walls):.0f}s (range {min(walls):.0f}-{max(walls):.0f}s)"
            )


if __name__ == "__main__":
    main()
