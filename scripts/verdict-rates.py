#!/usr/bin/env python3
"""Does a default `perfgate compare` call what it should, here, every time?

A real Go module in a real git repository (scripts/gomodule.py) with two
CPU-loop benchmarks; its commits make BenchmarkWork 10% and 5% slower
(BenchmarkOther never changes). Runs `perfgate compare` with default flags
(sequential rounds until settled, 5 minute budget) repeatedly:

  aa      baseline = candidate = the base commit: no verdict may be
          improved or regressed, and the run must end by itself;
  ten     base vs +10% Work: regressed, exit 1;
  five    base vs +5% Work: regressed, exit 1;
  noisy   A/A while a neighbour burns one core in random bursts.

Prints one line per run and a summary (counts, rounds and measurement time
with their spread) for the README's Performance section.

    python3 scripts/verdict-rates.py [--aa 20] [--ten 10] [--five 10] [--noisy 10]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gomodule  # noqa: E402

SCENARIO = """name = "rates"

[[scenario]]
name = "bench"
kind = "gobench"
bench = "(Work|Other)"
benchtime = "100ms"
"""

OTHER = """
func BenchmarkOther(b *testing.B) {
\tfor i := 0; i < b.N; i++ {
\t\tsink += Work(200000)
\t}
}
"""

NEIGHBOUR = """
import random, time
random.seed()
while True:
    time.sleep(random.uniform(0.0, 0.4))
    end = time.time() + random.uniform(0.05, 0.4)
    while time.time() < end:
        pass
"""


def run(perfgate, repo, out, baseline, candidate):
    cmd = [perfgate, "compare", "--scenario", "perf.toml", "--baseline", baseline, "--candidate", candidate, "--out", out]
    started = time.time()
    p = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    wall = time.time() - started
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    r = json.load(open(os.path.join(out, "results.json")))
    work = next(c for c in r["comparisons"] if c["benchmark"].startswith("Work") and c["metric"] == "ns/op")
    called = [
        f"{c['benchmark']} {c['metric']} {c['verdict']}"
        for c in r["comparisons"]
        if c["verdict"] in ("improved", "regressed")
    ]
    return {
        "exit": p.returncode,
        "work": work["verdict"],
        "delta": f"{work['delta_pct']:+.1f}% [{work['delta_ci_low_pct'] or 0:+.1f}, {work['delta_ci_high_pct'] or 0:+.1f}]",
        "called": called,
        "rounds": r["run"]["rounds"],
        "measured": r["stopping"]["measured_s"],
        "reason": r["stopping"]["reason"],
        "wall": wall,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aa", type=int, default=20)
    ap.add_argument("--ten", type=int, default=10)
    ap.add_argument("--five", type=int, default=10)
    ap.add_argument("--noisy", type=int, default=10)
    ap.add_argument("--perfgate", default=os.path.abspath("target/release/perfgate"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="verdict-rates-")
    repo = os.path.join(work, "repo")
    with_other = gomodule.WORK_TEST_GO.rstrip() + "\n" + OTHER
    gomodule.WORK_TEST_GO = with_other
    base, ten, five = gomodule.make_repo(repo, [400000, 440000, 420000], SCENARIO)
    plan = (
        [("aa", base, base)] * args.aa
        + [("ten", base, ten)] * args.ten
        + [("five", base, five)] * args.five
        + [("noisy", base, base)] * args.noisy
    )
    # Interleave the kinds so a slow hour of the machine hits all of them.
    random.Random(1).shuffle(plan)
    results = {}
    for i, (kind, b, c) in enumerate(plan):
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if kind == "noisy" else None
        try:
            r = run(args.perfgate, repo, os.path.join(work, f"out-{i}"), b, c)
        finally:
            if neighbour:
                neighbour.kill()
                neighbour.wait()
        results.setdefault(kind, []).append(r)
        print(
            f"{i + 1:>3}/{len(plan)} {kind:<5} exit {r['exit']} Work {r['work']:<12} {r['delta']:<24} "
            f"{r['rounds']:>4} rounds {r['measured']:>6.1f}s {r['reason']:<10} called: {', '.join(r['called']) or '-'}",
            flush=True,
        )
    print()
    print("| runs | what | Work ns/op verdicts | exit codes | false verdicts | rounds, median (min–max) | measurement, median (min–max) | stopped |")
    print("|---|---|---|---|---|---|---|---|")
    names = {"aa": "A/A", "ten": "Work +10%", "five": "Work +5%", "noisy": "A/A, noisy neighbour"}
    for kind in ("ten", "five", "aa", "noisy"):
        rs = results.get(kind, [])
        if not rs:
            continue
        count = lambda key, f=lambda x: x: ", ".join(
            f"{v} ×{n}" for v, n in sorted({f(r[key]): sum(1 for q in rs if f(q[key]) == f(r[key])) for r in rs}.items())
        )
        false = sum(
            1 for r in rs for c in r["called"] if not (kind in ("ten", "five") and c == "Work-2 ns/op regressed")
        )
        rounds = sorted(r["rounds"] for r in rs)
        secs = sorted(r["measured"] for r in rs)
        print(
            f"| {len(rs)} | {names[kind]} | {count('work')} | {count('exit')} | {false} | "
            f"{statistics.median(rounds):.0f} ({rounds[0]}–{rounds[-1]}) | "
            f"{statistics.median(secs):.0f} s ({secs[0]:.0f}–{secs[-1]:.0f}) | {count('reason')} |"
        )


if __name__ == "__main__":
    main()
