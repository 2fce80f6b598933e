#!/bin/sh
# check-api-reference.sh API_DIR INCLUDE_DIR - the Doxygen reference names
# every public function of tfrsc.h and tfrsc_mpi.h, and carries the
# headers' comments (a sample sentence of each header).
set -eu
api=$1 inc=$2
for h in tfrsc tfrsc_mpi; do
    page="$api/html/$(echo "$h" | sed 's/_/__/g')_8h.html"
    [ -f "$page" ] || { echo "no page $page" >&2; exit 1; }
    missing=0
    for f in $(grep -o '^TFRS_API[^(]*(' "$inc/$h.h" | sed 's/.*[ *]\(tfrs_[a-z0-9_]*\)(/\1/'); do
        grep -q ">$f<" "$page" || { echo "$h.h: $f is not in $page" >&2; missing=1; }
    done
    [ $missing -eq 0 ] || exit 1
done
grep -q "Trains on" "$api/html/tfrsc_8h.html" || { echo "tfrs_model_fit's comment is missing" >&2; exit 1; }
grep -q "every rank passes its own rows" "$api/html/tfrsc__mpi_8h.html" ||
    { echo "tfrs_mpi_fit's comment is missing" >&2; exit 1; }
echo "api-reference: every public function documented in $api/html"
