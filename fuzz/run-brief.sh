#!/usr/bin/env bash
# A brief fuzzing pass: every target of fuzz/ for N seconds (default 20)
# on a copy of its committed corpus (the repository is not touched), with
# the limits of the long runs. Exits non-zero if any target finds a crash,
# a timeout or an out-of-memory (the input is kept under
# fuzz/artifacts/<target>/, gitignored), or if an input of
# fuzz/crashes/<target>/ (crashes found and fixed) fails again.
#
#   fuzz/run-brief.sh [SECONDS] [TARGET...]
#
# One fuzzer at a time, one process each (one core). Installs cargo-fuzz
# (pinned) if it is missing. Nightly Rust if rustup has it, else the default
# toolchain: without a sanitizer (`-s none`) cargo-fuzz builds on stable too.
# PERFGATE_FUZZ_TOOLCHAIN picks one; CARGO_TARGET_DIR (default fuzz/target)
# can point at a cache, as .ci/run does. PERFGATE_FUZZ_PROFILE=dev builds
# with fuzz/Cargo.toml's dev profile (perfgate and its dependencies at -O1:
# a cold build took 4m53s instead of 7m50s here, and each fuzzer ran 0.13x
# to 0.9x as many inputs a second), as .ci/run does; the default, release,
# is for the long runs.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$PWD

SECONDS_PER_TARGET=${1:-20}
shift || true
CARGO_FUZZ_VERSION=0.13.2
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$FUZZ_DIR/target}
export PATH="$HOME/.cargo/bin:$PATH"
TOOLCHAIN=${PERFGATE_FUZZ_TOOLCHAIN:-}
if [ -z "$TOOLCHAIN" ]; then
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then TOOLCHAIN=nightly; else TOOLCHAIN=$(rustup show active-toolchain | cut -d' ' -f1); fi
fi
echo "fuzz: toolchain $TOOLCHAIN, ${PERFGATE_FUZZ_PROFILE:-release} build, ${SECONDS_PER_TARGET}s per target"

if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(cargo +"$TOOLCHAIN" fuzz list)
fi

# Build once, outside the limits below (rustc needs more than 4 GB of
# address space), then run the binaries themselves: `cargo fuzz run` would
# rebuild under the limits whenever runner/ changed since. Safe Rust needs
# no sanitizer, and none is what lets the fuzzers run under an
# address-space limit.
case "${PERFGATE_FUZZ_PROFILE:-release}" in
    release) BUILD_FLAG=-O; PROFILE_DIR=release ;;
    dev) BUILD_FLAG=-D; PROFILE_DIR=debug ;;
    *) echo "PERFGATE_FUZZ_PROFILE: release or dev, not ${PERFGATE_FUZZ_PROFILE}" >&2; exit 2 ;;
esac
cargo +"$TOOLCHAIN" fuzz build "$BUILD_FLAG" -a -s none
HOST=$(rustc +"$TOOLCHAIN" -vV | sed -n 's/^host: //p')
BIN_DIR=$CARGO_TARGET_DIR/$HOST/$PROFILE_DIR

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$WORK/$t" "$FUZZ_DIR/artifacts/$t"
    if [ -d "$FUZZ_DIR/corpus/$t" ]; then
        cp -R "$FUZZ_DIR/corpus/$t/." "$WORK/$t/"
    fi
    echo "== $t: ${SECONDS_PER_TARGET}s"
    # Inputs that once crashed it (fixed since) must still pass.
    if compgen -G "$FUZZ_DIR/crashes/$t/*" >/dev/null; then
        if ! prlimit --as=4000000000 -- "$BIN_DIR/$t" -rss_limit_mb=256 -malloc_limit_mb=256 -timeout=10 \
            "$FUZZ_DIR/crashes/$t"/* >"$WORK/$t.crashes.log" 2>&1; then
            failed+=("$t")
            grep -v -E '^#[0-9]+ ' "$WORK/$t.crashes.log" | tail -n 60
            continue
        fi
        echo "$(ls "$FUZZ_DIR/crashes/$t" | wc -l) past crash input(s) pass"
    fi
    # libFuzzer writes a finding to artifacts/<target>/ and exits non-zero
    # on the first one. -jobs is left unset: one process, in the foreground.
    if ! prlimit --as=4000000000 -- "$BIN_DIR/$t" "$WORK/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=256 -malloc_limit_mb=256 -timeout=10 \
        -artifact_prefix="$FUZZ_DIR/artifacts/$t/" -print_final_stats=1 \
        >"$WORK/$t.log" 2>&1; then
        failed+=("$t")
        grep -v -E '^#[0-9]+ ' "$WORK/$t.log" | tail -n 60
    fi
    grep -E '^Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec)' "$WORK/$t.log" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each, no findings"
