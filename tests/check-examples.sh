#!/bin/sh
# check-examples.sh unit SERVE LAYERS OWN_DATA ML_SYNTH
# check-examples.sh data SERVE CUSTOM_LOOP MOVIELENS_RANKING
#
# Runs the small examples (docs/examples.md) and checks what they print.
#   unit (no MovieLens): layers' gradient check passes, and fails on a
#     deliberately wrong backward pass; own_data trains on a CSV made here
#     from tools/ml-synth's synthetic ratings (no MovieLens data), beats the
#     mean-rating baseline and saves a model that serve loads and ranks;
#     serve's errors (usage 2, missing or damaged model 1) and the symbols it
#     imports (nothing of training).
#   data (MovieLens 100K, skipped with 77 without it): serve on the
#     tutorial's saved model agrees with the tutorial's own ranking;
#     custom_loop's validation loss goes down every epoch, its checkpoints
#     exist, hold the optimizer state and load.
set -u
mode=$1
shift
status=0
fail() { echo "FAIL: $*"; status=1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# check_ranking FILE K: exactly K lines "rank score item", ranks 1..K,
# scores never increasing.
check_ranking() {
    n=$(wc -l < "$1")
    [ "$n" -eq "$2" ] || { fail "$1: $n lines, expected $2"; cat "$1"; return; }
    awk '!/^ *[0-9]+  -?[0-9]+\.[0-9][0-9][0-9][0-9]  ./ { print "bad line " NR ": " $0; bad = 1 }
         $1 != NR { print "line " NR " has rank " $1; bad = 1 }
         NR > 1 && $2 + 0 > prev + 0 { print "score rises at line " NR; bad = 1 }
         { prev = $2 }
         END { exit bad }' "$1" || fail "$1 is not a ranking"
}

# expect_exit CODE TEXT COMMAND...: exits with CODE and says TEXT on stderr.
expect_exit() {
    want=$1
    text=$2
    shift 2
    "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc -eq "$want" ] || fail "$*: exit $rc, expected $want"
    grep -q "$text" "$tmp/err" || { fail "$*: no '$text' on stderr"; cat "$tmp/err"; }
}

if [ "$mode" = unit ]; then
    serve=$1 layers=$2 own_data=$3 synth=$4

    # layers: the check passes, and a backward pass 10% off must fail it.
    "$layers" > "$tmp/layers" 2>&1 || fail "layers: exit $?"
    [ "$(grep -c '  ok$' "$tmp/layers")" -eq 2 ] || fail "layers: expected 2 entries ok"
    grep -q '^gradient check passed' "$tmp/layers" || fail "layers: no 'gradient check passed'"
    cat "$tmp/layers"
    "$layers" --break-backward > "$tmp/broken" 2>&1
    rc=$?
    [ $rc -eq 1 ] || fail "layers --break-backward: exit $rc, expected 1"
    grep -q 'WRONG$' "$tmp/broken" || fail "layers --break-backward: no entry WRONG"

    # own_data on a generated CSV with its own column names, ';' separated
    # and an extra column.
    "$synth" --ratings 20000 --users 200 --items 300 --seed 7 --out "$tmp/syn" > /dev/null ||
        { fail "ml-synth"; exit 1; }
    awk -F'\t' 'BEGIN { print "customer;product;stars;when" }
                { printf "c%s;p%s;%s;%s\n", $1, $2, $3, $4 }' "$tmp/syn/u.data" > "$tmp/r.csv"
    "$own_data" "$tmp/r.csv" --user customer --item product --rating stars \
        --delimiter ';' --save "$tmp/mine.tfrs" > "$tmp/own" 2>&1 || fail "own_data: exit $?"
    cat "$tmp/own"
    grep -q '20000 rows (16000 train, 4000 held out), 200 users, 300 items' "$tmp/own" ||
        fail "own_data: wrong counts"
    sed -n 's/^held-out RMSE \([0-9.]*\) (predicting the mean rating [0-9.]*: \([0-9.]*\))$/\1 \2/p' \
        "$tmp/own" | awk '{ exit !(NF == 2 && $1 > 0 && $1 < 0.97 * $2) }' ||
        fail "own_data: the model does not beat the mean rating by 3%"
    [ -s "$tmp/mine.tfrs" ] || fail "own_data saved no model"
    expect_exit 2 'usage' "$own_data" "$tmp/r.csv" --user customer --item product
    expect_exit 1 'ENOTFOUND\|not found\|no column' \
        "$own_data" "$tmp/r.csv" --user customer --item product --rating score \
        --delimiter ';' --save "$tmp/none.tfrs"

    # serve the model own_data saved: items are "p<id>", the top K agrees
    # with the whole ranking's first K, and again on a second run.
    "$serve" "$tmp/mine.tfrs" c5 --top 7 > "$tmp/top7" || fail "serve: exit $?"
    check_ranking "$tmp/top7" 7
    grep -qv '  p[0-9]*$' "$tmp/top7" && fail "serve: items that are not products"
    "$serve" "$tmp/mine.tfrs" c5 --top 0 > "$tmp/all" || fail "serve --top 0: exit $?"
    check_ranking "$tmp/all" 300
    head -n 7 "$tmp/all" | cmp -s - "$tmp/top7" || fail "serve: --top 7 is not the first 7 of all"
    "$serve" "$tmp/mine.tfrs" c5 --top 7 | cmp -s - "$tmp/top7" || fail "serve: runs differ"
    "$serve" "$tmp/mine.tfrs" c6 --top 7 | cmp -s - "$tmp/top7" && fail "serve: c6 ranks as c5"
    "$serve" "$tmp/mine.tfrs" stranger --top 3 > "$tmp/stranger" 2> "$tmp/err"
    grep -q "not in the model's vocabulary" "$tmp/err" || fail "serve: no warning for a stranger"
    check_ranking "$tmp/stranger" 3

    # serve's errors: usage 2, a missing, truncated or corrupted model 1.
    expect_exit 2 'usage' "$serve" "$tmp/mine.tfrs"
    expect_exit 2 'invalid value for --top' "$serve" "$tmp/mine.tfrs" c5 --top ten
    expect_exit 2 'unknown option' "$serve" "$tmp/mine.tfrs" c5 --bottom 3
    expect_exit 1 'cannot load the model' "$serve" "$tmp/absent.tfrs" c5
    head -c 5000 "$tmp/mine.tfrs" > "$tmp/short.tfrs"
    expect_exit 1 'cannot load the model' "$serve" "$tmp/short.tfrs" c5
    size=$(wc -c < "$tmp/mine.tfrs")
    { head -c $((size - 100)) "$tmp/mine.tfrs"; printf 'X'; tail -c 99 "$tmp/mine.tfrs"; } \
        > "$tmp/flipped.tfrs"
    cmp -s "$tmp/flipped.tfrs" "$tmp/mine.tfrs" && fail "the corrupted copy is not corrupted"
    expect_exit 1 'cannot load the model' "$serve" "$tmp/flipped.tfrs" c5

    # serve links nothing of training: its imported tfrs_ symbols.
    if command -v nm > /dev/null; then
        nm -u "$serve" | sed -n 's/.* \(tfrs_[a-z0-9_]*\).*/\1/p' | sort -u > "$tmp/symbols"
        grep -qx tfrs_model_load "$tmp/symbols" && grep -qx tfrs_model_rank "$tmp/symbols" ||
            { fail "serve: nm shows no tfrs_model_load and tfrs_model_rank"; cat "$tmp/symbols"; }
        grep -E 'fit|train|build|create|save|set_|add_|backward|lookup_dataset|dataset_load' \
            "$tmp/symbols" && fail "serve imports training calls (above)"
    fi
    exit $status
fi

[ "$mode" = data ] || { echo "usage: $0 unit|data EXECUTABLES..."; exit 2; }
serve=$1 custom_loop=$2 ranking=$3
. "$(dirname "$0")/movielens-dir.sh"
data=$(movielens_dir u.item)
if [ -z "$data" ]; then
    echo "MovieLens 100K not found (set TFRSC_DATA): skipped"
    exit 77
fi
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

# serve the tutorial's model: its scores of the tutorial's three titles
# for user 42 are the tutorial's (printed to 4 decimals), in its order.
"$ranking" --data "$data" --save "$tmp/m.tfrs" > "$tmp/tutorial" 2>&1 ||
    { fail "movielens_ranking: exit $?"; cat "$tmp/tutorial"; exit 1; }
"$serve" "$tmp/m.tfrs" 42 > "$tmp/top10" || fail "serve: exit $?"
check_ranking "$tmp/top10" 10
cat "$tmp/top10"
"$serve" "$tmp/m.tfrs" 42 --top 0 > "$tmp/all" || fail "serve --top 0: exit $?"
check_ranking "$tmp/all" 1664
head -n 10 "$tmp/all" | cmp -s - "$tmp/top10" || fail "serve: the top 10 is not the first 10 of all"
sed -n '/^Ratings:$/,/^saved/p' "$tmp/tutorial" | sed '1d;$d' > "$tmp/three"
[ "$(wc -l < "$tmp/three")" -eq 3 ] || { fail "no three ratings from the tutorial"; cat "$tmp/tutorial"; }
while IFS= read -r line; do
    title=${line%: *}
    score=${line##*: }
    grep -F "  $title" "$tmp/all" | awk -v t="$title" -v s="$score" '
        substr($0, length($0) - length(t) + 1) == t { found = 1; d = $2 - s }
        END { exit !(found && d < 6e-5 && d > -6e-5) }' ||
        fail "serve's score of $title is not the tutorial's $score"
    grep -nF "  $title" "$tmp/all" | cut -d: -f1 >> "$tmp/positions"
done < "$tmp/three"
sort -n -c "$tmp/positions" 2> /dev/null || fail "serve orders the tutorial's titles differently"

# custom_loop: 3 epochs, the validation loss falls each epoch, the rate
# halves, each checkpoint exists, holds the optimizer state (larger than
# the tutorial's file of the same model without it) and serves.
"$custom_loop" --data "$data" --epochs 3 --checkpoint "$tmp/ck" > "$tmp/loop" 2>&1 ||
    fail "custom_loop: exit $?"
cat "$tmp/loop"
awk '/^epoch [0-9]+: lr / { n++; lr = $4; v = $12
                            if (n > 1 && !(v < pv)) { print "validation loss rose"; bad = 1 }
                            if (n > 1 && lr != plr / 2) { print "lr did not halve"; bad = 1 }
                            pv = v; plr = lr }
     END { exit bad || n != 3 }' "$tmp/loop" || fail "custom_loop: epochs, losses or rates wrong"
plain=$(wc -c < "$tmp/m.tfrs")
for e in 1 2 3; do
    f=$tmp/ck.$e.tfrs
    [ -s "$f" ] || { fail "no checkpoint $f"; continue; }
    [ "$(wc -c < "$f")" -gt $((plain * 3 / 2)) ] || fail "$f holds no optimizer state"
    "$serve" "$f" 42 --top 5 > "$tmp/ck-top" || fail "serve $f: exit $?"
    check_ranking "$tmp/ck-top" 5
done
exit $status
