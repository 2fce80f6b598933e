#!/bin/sh
# install-test.sh - install libtfrsc into a temporary prefix and build an
# outside program against it through pkg-config, dynamically and (with the
# installed libtfrsc.a) statically.
#
#   tests/install-test.sh            from anywhere in or outside the tree
#   KEEP_TMP=1 tests/install-test.sh keep the temporary directory
#   CC=clang tests/install-test.sh   build the client with another compiler
#
# Exits non-zero on any failure.
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tfrsc-install.XXXXXX")
cleanup() {
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "install-test: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

prefix="$tmp/prefix"
libdir="$prefix/lib"

step() { echo "install-test: $*"; }

step "configure, build and install into $prefix"
meson setup "$tmp/build" "$src" --prefix="$prefix" --libdir=lib \
    -Dtests=disabled -Dexamples=false >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log" >&2; exit 1; }
meson compile -C "$tmp/build" >"$tmp/compile.log" 2>&1 ||
    { cat "$tmp/compile.log" >&2; exit 1; }
meson install -C "$tmp/build" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; exit 1; }

for f in "$prefix/include/tfrsc.h" "$libdir/pkgconfig/tfrsc.pc"; do
    [ -f "$f" ] || { echo "install-test: missing $f" >&2; exit 1; }
done
ls "$libdir"/libtfrsc.so* >/dev/null 2>&1 ||
    { echo "install-test: no libtfrsc.so in $libdir" >&2; exit 1; }

PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
step "pkg-config tfrsc $(pkg-config --modversion tfrsc)"

# The client is built outside the source tree, as a user would.
mkdir "$tmp/client"
cp "$here/client.c" "$tmp/client/client.c"
cd "$tmp/client"

step "dynamic link: $cc client.c \$(pkg-config --cflags --libs tfrsc)"
# shellcheck disable=SC2046 # word splitting of pkg-config output is wanted
"$cc" -o client client.c $(pkg-config --cflags --libs tfrsc)
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ./client
if command -v ldd >/dev/null 2>&1; then
    LD_LIBRARY_PATH="$libdir" ldd ./client | grep -q "$libdir/libtfrsc.so" ||
        { echo "install-test: client does not use $libdir/libtfrsc.so" >&2; exit 1; }
fi

if [ -f "$libdir/libtfrsc.a" ]; then
    # libtfrsc.a in place of -ltfrsc; its own dependencies (BLAS, cJSON,
    # zlib, libm, threads) come from the --static Libs.private/Requires.private.
    static_libs=$(pkg-config --static --libs tfrsc |
        awk -v a="$libdir/libtfrsc.a" '{ for (i = 1; i <= NF; i++) if ($i == "-ltfrsc") $i = a; print }')
    step "static link: $cc client.c \$(pkg-config --cflags tfrsc) $static_libs"
    # shellcheck disable=SC2046,SC2086
    "$cc" -o client-static client.c $(pkg-config --cflags tfrsc) $static_libs
    if command -v ldd >/dev/null 2>&1 && ldd ./client-static | grep -q libtfrsc; then
        echo "install-test: client-static still needs libtfrsc.so" >&2
        exit 1
    fi
    env -u LD_LIBRARY_PATH ./client-static
else
    step "no libtfrsc.a installed (default_library=shared): static link skipped"
fi

# libtfrsc-mpi, when MPI was found: an outside MPI program through
# pkg-config tfrsc-mpi, run on 2 ranks.
if [ -f "$libdir/pkgconfig/tfrsc-mpi.pc" ]; then
    cat > mpi-client.c <<'EOF_C'
#include <stdio.h>
#include <tfrsc_mpi.h>

int main(int argc, char **argv)
{
    uint64_t b, e, total = 0, mine;
    int rank, size;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (tfrs_mpi_byte_range(MPI_COMM_WORLD, 1000, &b, &e) != TFRS_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, tfrs_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    mine = e - b;
    MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("mpi-client: %d ranks cover %llu of 1000 bytes\n", size,
               (unsigned long long)total);
    MPI_Finalize();
    return total == 1000 ? 0 : 1;
}
EOF_C
    step "MPI: $cc mpi-client.c \$(pkg-config --cflags --libs tfrsc-mpi)"
    # shellcheck disable=SC2046
    "$cc" -o mpi-client mpi-client.c $(pkg-config --cflags --libs tfrsc-mpi)
    if command -v mpirun >/dev/null 2>&1; then
        LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
            mpirun --oversubscribe -np 2 ./mpi-client
    fi
else
    step "no tfrsc-mpi.pc installed (MPI not found): MPI client skipped"
fi

step "OK"
