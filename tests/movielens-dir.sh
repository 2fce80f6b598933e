# shellcheck shell=sh
# movielens-dir.sh - sourced by the test scripts: where MovieLens 100K is.
#
#   movielens_dir [FILE...]   prints the first of $TFRSC_DATA,
#                             $TFRSC_DATA/ml-100k, data/ml-100k and
#                             ../shared/data/ml-100k (relative to the source
#                             tree, the tests' working directory) that holds
#                             u.data and every FILE; prints nothing if none.
#
# The same order as tu_movielens_dir() in tests/testutil.c and the examples'
# ex_find_data().
#
# SPDX-License-Identifier: Apache-2.0

movielens_dir() {
    for _d in "${TFRSC_DATA:-}" "${TFRSC_DATA:-}/ml-100k" data/ml-100k ../shared/data/ml-100k; do
        [ -n "$_d" ] && [ "$_d" != /ml-100k ] && [ -f "$_d/u.data" ] || continue
        _ok=1
        for _f in "$@"; do
            [ -f "$_d/$_f" ] || _ok=0
        done
        if [ $_ok = 1 ]; then
            echo "$_d"
            return 0
        fi
    done
    return 0
}
