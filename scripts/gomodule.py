"""A throwaway Go module in a real git repository, for the measurement
scripts: BenchmarkWork (a pure CPU loop whose size each commit sets),
BenchmarkMap (allocation-heavy) and BenchmarkSort, so that runs of perfgate
against it measure real `go test` binaries built from real commits."""

import os
import subprocess

GO_MOD = "module example.com/work\n\ngo 1.22\n"

WORK_GO = """package work

var sink uint64

// Work does n rounds of FNV-style mixing: pure CPU, no allocation.
func Work(n int) uint64 {
\th := uint64(1469598103934665603)
\tfor i := 0; i < n; i++ {
\t\th ^= uint64(i)
\t\th *= 1099511628211
\t}
\treturn h
}

// Size is what each commit changes.
func Size() int { return %d }
"""

WORK_TEST_GO = """package work

import (
\t"sort"
\t"testing"
)

func BenchmarkWork(b *testing.B) {
\tfor i := 0; i < b.N; i++ {
\t\tsink += Work(Size())
\t}
}

func BenchmarkMap(b *testing.B) {
\tb.ReportAllocs()
\tfor i := 0; i < b.N; i++ {
\t\tm := make(map[int]int)
\t\tfor j := 0; j < 2000; j++ {
\t\t\tm[j*7] = j
\t\t}
\t\tsink += uint64(len(m))
\t}
}

func BenchmarkSort(b *testing.B) {
\tsrc := make([]int, 5000)
\tfor i := range src {
\t\tsrc[i] = (i * 7919) % 5000
\t}
\tb.ReportAllocs()
\tfor i := 0; i < b.N; i++ {
\t\ts := make([]int, len(src))
\t\tcopy(s, src)
\t\tsort.Ints(s)
\t\tsink += uint64(s[0])
\t}
}
"""


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(path, sizes, scenario):
    """Commits one revision per entry of `sizes` (the loop size of Work);
    returns the commit hashes in order. `scenario` is perf.toml's text."""
    os.makedirs(path, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "perfgate@example.com")
    git(path, "config", "user.name", "perfgate")
    with open(os.path.join(path, "go.mod"), "w") as f:
        f.write(GO_MOD)
    with open(os.path.join(path, "work_test.go"), "w") as f:
        f.write(WORK_TEST_GO)
    with open(os.path.join(path, "perf.toml"), "w") as f:
        f.write(scenario)
    commits = []
    for i, size in enumerate(sizes):
        with open(os.path.join(path, "work.go"), "w") as f:
            f.write(WORK_GO % size)
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"Work({size})", "--allow-empty")
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True)
        commits.append(out.stdout.strip())
    return commits
