#!/usr/bin/env bash
# Measures `perfgate load` (release build) against wrk and oha, side by side
# on this machine, against the same fast Go net/http hello server (built
# here in a temp dir): same connections and duration, interleaved rounds.
# Prints requests/s, the ratios perfgate/wrk and perfgate/oha, and each
# generator's CPU per request (whole process: user+sys from /usr/bin/time).
#
# Usage: scripts/load-vs-wrk.sh [connections] [seconds] [rounds]
#   THREADS=N   load threads for wrk (default: nproc; perfgate and oha use one per core)
#   NO_OHA_INSTALL=1   do not `cargo install oha` when it is missing (oha is then skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$HOME/go/bin:/usr/local/go/bin:$PATH"

conns=${1:-32}
secs=${2:-10}
rounds=${3:-3}
threads=${THREADS:-$(nproc)}

need() { command -v "$1" >/dev/null || { echo "$1 not found; $2" >&2; exit 2; }; }
need go "install Go (https://go.dev/dl/)"
need wrk "install: apt-get install -y wrk"
need python3 "install python3"
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found; install: apt-get install -y time" >&2; exit 2; }

oha=$(command -v oha || true)
if [[ -z $oha && -z ${NO_OHA_INSTALL:-} ]]; then
	echo "oha not found: cargo install oha --locked (10-30 min on 2 cores; NO_OHA_INSTALL=1 skips oha)..." >&2
	if cargo install oha --locked >/dev/null 2>&1; then oha=$(command -v oha || true); fi
fi
[[ -n $oha ]] || echo "oha unavailable: skipping it (install with: cargo install oha --locked)" >&2

work=$(mktemp -d)
server_pid=
cleanup() {
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The target: Go's net/http, 13-byte body, keep-alive; listens on a free
# loopback port and prints its address.
mkdir -p "$work/hello"
cat >"$work/hello/main.go" <<'GO'
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	body := []byte("Hello, World!")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
}
GO
printf 'module hello\n\ngo 1.21\n' >"$work/hello/go.mod"
(cd "$work/hello" && go build -o hello .)

cargo build --release --quiet --bin perfgate
perfgate=$PWD/target/release/perfgate

"$work/hello/hello" >"$work/addr" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/addr ]] && break; sleep 0.05; done
url="http://$(head -1 "$work/addr")/"
echo "target $url (Go $(go env GOVERSION), GOMAXPROCS=${GOMAXPROCS:-$(nproc)}); $conns connections, ${secs}s, $rounds round(s), $(nproc) cores"

# Each run appends "tool requests rps cpu_seconds" to results.
results="$work/results"
: >"$results"
cpu_of() { awk '{print $1 + $2}' "$1"; }

run_perfgate() {
	/usr/bin/time -f '%U %S' -o "$work/t" "$perfgate" load "$url" -c "$conns" -d "${secs}s" --json >"$work/pg.json"
	python3 - "$work/pg.json" "$(cpu_of "$work/t")" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("perfgate", r["requests"], r["throughput"], sys.argv[2], r["generator_cpu_per_request"], r["latency"]["p99"])
PY
}

run_wrk() {
	/usr/bin/time -f '%U %S' -o "$work/t" wrk -t"$threads" -c "$conns" -d "${secs}s" --latency "$url" >"$work/wrk.txt"
	python3 - "$work/wrk.txt" "$(cpu_of "$work/t")" >>"$results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
p99 = float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)] if m else float("nan")
print("wrk", n, rps, sys.argv[2], "-", p99)
PY
}

run_oha() {
	/usr/bin/time -f '%U %S' -o "$work/t" "$oha" -c "$conns" -z "${secs}s" --no-tui --output-format json "$url" >"$work/oha.json"
	python3 - "$work/oha.json" "$(cpu_of "$work/t")" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
# Requests cut off by the deadline never completed: not counted, as wrk does not.
n = sum(r.get("statusCodeDistribution", {}).values()) + sum(
    v for k, v in r.get("errorDistribution", {}).items() if "deadline" not in k)
p99 = r.get("latencyPercentiles", {}).get("p99", float("nan"))
print("oha", n, r["summary"]["requestsPerSec"], sys.argv[2], "-", p99)
PY
}

tools=(perfgate wrk)
[[ -n $oha ]] && tools+=(oha)
for r in $(seq "$rounds"); do
	# Rotate the order each round so no tool always runs first (warm caches, thermal state).
	for i in "${!tools[@]}"; do
		t=${tools[$(((i + r) % ${#tools[@]}))]}
		"run_$t"
		tail -1 "$results" | awk -v r="$r" '{printf "  round %s  %-8s %10.0f req/s  %6.2f µs CPU/request (process)\n", r, $1, $3, 1e6 * $4 / $2}'
	done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for tool, n, rps, cpu, cpu_window, p99 in rows:
    by.setdefault(tool, []).append((int(n), float(rps), float(cpu), cpu_window, float(p99)))
med = {t: statistics.median(r[1] for r in v) for t, v in by.items()}
print()
print(f"{'tool':<9} {'req/s (median)':>15} {'min':>9} {'max':>9} {'CPU µs/req':>11} {'p99':>9}")
for t, v in by.items():
    cpu_per_req = statistics.median(1e6 * c / n for n, _, c, _, _ in v)
    p99 = statistics.median(r[4] for r in v) * 1e3
    print(f"{t:<9} {med[t]:>15.0f} {min(r[1] for r in v):>9.0f} {max(r[1] for r in v):>9.0f} {cpu_per_req:>11.2f} {p99:>7.2f}ms")
if "perfgate" in by:
    w = [float(r[3]) * 1e6 for r in by["perfgate"] if r[3] != "-"]
    if w:
        print(f"perfgate's own report (measured window only): {statistics.median(w):.2f} µs CPU/request")
    for other in ("wrk", "oha"):
        if other in med:
            print(f"perfgate/{other}: {med['perfgate'] / med[other]:.3f}")
if "oha" not in by:
    print("oha: skipped (not installed)")
PY
