#!/bin/sh
# run-all.sh SECONDS [BUILDDIR] - fuzzes every target for SECONDS each.
#
# Configures BUILDDIR (default build-fuzz, relative to the source tree) with
# clang and -Dfuzz=true if needed, builds it, then runs each fuzz-<target>
# for SECONDS on a scratch copy of tests/fuzz/corpus/<target> (new inputs go
# to the scratch copy, never into the repository).  Fails on the first crash,
# leak, sanitizer report or timeout; libFuzzer then leaves the input as
# crash-*, leak-*, timeout-* or oom-* in the scratch directory, which is kept
# and printed.  CI: tests/fuzz/run-all.sh 40 (6 targets: 4 minutes)
#
# SPDX-License-Identifier: Apache-2.0
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 SECONDS [BUILDDIR]" >&2
    exit 2
fi
seconds=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-build-fuzz}
case $build in /*) ;; *) build=$src/$build ;; esac
targets="model config ratings items delimited users"

if [ ! -f "$build/build.ninja" ]; then
    CC=${CC:-clang} meson setup "$build" "$src" -Dfuzz=true
fi
meson compile -C "$build"
for t in $targets; do
    if [ ! -x "$build/tests/fuzz/fuzz-$t" ]; then
        echo "$0: $build/tests/fuzz/fuzz-$t missing (is the build configured with clang and -Dfuzz=true?)" >&2
        exit 1
    fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tfrsc-fuzz.XXXXXX")
export OPENBLAS_NUM_THREADS=1
status=0
for t in $targets; do
    mkdir -p "$scratch/$t/corpus" "$scratch/$t/artifacts"
    cp "$src/tests/fuzz/corpus/$t/"* "$scratch/$t/corpus/"
    dict=
    if [ -f "$src/tests/fuzz/$t.dict" ]; then
        dict=-dict=$src/tests/fuzz/$t.dict
    fi
    echo "== fuzz-$t: $seconds s"
    # -timeout: an input taking over 10 s is a finding; -rss_limit_mb: so is
    # using more than 2 GB.
    if ! (cd "$scratch/$t" &&
          "$build/tests/fuzz/fuzz-$t" $dict -max_total_time="$seconds" -timeout=10 \
              -rss_limit_mb=2048 -print_final_stats=1 \
              -artifact_prefix="$scratch/$t/artifacts/" corpus \
              >"$scratch/$t/log" 2>&1); then
        status=1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$scratch/$t/log" || true
    if [ -n "$(ls -A "$scratch/$t/artifacts")" ]; then
        status=1
    fi
    if [ $status -ne 0 ]; then
        echo "fuzz-$t FAILED: see $scratch/$t/log and $scratch/$t/artifacts/" >&2
        tail -n 40 "$scratch/$t/log" >&2
        exit 1
    fi
done
rm -rf "$scratch"
echo "all fuzz targets ran $seconds s each without a finding"
