#!/bin/sh
# valgrind-wrapper.sh PROGRAM [ARGS...]
#
# The exe_wrapper of the 'valgrind' test setup (tests/meson.build): test
# programs run under Memcheck, which fails them on any error or definite or
# indirect leak; script tests run as they are, since Memcheck would check
# the shell (whose own allocations are not ours) rather than the library.
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -eu

if [ "$(head -c 2 "$1")" = "#!" ]; then
    exec "$@"
fi
exec valgrind --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect "$@"
