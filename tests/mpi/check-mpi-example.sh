#!/usr/bin/env bash
# check-mpi-example.sh MPIRUN MPI_EXAMPLE EXAMPLE ML_SYNTH [COMPARE]
#
# The tutorial on MPI ranks (examples/movielens_ranking_mpi) against the
# single-process example (examples/movielens_ranking), on MovieLens 100K
# when it is found ($TFRSC_DATA, data/ml-100k, ../shared/data/ml-100k) and
# on tools/ml-synth's data otherwise:
#   1. 1, 2 and 3 ranks print the single-process lines (numbers within 1e-4;
#      one rank saves the same model file, bit for bit);
#   2. after one epoch, the parameters of 2 and 3 ranks agree with one
#      process (largest difference relative to each tensor's largest
#      weight, at most 1e-4; printed);
#   3. a rank killed with SIGKILL mid-epoch ends the job within 60 s; the
#      same command again resumes from the checkpoint and saves the model
#      that an uninterrupted run saves, bit for bit;
#   4. a malformed line in the last rank's part of u.data (--sharded) fails
#      every rank, naming the rank and file:line, within 60 s.
#
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail

mpirun=$1 mpiex=$2 ex=$3 synth=$4 compare=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { "$mpirun" --oversubscribe "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

. "$(dirname "$0")/../movielens-dir.sh"
data=$(movielens_dir u.item)
if [ -z "$data" ]; then
    "$synth" --ratings 100000 --out "$tmp/synth" >/dev/null
    data=$tmp/synth
fi
echo "data: $data"

# Numbers within 1e-4 (absolute or relative), everything else equal; the
# epoch times and the save path are left out.
same_lines() {
    python3 - "$1" "$2" <<'PY'
import re, sys
num = re.compile(r'-?\d+(?:\.\d+)?(?:e[-+]?\d+)?')
def clean(line):
    line = re.sub(r' - \d+ms$', '', line.rstrip('\n'))
    return re.sub(r'saved to \S+', 'saved to PATH', line)
a = [clean(l) for l in open(sys.argv[1])]
b = [clean(l) for l in open(sys.argv[2])]
if len(a) != len(b):
    sys.exit(f'{len(a)} lines against {len(b)}')
for i, (x, y) in enumerate(zip(a, b), 1):
    if num.sub('#', x) != num.sub('#', y):
        sys.exit(f'line {i} differs:\n  {x}\n  {y}')
    for p, q in zip(num.findall(x), num.findall(y)):
        p, q = float(p), float(q)
        if abs(p - q) > 1e-4 * max(1.0, abs(p)):
            sys.exit(f'line {i}: {p} vs {q}\n  {x}\n  {y}')
PY
}

# 1. The tutorial on 1, 2 and 3 ranks.
"$ex" --data "$data" --save "$tmp/one.tfrs" > "$tmp/one.txt"
for np in 1 2 3; do
    run -np $np "$mpiex" --data "$data" --save "$tmp/np$np.tfrs" > "$tmp/np$np.txt" \
        2> "$tmp/np$np.err" || { cat "$tmp/np$np.err" >&2; fail "$np ranks"; }
    same_lines "$tmp/one.txt" "$tmp/np$np.txt" || fail "$np ranks print other lines"
    grep -q "bit-identical" "$tmp/np$np.txt" || fail "$np ranks: saved model predicts otherwise"
    echo "$np rank(s): the single-process lines"
done
cmp "$tmp/one.tfrs" "$tmp/np1.tfrs" || fail "one rank saved another model file"

# 2. Parameters after one epoch.
if [ -n "$compare" ]; then
    "$ex" --data "$data" --epochs 1 --save "$tmp/e1.tfrs" > /dev/null
    for np in 2 3; do
        run -np $np "$mpiex" --data "$data" --epochs 1 --save "$tmp/e1np$np.tfrs" \
            > /dev/null 2>&1 || fail "$np ranks, one epoch"
        "$compare" "$tmp/e1.tfrs" "$tmp/e1np$np.tfrs" 1e-4 \
            || fail "$np ranks: parameters after one epoch"
    done
fi

# 3. A rank killed mid-epoch; the same command again resumes.
cmd=(-np 2 "$mpiex" --data "$data" --epochs 12 --batch-size 256 --checkpoint-every 50)
run "${cmd[@]}" --checkpoint "$tmp/ref.ckpt" --save "$tmp/ref.tfrs" > /dev/null 2>&1 \
    || fail "uninterrupted run"
run "${cmd[@]}" --checkpoint "$tmp/k.ckpt" --save "$tmp/k.tfrs" > "$tmp/k1.txt" 2>&1 &
job=$!
for _ in $(seq 600); do [ -f "$tmp/k.ckpt" ] && break; sleep 0.1; done
[ -f "$tmp/k.ckpt" ] || fail "no checkpoint after 60 s"
sleep 0.5
victim=$(pgrep -f -- "$mpiex --data $data --epochs 12" | tail -n 1)
[ -n "$victim" ] || fail "no rank to kill"
kill -KILL "$victim"
for _ in $(seq 600); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
if kill -0 $job 2>/dev/null; then
    kill -KILL $job; fail "the job still runs 60 s after a rank was killed"
fi
if wait $job; then fail "the job with a killed rank succeeded"; fi
[ ! -f "$tmp/k.tfrs" ] || fail "the killed job saved a model"
run "${cmd[@]}" --checkpoint "$tmp/k.ckpt" --save "$tmp/k.tfrs" > "$tmp/k2.txt" 2>&1 \
    || { cat "$tmp/k2.txt" >&2; fail "the restarted job"; }
grep -q "resumed from" "$tmp/k2.txt" || fail "the restarted job did not resume"
grep "resumed from" "$tmp/k2.txt"
cmp "$tmp/ref.tfrs" "$tmp/k.tfrs" || fail "the resumed job saved other weights"
echo "killed rank: job ended; restart resumed to the uninterrupted model"

# 4. A malformed line in the last rank's part.
"$synth" --ratings 20000 --out "$tmp/bad" > /dev/null
line=19990
sed -i "${line}s/\t[0-9]\t/\tfive\t/" "$tmp/bad/u.data"
grep -q "five" "$tmp/bad/u.data" || fail "could not corrupt u.data"
if timeout 60 "$mpirun" --oversubscribe -np 2 "$mpiex" --sharded --data "$tmp/bad" \
        > "$tmp/bad.txt" 2>&1; then
    fail "a malformed shard trained"
fi
for r in 0 1; do
    grep -q "^rank $r: .*rank 1: .*u.data:$line:" "$tmp/bad.txt" \
        || { cat "$tmp/bad.txt" >&2; fail "rank $r did not name rank 1 and u.data:$line"; }
done
echo "malformed shard: every rank names rank 1 and u.data:$line"
