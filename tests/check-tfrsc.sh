#!/usr/bin/env bash
# check-tfrsc.sh - tfrsc(1) end to end: train -> inspect -> predict -> rank
# -> eval, errors and exit statuses, SIGINT and --resume, the progress bar
# in a pseudo-terminal (script(1)) and plain lines without one.
#
#   check-tfrsc.sh TFRSC ML-SYNTH unit   synthetic MovieLens-format data
#   check-tfrsc.sh TFRSC ML-SYNTH data   MovieLens 100K (exit 77 without it)
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
set -u

tfrsc=$1
synth=$2
mode=${3:-unit}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-tfrsc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect STATUS DESCRIPTION -- CMD...: runs CMD (stdout and stderr to
# $tmp/out and $tmp/err) and checks its exit status.
expect() {
    local want=$1 what=$2 got
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$what: exit $got, expected $want"
        sed 's/^/  stderr: /' "$tmp/err" >&2
    fi
}

contains() {   # FILE PATTERN DESCRIPTION
    grep -q -- "$2" "$1" || fail "$3: no '$2' in $(head -c 300 "$1")"
}

hash_of() {
    "$tfrsc" inspect "$1" | sed -n 's/^weights_hash: //p'
}

if [ "$mode" = data ]; then
    . "$(dirname "$0")/movielens-dir.sh"
    data=$(movielens_dir)
    if [ -z "$data" ]; then
        echo "MovieLens 100K not found: skipped"
        exit 77
    fi
    epochs=3 batch=8192 user=42
else
    data=$tmp/syn
    "$synth" --ratings 20000 --users 200 --items 300 --seed 3 --out "$data" >/dev/null 2>&1 ||
        { echo "ml-synth failed"; exit 1; }
    epochs=3 batch=128 user=7
fi

# ---- conventions -------------------------------------------------------------
expect 0 "--version" -- "$tfrsc" --version
contains "$tmp/out" "^tfrsc [0-9]" "--version"
for c in train eval predict rank inspect; do
    expect 0 "$c --help" -- "$tfrsc" "$c" --help
    contains "$tmp/out" "usage: tfrsc $c" "$c --help"
done
expect 2 "no command" -- "$tfrsc"
expect 2 "unknown command" -- "$tfrsc" frobnicate
expect 2 "unknown option" -- "$tfrsc" train --data "$data" --save "$tmp/x.tfrs" --bogus
expect 2 "missing --save" -- "$tfrsc" train --data "$data"
expect 2 "bad --epochs" -- "$tfrsc" train --data "$data" --save "$tmp/x.tfrs" --epochs zero
contains "$tmp/err" "epochs" "bad --epochs names the option"
expect 2 "option without value" -- "$tfrsc" rank --model
expect 2 "rank without --user" -- "$tfrsc" rank --model "$tmp/x.tfrs"
expect 2 "early stopping without validation" -- \
    "$tfrsc" train --data "$data" --save "$tmp/x.tfrs" --early-stopping --validation-split 0
[ -e "$tmp/x.tfrs" ] && fail "usage errors wrote the model"

# ---- missing and bad files ---------------------------------------------------
expect 1 "missing data" -- "$tfrsc" train --data "$tmp/nope" --save "$tmp/x.tfrs"
contains "$tmp/err" "$tmp/nope" "missing data names the file"
expect 1 "missing model" -- "$tfrsc" inspect "$tmp/nope.tfrs"
contains "$tmp/err" "nope.tfrs" "missing model names the file"
printf '{\n  "features": [{"name": "user_id", "embeding_dim": 8}],\n  "layers": [{"units": 1}]\n}\n' \
    >"$tmp/bad.json"
expect 1 "bad config" -- "$tfrsc" train --data "$data" --config "$tmp/bad.json" --save "$tmp/x.tfrs"
contains "$tmp/err" "bad.json:2: features\[0\]: unknown key" "bad config names file and line"
[ -e "$tmp/x.tfrs" ] && fail "a failed training wrote the model"

# ---- train (stdout not a terminal: plain lines) -> inspect ---------------------
model=$tmp/m.tfrs
expect 0 "train" -- "$tfrsc" train --data "$data" --save "$model" --epochs $epochs \
    --batch-size $batch --history "$tmp/h.csv"
cp "$tmp/out" "$tmp/train.out"
[ "$(grep -c '^epoch [0-9]*/'"$epochs"' - ' "$tmp/train.out")" -eq "$epochs" ] ||
    fail "plain output: not one line per epoch: $(cat "$tmp/train.out")"
grep -q $'\r' "$tmp/train.out" && fail "plain output has carriage returns"
contains "$tmp/train.out" "^test_rmse [0-9]" "test metrics"
[ "$(wc -l <"$tmp/h.csv")" -eq $((epochs + 1)) ] || fail "history: not one row per epoch"
contains "$tmp/h.csv" "^epoch,seconds,loss," "history header"
[ -f "$model" ] || fail "no model saved"

# ---- --plot (when built with cairo): SVG and PNG learning curves --------------
"$tfrsc" train --data "$data" --save "$tmp/p.tfrs" --epochs 3 --batch-size $batch \
    --validation-split 0.1 --plot "$tmp/curves.svg" >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 2 ] && grep -q "without cairo" "$tmp/err"; then
    echo "skipped --plot: this tfrsc was built without cairo"
elif [ $st -ne 0 ]; then
    fail "train --plot: exit $st: $(cat "$tmp/err")"
else
    head -c 100 "$tmp/curves.svg" | grep -q "<svg" || fail "--plot wrote no SVG"
    # two panels of two series (lines and markers), axes, ticks, legend
    [ "$(grep -c "<path" "$tmp/curves.svg")" -ge 40 ] || fail "--plot: too few shapes"
    contains "$tmp/out" "^plotted " "plot reported"
    expect 0 "train --plot PNG" -- "$tfrsc" train --data "$data" --save "$tmp/p.tfrs" \
        --epochs 2 --batch-size $batch --plot "$tmp/curves.png"
    head -c 8 "$tmp/curves.png" | od -An -c | grep -q "P   N   G" || fail "--plot wrote no PNG"
    expect 1 "train --plot into a missing directory" -- "$tfrsc" train --data "$data" \
        --save "$tmp/p.tfrs" --epochs 1 --batch-size $batch --plot "$tmp/no/such/dir.svg"
    contains "$tmp/err" "no/such/dir.svg" "plot error names the file"
fi

expect 0 "inspect" -- "$tfrsc" inspect "$model"
contains "$tmp/out" "^status: loaded" "inspect status"
contains "$tmp/out" "^format_version: 1$" "inspect format version"
contains "$tmp/out" "^checksum: verified" "inspect checksum status"
contains "$tmp/out" "user_id .*string" "inspect features"
contains "$tmp/out" "dense  64 -> 256 relu" "inspect layers"
contains "$tmp/out" "^parameters: [1-9]" "inspect parameters"
expect 0 "inspect --json" -- "$tfrsc" inspect "$model" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["loaded"] and len(d["features"]) == 2' \
    "$tmp/out" 2>/dev/null || fail "inspect --json is not the expected JSON"

# ---- predict: order, OOV, CSV ---------------------------------------------------
title=$(sed -n 's/^  movie_title .*: "\([^"]*\)".*/\1/p' <("$tfrsc" inspect "$model"))
printf 'movie_title\tuser_id\n%s\t%s\nno such movie\tno such user\n%s\t%s\n' \
    "$title" "$user" "$title" "$user" >"$tmp/pairs.tsv"
expect 0 "predict" -- "$tfrsc" predict --model "$model" <"$tmp/pairs.tsv"
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "predict: not one score per example"
[ "$(sed -n 1p "$tmp/out")" = "$(sed -n 3p "$tmp/out")" ] || fail "predict: same pair, other score"
[ "$(sed -n 1p "$tmp/out")" != "$(sed -n 2p "$tmp/out")" ] || fail "predict: OOV pair scored as known"
cp "$tmp/out" "$tmp/scores.tsv"
tr '\t' ',' <"$tmp/pairs.tsv" >"$tmp/pairs.csv"
expect 0 "predict --csv" -- "$tfrsc" predict --model "$model" --csv <"$tmp/pairs.csv"
cmp -s "$tmp/out" "$tmp/scores.tsv" || fail "predict --csv differs from TSV"
printf 'user_id\n1\n' >"$tmp/one.tsv"
expect 1 "predict missing column" -- "$tfrsc" predict --model "$model" --input "$tmp/one.tsv"

contains "$tmp/err" 'one.tsv:1: no column "movie_title"' "predict names the missing column"

# ---- rank ---------------------------------------------------------------------
expect 0 "rank" -- "$tfrsc" rank --model "$model" --user "$user" --top 5
[ "$(wc -l <"$tmp/out")" -eq 5 ] || fail "rank: not 5 lines"
awk -F'\t' 'NR > 1 && $2 > prev { exit 1 } { prev = $2 }' "$tmp/out" || fail "rank: not by score"
awk -F'\t' '$1 != NR { exit 1 }' "$tmp/out" || fail "rank: ranks not 1..5"
best=$(sed -n '1s/^[^\t]*\t[^\t]*\t//p' "$tmp/out")
expect 0 "rank --exclude-rated" -- "$tfrsc" rank --model "$model" --user "$user" --top 0 \
    --exclude-rated "$data"
all=$("$tfrsc" rank --model "$model" --user "$user" --top 0 | wc -l)
[ "$(wc -l <"$tmp/out")" -lt "$all" ] || fail "--exclude-rated left every item"
printf '%s\nno such movie\n' "$best" >"$tmp/cands"
expect 0 "rank --candidates --json" -- "$tfrsc" rank --model "$model" --user "$user" \
    --candidates "$tmp/cands" --json
contains "$tmp/out" '"rank": 2' "rank --json"

# ---- eval ---------------------------------------------------------------------
expect 0 "eval" -- "$tfrsc" eval --model "$model" --data "$data" --test-fraction 0.2
contains "$tmp/out" "^rmse [0-9]" "eval lines"
test_rmse=$(sed -n 's/^test_rmse //p' "$tmp/train.out")
[ "$(sed -n 's/^rmse //p' "$tmp/out")" = "$test_rmse" ] || fail "eval's test RMSE is not train's"
expect 0 "eval --json" -- "$tfrsc" eval --model "$model" --data "$data" --json
contains "$tmp/out" '^{"loss": ' "eval --json"

# ---- a corrupt model file (one byte flipped) -------------------------------------
cp "$model" "$tmp/bad.tfrs"
size=$(stat -c %s "$tmp/bad.tfrs")
off=$((size - 100))
byte=$(od -An -tu1 -j $off -N1 "$tmp/bad.tfrs" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
    dd of="$tmp/bad.tfrs" bs=1 seek=$off conv=notrunc 2>/dev/null
expect 1 "corrupt model" -- "$tfrsc" inspect "$tmp/bad.tfrs"
contains "$tmp/err" "bad.tfrs" "corrupt model names the file"
contains "$tmp/err" "malformed model file" "corrupt model status"
contains "$tmp/out" "^checksum: not verified" "corrupt model: checksum status"
contains "$tmp/out" "^format: libtfrsc$" "corrupt model: its header still read"
expect 1 "predict with a corrupt model" -- "$tfrsc" predict --model "$tmp/bad.tfrs" <"$tmp/pairs.tsv"

# ---- the live progress bar in a pseudo-terminal ---------------------------------
if command -v script >/dev/null 2>&1; then
    script -qfec "'$tfrsc' train --data '$data' --save '$tmp/tty.tfrs' --epochs 2 --batch-size 64" \
        /dev/null >"$tmp/tty.out" 2>&1 </dev/null
    [ "$(tr -cd '\r' <"$tmp/tty.out" | wc -c)" -gt 4 ] || fail "terminal: no '\\r' redraws"
    grep -a -q 'ETA: ' "$tmp/tty.out" || fail "terminal: no ETA in the bar"
    grep -a -q '\[=*>\.*\]' "$tmp/tty.out" || fail "terminal: no partial bar"
    grep -a -q '^Epoch 2/2' "$tmp/tty.out" || fail "terminal: no epoch header"
else
    echo "script(1) not found: progress bar not checked"
fi

# ---- SIGINT, checkpoint, --resume: the same model as without the interruption ----
if [ "$mode" = data ]; then ib=256 ie=3; else ib=16 ie=3; fi
full=$tmp/full.tfrs part=$tmp/part.tfrs
expect 0 "uninterrupted run" -- "$tfrsc" train --data "$data" --save "$full" --epochs $ie \
    --batch-size $ib --quiet
"$tfrsc" train --data "$data" --save "$part" --epochs $ie --batch-size $ib --quiet \
    >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
# Wait for the first epoch line, then interrupt inside the second epoch.
for _ in $(seq 1 600); do
    grep -q '^epoch 1/' "$tmp/int.out" 2>/dev/null && break
    sleep 0.05
done
sleep 0.1
kill -INT $pid
wait $pid
st=$?
if [ $st -eq 130 ]; then
    [ -e "$part" ] && fail "interrupted run wrote --save"
    [ -f "$part.ckpt" ] || fail "no checkpoint after SIGINT"
    contains "$tmp/int.err" "checkpoint saved to" "SIGINT message"
    steps=$("$tfrsc" inspect "$part.ckpt" | sed -n 's/^training: \([0-9]*\) steps.*/\1/p')
    [ "${steps:-0}" -gt 0 ] || fail "checkpoint has no steps"
    # Resuming with another batch size is refused with one clear message:
    # with one batch per epoch the checkpoint's steps cannot fit.
    cp "$part.ckpt" "$tmp/other.ckpt"
    expect 1 "resume with another batch size" -- "$tfrsc" train --data "$data" \
        --save "$tmp/other.tfrs" --epochs $ie --batch-size 100000000 --quiet --resume \
        --checkpoint "$tmp/other.ckpt"
    contains "$tmp/err" "do not fit epochs of" "resume with another batch size: why"
    grep -q "unknown status" "$tmp/err" && fail "resume with another batch size: a stale message"
    expect 0 "resume" -- "$tfrsc" train --data "$data" --save "$part" --epochs $ie \
        --batch-size $ib --quiet --resume
    [ -e "$part.ckpt" ] && fail "checkpoint left after a finished resume"
    [ -n "$(hash_of "$full")" ] && [ "$(hash_of "$part")" = "$(hash_of "$full")" ] ||
        fail "resumed model differs from the uninterrupted one"
elif [ $st -eq 0 ]; then
    echo "training finished before SIGINT arrived: resume not checked"
else
    fail "SIGINT: exit $st"; cat "$tmp/int.err" >&2
fi
expect 1 "resume without checkpoint" -- "$tfrsc" train --data "$data" --save "$tmp/y.tfrs" --resume
contains "$tmp/err" "y.tfrs.ckpt" "resume names the checkpoint"

# ---- --checkpoint-every, then resume from it --------------------------------------
expect 0 "checkpoint-every" -- "$tfrsc" train --data "$data" --save "$tmp/ce.tfrs" --epochs 1 \
    --batch-size $ib --checkpoint-every 10 --quiet
[ -e "$tmp/ce.tfrs.ckpt" ] && fail "checkpoint kept after a finished run"

# ---- a configuration on a delimited file ------------------------------------------
awk -F'\t' 'BEGIN { print "user,item,rating" } { print "u" $1 "," $2 "," $3 }' "$data/u.data" \
    | head -5001 >"$tmp/r.csv"
cat >"$tmp/c.json" <<'JSON'
{
  "features": [
    {"name": "user", "embedding_dim": 8},
    {"name": "item", "embedding_dim": 8, "bias": true}
  ],
  "layers": [{"units": 16, "activation": "relu"}, {"units": 1}],
  "label": "rating",
  "optimizer": {"kind": "adagrad", "learning_rate": 0.1},
  "seed": 7,
  "training": {"epochs": 3, "batch_size": 64, "validation_fraction": 0.1,
               "early_stopping": true, "patience": 1}
}
JSON
expect 0 "train --config" -- "$tfrsc" train --data "$tmp/r.csv" --config "$tmp/c.json" \
    --save "$tmp/c.tfrs"
contains "$tmp/out" "val_rmse" "validation metrics"
expect 0 "rank with a config model" -- "$tfrsc" rank --model "$tmp/c.tfrs" --user u1 --top 3
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "rank --top 3 on the config model"
printf 'user,item\nu1,1\n' >"$tmp/p.csv"
expect 0 "predict --input --csv" -- "$tfrsc" predict --model "$tmp/c.tfrs" --csv --input "$tmp/p.csv"
printf 'user,item,rating\nu1,1\nu2,3,4\n' >"$tmp/short.csv"
expect 1 "malformed data" -- "$tfrsc" eval --model "$tmp/c.tfrs" --data "$tmp/short.csv"
contains "$tmp/err" "short.csv:2" "malformed data names file and line"

if [ $failures -gt 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all tfrsc checks passed ($mode)"
