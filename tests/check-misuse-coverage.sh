#!/bin/sh
# check-misuse-coverage.sh HEADER TEST_SOURCE
#
# Fails when a public function declared (TFRS_API) in HEADER has no
# CASE(<function>) entry in the misuse test TEST_SOURCE, when the test lists
# a function the header no longer declares, or when it lists one twice.
# Every new public function therefore needs a misuse test.
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 HEADER TEST_SOURCE" >&2
    exit 2
fi
header=$1
test_src=$2
for f in "$header" "$test_src"; do
    if [ ! -r "$f" ]; then
        echo "check-misuse-coverage: cannot read $f" >&2
        exit 2
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declarations may span lines: join each from TFRS_API to its ';', then take
# the identifier in front of the first '('.
awk '
    /^[[:space:]]*TFRS_API[[:space:]]/ { decl = ""; collecting = 1 }
    collecting {
        decl = decl " " $0
        if (index($0, ";") > 0) {
            collecting = 0
            if (match(decl, /[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(/)) {
                name = substr(decl, RSTART, RLENGTH)
                sub(/[[:space:]]*\($/, "", name)
                print name
            }
        }
    }' "$header" | sort >"$tmp/declared"

grep -o 'CASE(tfrs_[A-Za-z0-9_]*)' "$test_src" | sed 's/^CASE(//; s/)$//' | sort >"$tmp/listed"

status=0
declared=$(wc -l <"$tmp/declared")
if [ "$declared" -lt 10 ]; then
    echo "check-misuse-coverage: only $declared TFRS_API declarations found in $header" >&2
    status=1
fi
missing=$(comm -23 "$tmp/declared" "$tmp/listed")
extra=$(comm -13 "$tmp/declared" "$tmp/listed" | sort -u)
dups=$(uniq -d "$tmp/listed")
if [ -n "$missing" ]; then
    echo "check-misuse-coverage: public functions without a misuse test in $test_src:" >&2
    printf '%s\n' "$missing" | sed 's/^/    /' >&2
    status=1
fi
if [ -n "$extra" ]; then
    echo "check-misuse-coverage: $test_src lists functions that $header does not declare:" >&2
    printf '%s\n' "$extra" | sed 's/^/    /' >&2
    status=1
fi
if [ -n "$dups" ]; then
    echo "check-misuse-coverage: listed more than once:" >&2
    printf '%s\n' "$dups" | sed 's/^/    /' >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "check-misuse-coverage: all $declared public functions have a misuse test"
fi
exit "$status"
