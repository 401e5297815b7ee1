#!/usr/bin/env bash
# Times `perfgate benchstat` (release build) against Go's benchstat on a
# generated ~50 MB pair of realistic `go test -bench` files and prints the
# speed ratio. Usage: scripts/bench-vs-benchstat.sh [target-MB-per-file]
set -euo pipefail
cd "$(dirname "$0")/.."

mb=${1:-50}
benchstat=${BENCHSTAT:-$(command -v benchstat || echo "$HOME/go/bin/benchstat")}
if [[ ! -x $benchstat ]]; then
	echo "benchstat not found; install: go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da" >&2
	exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Realistic content: 50 packages (pkg: lines), sub-benchmarks with /size=,
# -count=10, ns/op + B/op + allocs/op on every line, test chatter between
# packages; the new file has some regressions, improvements and churn.
python3 - "$work" "$mb" <<'PY'
import math, random, sys
work, mb = sys.argv[1], float(sys.argv[2])
target = int(mb * 1e6)
def gen(path, variant):
    rnd = random.Random(1)          # same benchmarks and bases in both files
    noise = random.Random(2 if variant == "old" else 3)
    size, pkgs = 0, 0
    with open(path, "w") as f:
        while size < target:
            pkgs += 1
            head = f"goos: linux\ngoarch: amd64\npkg: example.com/svc/pkg{pkgs}\ncpu: AMD EPYC 7B13\n"
            f.write(head); size += len(head)
            for b in range(200):
                base = math.exp(rnd.uniform(1, 12))
                shift = 1.0
                r = rnd.random()
                if variant == "new" and r < 0.05: shift = 1.25
                elif variant == "new" and r < 0.10: shift = 0.8
                alloc = rnd.choice([0, 16, 64, 512, 4096, 65536])
                name = f"BenchmarkHandler{b}/size={rnd.choice([16, 256, 4096])}-8"
                for _ in range(10):
                    ns = base * shift * math.exp(noise.gauss(0, 0.03))
                    iters = max(1, int(1e9 / ns))
                    val = f"{ns:.4g}" if ns < 100 else f"{ns:.0f}"
                    line = f"{name:<40}\t{iters:>10}\t{val:>10} ns/op\t{alloc:>8} B/op\t{alloc // 16:>6} allocs/op\n"
                    f.write(line); size += len(line)
            tail = f"PASS\nok  \texample.com/svc/pkg{pkgs}\t12.345s\n"
            f.write(tail); size += len(tail)
gen(f"{work}/old.txt", "old")
gen(f"{work}/new.txt", "new")
PY
ls -l "$work"/old.txt "$work"/new.txt | awk '{printf "%s %.1f MB\n", $NF, $5/1e6}'

cargo build --release --quiet --bin perfgate
perfgate=target/release/perfgate
cd "$work"

if command -v hyperfine >/dev/null; then
	hyperfine --warmup 1 --runs 5 --export-json times.json \
		-n perfgate "$OLDPWD/$perfgate benchstat old.txt new.txt" \
		-n benchstat "$benchstat old.txt new.txt"
	python3 - <<'PY'
import json
r = {x["command"]: x["median"] for x in json.load(open("times.json"))["results"]}
p, b = r["perfgate"], r["benchstat"]
print("perfgate %.3fs  benchstat %.3fs  ratio: perfgate is %.1fx faster" % (p, b, b / p))
PY
else
	time_it() { # best of 5 wall-clock seconds
		local best=
		for _ in 1 2 3 4 5; do
			local t0 t1
			t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
			best=$(echo "$t0 $t1 ${best:-999}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
		done
		echo "$best"
	}
	p=$(time_it "$OLDPWD/$perfgate" benchstat old.txt new.txt)
	b=$(time_it "$benchstat" old.txt new.txt)
	echo "$p $b" | awk '{printf "perfgate %.3fs  benchstat %.3fs  ratio: perfgate is %.1fx faster\n", $1, $2, $2 / $1}'
fi
