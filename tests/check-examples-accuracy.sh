#!/bin/sh
# check-examples-accuracy.sh RECIPE FEATURES - the accuracy examples on the
# real data (suite 'data'): movielens_recipe --fast on u1.base/u1.test and
# movielens_features on the tutorial's seed-42 split; each last line must be
# "test RMSE <value>" with the value below its bound.  Skips (exit 77)
# without MovieLens 100K, looked up as the other data tests look it up.
#
# Bounds, from the measurements in docs/accuracy.md (with margin for other
# BLAS builds and thread counts, which change the last bits and so the
# early-stopping path):
#   movielens_recipe --fast, u1: measured 0.9044 (0.9045 before issue 13's
#     first layer by distinct rows; single models of 3 seeds
#     0.9032 .. 0.9054; u1-u5 0.8974 .. 0.9054)                     -> 0.93
#   movielens_features, seed-42 split: measured 0.9063 (its earlier
#     configuration 0.9384)                                          -> 0.95
#   movielens_recipe with 2 members of at most 3 epochs, saved and loaded
#     back, ranking for user 42, u1: measured 0.9656              -> 1.0
#     (the loaded ensemble must print the same ranking and RMSE as the
#     trained one, rank and predict agree within 1e-4)
# Run time: about 40 s (the recipe), 10 s (the saved ensemble) and 10 s on
# 2 cores.
set -u
recipe=$1
features=$2

. "$(dirname "$0")/movielens-dir.sh"
data=$(movielens_dir u1.base u1.test)
if [ -z "$data" ]; then
    echo "MovieLens 100K not found (set TFRSC_DATA): skipped"
    exit 77
fi
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

status=0
check() { # name bound command...
    name=$1
    bound=$2
    shift 2
    start=$(date +%s)
    out=$("$@" 2>&1)
    rc=$?
    last=$(printf '%s\n' "$out" | tail -n 1)
    echo "$name: exit $rc, $(( $(date +%s) - start ))s, last line: $last"
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$out" | tail -n 20
        status=1
        return
    fi
    if ! printf '%s\n' "$last" | grep -Eq '^test RMSE [0-9]+\.[0-9]{4,}$'; then
        echo "$name: the last line is not \"test RMSE <value>\""
        status=1
        return
    fi
    value=${last#test RMSE }
    if ! awk -v v="$value" -v b="$bound" 'BEGIN { exit !(v > 0 && v < b) }'; then
        echo "$name: test RMSE $value is not below $bound"
        status=1
    fi
}

check "movielens_recipe --fast (u1)" 0.93 \
    "$recipe" --data "$data" --train "$data/u1.base" --test "$data/u1.test" --fast --quiet
check "movielens_features (seed-42 split)" 0.95 "$features" --data "$data" --quiet

# The ensemble as a set of files: train 2 members briefly, save, rank; load
# them back and rank again.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sed 's/"epochs": 60/"epochs": 3/' examples/movielens_recipe.json > "$tmp/quick.json"
grep -q '"epochs": 3' "$tmp/quick.json" || { echo "cannot shorten the recipe's epochs"; exit 1; }
set -- --data "$data" --train "$data/u1.base" --test "$data/u1.test" --config "$tmp/quick.json" \
    --members 2 --rank 42 --top 10
check "movielens_recipe, 2 members saved (u1)" 1.0 "$recipe" "$@" --save "$tmp/m"
trained=$out
check "movielens_recipe, 2 members loaded (u1)" 1.0 "$recipe" "$@" --load "$tmp/m"
loaded=$out
for k in 1 2; do
    [ -s "$tmp/m.$k.tfrs" ] || { echo "no member file $tmp/m.$k.tfrs"; status=1; }
done
ranking() { printf '%s\n' "$1" | sed -n '/^top 10 for user 42/,$p' | grep -v 's in all$'; }
if [ "$(ranking "$trained")" != "$(ranking "$loaded")" ]; then
    echo "the loaded ensemble ranks differently:"
    ranking "$trained"
    ranking "$loaded"
    status=1
fi
if [ "$(ranking "$trained" | grep -Ec '^[0-9]+ [0-9.-]+ [0-9]+ ')" -ne 10 ]; then
    echo "expected 10 ranked movies:"
    ranking "$trained"
    status=1
fi
agree=$(ranking "$trained" | sed -n 's/.*agree within \([0-9.e+-]*\)).*/\1/p')
if ! awk -v a="$agree" 'BEGIN { exit !(a != "" && a + 0 < 1e-4) }'; then
    echo "rank and predict disagree: '$agree'"
    status=1
fi
exit $status
