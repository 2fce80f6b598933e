#!/bin/sh
# check-no-print.sh NM SHARED_LIBRARY
#
# The library never prints, exits or aborts (include/tfrsc.h): fails when the
# shared library imports a function that writes to the standard streams or
# ends the process, or the standard stream objects themselves.  (Files are
# written with open/write; messages go to tfrs_last_error().)
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 NM SHARED_LIBRARY" >&2
    exit 2
fi
nm=$1
lib=$2

if ! syms=$("$nm" -D --undefined-only "$lib"); then
    echo "check-no-print: '$nm -D --undefined-only $lib' failed" >&2
    exit 1
fi

bad=$(printf '%s\n' "$syms" | awk '
    { name = $NF; sub(/@.*/, "", name) }
    name ~ /^(printf|vprintf|fprintf|vfprintf|dprintf|vdprintf|puts|fputs|putchar|putc|fputc|fwrite_unlocked|perror|psignal|err|errx|warn|warnx|verr|verrx|vwarn|vwarnx|error|error_at_line|syslog|vsyslog|__printf_chk|__fprintf_chk|__vfprintf_chk|__vprintf_chk|abort|exit|_exit|_Exit|quick_exit|__assert_fail|__assert_perror_fail|__assert|stdout|stderr|_IO_2_1_stdout_|_IO_2_1_stderr_)$/ {
        print "    " name
    }')

if [ -n "$bad" ]; then
    echo "check-no-print: $lib imports functions that print or end the process:" >&2
    printf '%s\n' "$bad" >&2
    exit 1
fi
echo "check-no-print: $lib imports nothing that prints, exits or aborts"
