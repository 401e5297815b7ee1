#!/usr/bin/env bash
# Times `perfgate profile top` (release build) against `go tool pprof -top`
# on the same large real Go heap profile (~10 MB, a million distinct call
# stacks, made by scripts/bigprofile), checks that both print the same
# table, and prints the speed ratio. Usage: scripts/profile-vs-pprof.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile="$work/big.pb.gz"
(cd scripts/bigprofile && go run . -o "$profile" -paths 1000000 -depth 8)
cargo build --quiet --release
perfgate=target/release/perfgate
echo "profile: $(du -h "$profile" | cut -f1)"

TZ=UTC go tool pprof -top "$profile" > "$work/pprof.txt" 2>/dev/null
"$perfgate" profile top "$profile" > "$work/perfgate.txt"
if diff -q "$work/pprof.txt" "$work/perfgate.txt" > /dev/null; then
	echo "output: identical"
else
	echo "output: DIFFERENT"; diff "$work/pprof.txt" "$work/perfgate.txt" | head -20; exit 1
fi

# Interleaved runs: wall time and peak RSS of each.
for i in $(seq "$runs"); do
	/usr/bin/time -f "pprof    %e s  %M KB" -a -o "$work/times" sh -c "TZ=UTC go tool pprof -top '$profile' > /dev/null 2>&1"
	/usr/bin/time -f "perfgate %e s  %M KB" -a -o "$work/times" "$perfgate" profile top "$profile" > /dev/null
done
cat "$work/times"
python3 - "$work/times" <<'PY'
import statistics, sys
t = {"pprof": [], "perfgate": []}
for line in open(sys.argv[1]):
    name, secs = line.split()[0], float(line.split()[1])
    t[name].append(secs)
p, q = statistics.median(t["pprof"]), statistics.median(t["perfgate"])
print(f"median: go tool pprof -top {p:.2f} s, perfgate profile top {q:.2f} s: {p / q:.2f}x faster (n={len(t['pprof'])} each)")
PY
