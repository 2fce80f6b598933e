#!/bin/sh
# skip-mpi.sh - stands in for the 'mpi' suite when libtfrsc-mpi is not built.
echo "skipped: the 'mpi' feature is off (install libopenmpi-dev and openmpi-bin, then" \
     "meson setup --reconfigure) or mpirun was not found"
exit 77
