#!/bin/sh
# check-symbols.sh NM SHARED_LIBRARY
#
# Fails when the shared library exports a defined dynamic symbol outside the
# public tfrs_ namespace (internal tfrs__ helpers included), or when it
# exports suspiciously few tfrs_ symbols (hidden visibility gone wrong).
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -eu

MIN_PUBLIC=20

if [ "$#" -ne 2 ]; then
    echo "usage: $0 NM SHARED_LIBRARY" >&2
    exit 2
fi
nm=$1
lib=$2

if [ ! -f "$lib" ]; then
    echo "check-symbols: $lib: no such file" >&2
    exit 1
fi

if ! syms=$("$nm" -D --defined-only "$lib"); then
    echo "check-symbols: '$nm -D --defined-only $lib' failed (not a shared library?)" >&2
    exit 1
fi

# "ADDRESS TYPE NAME[@VERSION]" -> "TYPE NAME".  Absolute symbols (type A)
# and the linker's section markers are not functions or data of ours.
list=$(printf '%s\n' "$syms" | awk '
    NF >= 2 {
        type = $(NF - 1); name = $NF
        sub(/@.*/, "", name)
        if (type == "A") next
        if (name ~ /^(_init|_fini|_edata|_end|__bss_start|__bss_start__|__bss_end__|_bss_end__|__end__|__data_start|data_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_|__dso_handle)$/) next
        # Coverage and sanitizer runtimes linked into instrumented builds.
        if (name ~ /^(__gcov_|__llvm_|__asan_|__ubsan_|__tsan_|__sanitizer_|__odr_asan)/ || name == "mangle_path") next
        print type, name
    }')

bad=$(printf '%s\n' "$list" | awk 'NF == 2 && ($2 !~ /^tfrs_/ || $2 ~ /^tfrs__/)')
public=$(printf '%s\n' "$list" | awk 'NF == 2 && $2 ~ /^tfrs_/ && $2 !~ /^tfrs__/' | wc -l)
public=$((public + 0))

status=0
if [ -n "$bad" ]; then
    echo "check-symbols: $lib exports symbols outside the tfrs_ namespace:" >&2
    printf '%s\n' "$bad" | sed 's/^/    /' >&2
    status=1
fi
if [ "$public" -lt "$MIN_PUBLIC" ]; then
    echo "check-symbols: $lib exports only $public tfrs_ symbols (expected >= $MIN_PUBLIC)" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "check-symbols: $public tfrs_ symbols exported, nothing else"
fi
exit "$status"
