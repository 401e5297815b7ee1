#!/usr/bin/env python3
"""How noisy is a pair of trials here, per way of running a gobench scenario?

A/A runs (the same commit as baseline and candidate) of a real Go module
with three benchmarks (a CPU loop, map building, sorting), each way run
REPS times in turn with a fixed number of rounds: one trial per benchmark
(`per_benchmark = true`, the default) or one trial for the whole suite, at
a few `benchtime`s. For each way and benchmark it prints the spread of the
per-round log ratios candidate/baseline — what the paired statistics see —
as a plain and a robust standard deviation (1.4826·MAD), the rounds a
minute, and rounds/min ÷ robust sd² ("information per minute": what the
sequential rule converts into a verdict).

    python3 scripts/pair-noise.py [--reps 3] [--rounds 60] [--perfgate target/release/perfgate]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gomodule  # noqa: E402

WAYS = [
    ("per-benchmark 100ms", True, "100ms"),
    ("suite 100ms", False, "100ms"),
    ("per-benchmark 30ms", True, "30ms"),
    ("suite 30ms", False, "30ms"),
]


def scenario(per_benchmark, benchtime):
    return (
        'name = "noise"\n\n[[scenario]]\nname = "bench"\nkind = "gobench"\n'
        f'benchtime = "{benchtime}"\nper_benchmark = {"true" if per_benchmark else "false"}\n'
    )


def log_ratios(results):
    by = {}
    for s in results["samples"]:
        if s["metric"] != "ns/op":
            continue
        by.setdefault(s["benchmark"], {}).setdefault(s["round"], {})[s["variant"]] = s["value"]
    out = {}
    for bench, rounds in by.items():
        out[bench] = [
            math.log(r["candidate"] / r["baseline"]) for r in rounds.values() if "candidate" in r and "baseline" in r
        ]
    return out


def robust_sd(x):
    m = statistics.median(x)
    return 1.4826 * statistics.median([abs(v - m) for v in x])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--perfgate", default=os.path.abspath("target/release/perfgate"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pair-noise-")
    repo = os.path.join(work, "repo")
    gomodule.make_repo(repo, [400000], scenario(True, "100ms"))
    rows = {}
    for rep in range(args.reps):
        for name, per, bt in WAYS:
            with open(os.path.join(repo, "perf.toml"), "w") as f:
                f.write(scenario(per, bt))
            out = os.path.join(work, f"out-{rep}-{name.replace(' ', '-')}")
            cmd = [args.perfgate, "compare", "--scenario", "perf.toml", "--baseline", "HEAD", "--candidate", "HEAD",
                   "--rounds", str(args.rounds), "--out", out]
            p = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
            if p.returncode not in (0, 1):
                sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr}")
            r = json.load(open(os.path.join(out, "results.json")))
            per_round = r["stopping"]["scenarios"][0]["seconds_per_round"]
            for bench, x in log_ratios(r).items():
                rows.setdefault((name, bench), []).append((statistics.stdev(x), robust_sd(x), 60.0 / per_round))
            print(f"rep {rep + 1}/{args.reps} {name}: {per_round:.2f} s/round", file=sys.stderr, flush=True)
    print(f"A/A, {args.rounds} rounds per run, {args.reps} runs per way; medians over the runs (min–max)")
    print(f"{'way':<22} {'benchmark':<10} {'sd':>16} {'robust sd':>18} {'rounds/min':>11} {'info/min':>10}")
    for (name, bench), v in rows.items():
        def cell(i, pct=True):
            xs = sorted(t[i] for t in v)
            f = (lambda y: f"{100 * y:.1f}%") if pct else (lambda y: f"{y:.0f}")
            return f"{f(statistics.median(xs))} ({f(xs[0])}–{f(xs[-1])})"
        info = statistics.median(t[2] / t[1] ** 2 for t in v if t[1] > 0)
        print(f"{name:<22} {bench:<10} {cell(0):>16} {cell(1):>18} {statistics.median(t[2] for t in v):>11.0f} {info:>10.0f}")


if __name__ == "__main__":
    main()
