#!/usr/bin/env python3
# compare.py - runs libtfrsc's benchmarks and the PyTorch peer side by side
# on this machine and prints the ratios against the targets of issue 13 (issue 4's before it)
# as a Markdown summary.
#
# Copyright 2026 The libtfrsc Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Only the Python standard library is used.  The PyTorch peer
# (../shared/peer/torch_ranking.py, never a dependency of the project) runs
# under /usr/bin/python3 when it and torch are available; without it the
# script still reports our own figures.
#
#   bench/compare.py --build build            # everything (a few minutes)
#   bench/compare.py --build build --quick    # fewer repeats, no 25M scale run
#
# Every raw result (JSON lines of our benchmarks, RESULT lines of the peer)
# is kept in --out (default: a new directory under /tmp); the Markdown
# summary goes to stdout and to OUT/summary.md.  Figures are medians of
# repeated runs; see docs/performance.md.
"""Run libtfrsc's benchmarks and the PyTorch peer in one go and print ratios."""

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUNED = ("glibc.malloc.mmap_threshold=33554432:"
         "glibc.malloc.trim_threshold=1073741824")
LOADS = []   # 1-minute load average before each run
ML_SYNTH_25M = ["--ratings", "25000000", "--users", "160000", "--items", "60000",
                "--seed", "1"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default=os.path.join(SRC, "build"),
                   help="meson build directory (default: build/ of the source tree)")
    p.add_argument("--data", default=None,
                   help="MovieLens 100K (default: TFRSC_DATA, data/ml-100k, ../shared/data/ml-100k)")
    p.add_argument("--out", default=None, help="directory for raw results (default: new under /tmp)")
    p.add_argument("--peer", default=os.path.join(SRC, "..", "shared", "peer", "torch_ranking.py"))
    p.add_argument("--peer-sgemm", default=None,
                   help="sgemm_bench.py of the peer (default: next to --peer)")
    p.add_argument("--python", default="/usr/bin/python3", help="interpreter for the peer")
    p.add_argument("--no-peer", action="store_true", help="only our benchmarks")
    p.add_argument("--no-scale", action="store_true", help="skip the 25M-rating scale run")
    p.add_argument("--scale-dir", default="/tmp/tfrsc-ml-synth-25m",
                   help="where ml-synth writes the 25M data (never inside the repository)")
    p.add_argument("--keep-scale-data", action="store_true",
                   help="keep the generated 25M data (about 650 MB) for the next run")
    p.add_argument("--peer-epochs", type=int, default=6,
                   help="epochs per peer training run; the first is a warm-up (default 6)")
    p.add_argument("--repeats", type=int, default=7, help="timed epochs per bench-train configuration")
    p.add_argument("--rss-runs", type=int, default=3, help="runs of each tutorial for peak RSS")
    p.add_argument("--serve-calls", type=int, default=2000)
    p.add_argument("--quick", action="store_true",
                   help="fewer repeats and no scale run (a smoke test of this script)")
    a = p.parse_args()
    if a.quick:
        a.repeats, a.peer_epochs, a.rss_runs, a.serve_calls = 3, 3, 1, 300
        a.no_scale = True
    if a.peer_sgemm is None:
        a.peer_sgemm = os.path.join(os.path.dirname(a.peer), "sgemm_bench.py")
    return a


def find_data(arg):
    def ok(d):
        return d and os.path.isfile(os.path.join(d, "u.data"))
    if arg:
        return os.path.abspath(arg) if ok(arg) else None
    env = os.environ.get("TFRSC_DATA")
    if env:
        return os.path.abspath(env) if ok(env) else None
    for d in ("data/ml-100k", "../shared/data/ml-100k"):
        d = os.path.join(SRC, d)
        if ok(d):
            return os.path.abspath(d)
    return None


def run(cmd, env=None, save=None, check=True):
    """Runs cmd (cwd = source root); returns (stdout text, rusage, seconds).
    ru_maxrss of this one child comes from os.wait4."""
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    LOADS.append(os.getloadavg()[0])
    full_env = dict(os.environ)
    if env:
        for k, v in env.items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=SRC, env=full_env, stdout=out)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    secs = time.monotonic() - t0
    if save:
        with open(save, "w") as f:
            f.write(text)
    if check and proc.returncode != 0:
        raise SystemExit(f"compare.py: {cmd[0]} exited with {proc.returncode}")
    return text, ru, secs, proc.returncode


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def pick(lines, name, **params):
    for d in lines:
        if d.get("name") == name and all(d.get("params", {}).get(k) == v for k, v in params.items()):
            return d
    return None


def peer_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return None


def machine():
    info = {"python": platform.python_version(), "kernel": platform.release(),
            "cpus": os.cpu_count()}
    try:
        txt = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in txt.splitlines():
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k in ("Model name", "Core(s) per socket", "Socket(s)", "Thread(s) per core",
                     "L1d cache", "L2 cache", "L3 cache", "Hypervisor vendor", "CPU(s)"):
                info[k] = v
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["MemTotal"] = f.readline().split(":")[1].strip()
    except OSError:
        pass
    return info


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int) or (isinstance(x, float) and abs(x) >= 1000):
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def main():
    a = parse_args()
    data = find_data(a.data)
    if data is None:
        raise SystemExit("compare.py: MovieLens 100K not found (--data, TFRSC_DATA, data/ml-100k, "
                         "../shared/data/ml-100k)")
    b = os.path.abspath(a.build)
    exe = {n: os.path.join(b, "bench", n) for n in ("bench-train", "bench-serve", "bench-load",
                                                    "bench-scale")}
    exe["ml-synth"] = os.path.join(b, "tools", "ml-synth")
    exe["example"] = os.path.join(b, "examples", "movielens_ranking")
    for n, p in exe.items():
        if not os.access(p, os.X_OK):
            raise SystemExit(f"compare.py: {p} not built (meson compile -C {a.build})")
    out = a.out or tempfile.mkdtemp(prefix="tfrsc-bench-")
    os.makedirs(out, exist_ok=True)
    ours_env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "GLIBC_TUNABLES": None}
    peer_ok = (not a.no_peer and os.path.isfile(a.peer) and os.access(a.python, os.X_OK) and
               subprocess.run([a.python, "-c", "import torch"], capture_output=True).returncode == 0)
    if not a.no_peer and not peer_ok:
        log("compare.py: the PyTorch peer is not runnable here; reporting our figures only")
    R = {"machine": machine(), "load_avg_start": os.getloadavg(), "commands": {}}
    t_start = time.monotonic()

    # ---- ours -------------------------------------------------------------
    cmd = [exe["bench-load"], "--data", data]
    R["commands"]["load"] = "OPENBLAS_NUM_THREADS=1 bench-load"
    load = json_lines(run(cmd, ours_env, os.path.join(out, "bench-load.jsonl"))[0])

    cmd = [exe["bench-train"], "--data", data, "--repeats", str(a.repeats)]
    R["commands"]["train"] = "OPENBLAS_NUM_THREADS=1 bench-train --repeats %d" % a.repeats
    txt, _, _, rc = run(cmd, ours_env, os.path.join(out, "bench-train.jsonl"), check=False)
    train = json_lines(txt)
    R["alloc_exit_status"] = rc

    cmd = [exe["bench-serve"], "--data", data, "--calls", str(a.serve_calls)]
    R["commands"]["serve"] = "OPENBLAS_NUM_THREADS=1 bench-serve --calls %d" % a.serve_calls
    serve = json_lines(run(cmd, ours_env, os.path.join(out, "bench-serve.jsonl"))[0])

    rss = []
    save = os.path.join(out, "example.tfrs")
    for _ in range(a.rss_runs):
        _, ru, secs, _ = run([exe["example"], "--data", data, "--save", save], ours_env,
                             os.path.join(out, "example.txt"))
        rss.append(ru.ru_maxrss * 1024)
    R["example_peak_rss"] = statistics.median(rss)
    R["commands"]["rss"] = ("OPENBLAS_NUM_THREADS=1 movielens_ranking --save FILE "
                            "(ru_maxrss of the child, as /usr/bin/time -v reports it)")

    scale = []
    if not a.no_scale:
        d = os.path.abspath(a.scale_dir)
        if os.path.commonpath([d, SRC]) == SRC:
            raise SystemExit("compare.py: --scale-dir must be outside the repository")
        info = os.path.join(d, "u.info")
        want = "160000 users\n60000 items\n25000000 ratings\n"
        if not (os.path.isfile(info) and open(info).read() == want):
            _, _, secs, _ = run([exe["ml-synth"]] + ML_SYNTH_25M + ["--out", d], None)
            R["ml_synth_seconds"] = secs
        cmd = [exe["bench-scale"], "--data", d, "--ref-data", data]
        R["commands"]["scale"] = ("ml-synth " + " ".join(ML_SYNTH_25M) + " --out DIR && "
                                  "OPENBLAS_NUM_THREADS=1 bench-scale --data DIR")
        scale = json_lines(run(cmd, ours_env, os.path.join(out, "bench-scale.jsonl"))[0])
        if not a.keep_scale_data:
            for f in ("u.data", "u.item", "u.user", "u.info"):
                try:
                    os.unlink(os.path.join(d, f))
                except OSError:
                    pass
            try:
                os.rmdir(d)
            except OSError:
                pass

    # ---- the PyTorch peer -------------------------------------------------
    peer = {}
    if peer_ok:
        def torch_run(tag, args, tuned=True, threads=1):
            env = {"GLIBC_TUNABLES": TUNED if tuned else None,
                   "OPENBLAS_NUM_THREADS": None, "OMP_NUM_THREADS": None}
            cmd = [a.python, a.peer, "--data", data, "--threads", str(threads), "--quiet"] + args
            txt, ru, _, _ = run(cmd, env, os.path.join(out, f"peer-{tag}.txt"))
            res = peer_result(txt) or {}
            res["peak_rss"] = ru.ru_maxrss * 1024
            res["command"] = ((f"GLIBC_TUNABLES={TUNED} " if tuned else "") +
                              "/usr/bin/python3 torch_ranking.py --threads %d " % threads +
                              " ".join(args))
            peer[tag] = res
            return res

        E = str(a.peer_epochs)
        torch_run("b8192_tuned_1t", ["--batch-size", "8192", "--epochs", E])
        torch_run("b8192_default_1t", ["--batch-size", "8192", "--epochs", E], tuned=False)
        torch_run("b8192_tuned_2t", ["--batch-size", "8192", "--epochs", E], threads=2)
        torch_run("b1024_tuned_1t", ["--batch-size", "1024", "--epochs", E])
        torch_run("b256_tuned_1t", ["--batch-size", "256", "--epochs", E])
        torch_run("serve", ["--epochs", "1", "--serve-bench", str(a.serve_calls)])
        for k in range(a.rss_runs):
            torch_run(f"rss_tuned_{k}", [])
            torch_run(f"rss_default_{k}", [], tuned=False)
        if os.path.isfile(a.peer_sgemm):
            txt, _, _, _ = run([a.python, a.peer_sgemm, "--threads", "1", "--reps", "50"], None,
                               os.path.join(out, "peer-sgemm.txt"))
            peer["sgemm"] = peer_result(txt)
    R["load_avg_end"] = os.getloadavg()
    LOADS.append(R["load_avg_end"][0])
    R["load_avg_runs"] = LOADS
    R["seconds"] = time.monotonic() - t_start
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"R": R, "peer": peer, "ours": {"load": load, "train": train, "serve": serve,
                                                  "scale": scale}}, f, indent=1)

    md = summarize(a, R, load, train, serve, scale, peer, out)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(md)
    print(md)
    log(f"compare.py: raw results in {out}")


def peer_epoch_rate(res):
    """Median examples/s over the epochs after the first (a warm-up)."""
    eps = (res or {}).get("epochs") or []
    rates = [e["examples_per_s"] for e in eps[1:]] or [e["examples_per_s"] for e in eps]
    return statistics.median(rates) if rates else None


def ratio(x, y):
    return x / y if x is not None and y else None


def summarize(a, R, load, train, serve, scale, peer, out):
    L = []
    m = R["machine"]
    L.append("## libtfrsc vs PyTorch peer (bench/compare.py)\n")
    L.append(f"Machine: {m.get('Model name', '?')}, {m.get('CPU(s)', m.get('cpus'))} CPUs "
             f"({m.get('Core(s) per socket', '?')} cores/socket, {m.get('Thread(s) per core', '?')} "
             f"thread/core), L1d {m.get('L1d cache', '?')}, L2 {m.get('L2 cache', '?')}, "
             f"L3 {m.get('L3 cache', '?')}, {m.get('MemTotal', '?')}; "
             f"1-minute load average {min(R['load_avg_runs']):.2f} .. {max(R['load_avg_runs']):.2f} "
             f"across the runs; {R['seconds']:.0f} s in all.  Medians of repeated runs.\n")
    ncpu = os.cpu_count() or 1
    if max(R["load_avg_runs"]) > 0.5 * ncpu:
        L.append(f"**Warning: the machine was busy (load average up to "
                 f"{max(R['load_avg_runs']):.1f} on {ncpu} CPUs).  Two-thread figures need idle "
                 f"cores and are not meaningful under such load; one-thread ratios are "
                 f"less affected but noisier.**\n")

    def fit(batch, threads):
        d = pick(train, "fit", batch=batch, threads=threads)
        return d["median"] if d else None

    p = {k: peer_epoch_rate(v) for k, v in peer.items() if isinstance(v, dict) and "epochs" in v}
    rows = []  # (target, ours, peer, ratio, goal, met)

    def row(name, ours, theirs, r, goal, met, unit=""):
        rows.append((name, fmt(ours) + unit, fmt(theirs) + unit if theirs is not None else "n/a",
                     fmt(r) if r is not None else "n/a", goal,
                     "n/a" if met is None else ("**yes**" if met else "no")))

    o81, o82 = fit(8192, 1), fit(8192, 2)
    # Issue 13's targets: 2.5x with OpenBLAS's native kernels, 2.2x when
    # OPENBLAS_CORETYPE forces Haswell's.
    haswell = os.environ.get("OPENBLAS_CORETYPE", "").lower() == "haswell"
    need_8192 = 2.2 if haswell else 2.5
    goal_8192 = f">= {need_8192}" + (" (Haswell)" if haswell else "")
    pt = p.get("b8192_tuned_1t")
    r = ratio(o81, pt)
    row("train b8192 1T vs tuned PyTorch (ex/s)", o81, pt, r, goal_8192,
        None if r is None else r >= need_8192)
    r = ratio(o81, p.get("b8192_default_1t"))
    row("train b8192 1T vs default-malloc PyTorch", o81, p.get("b8192_default_1t"), r, "(info)", None)
    r = ratio(o82, p.get("b8192_tuned_2t"))
    row("train b8192 2T vs tuned PyTorch 2T", o82, p.get("b8192_tuned_2t"), r, "(info)", None)
    r = ratio(o82, o81)
    row("train b8192 2T vs our 1T", o82, o81, r, ">= 1.8", None if r is None else r >= 1.8)
    o2561 = fit(256, 1)
    r = ratio(o2561, p.get("b256_tuned_1t"))
    row("train b256 1T vs tuned PyTorch", o2561, p.get("b256_tuned_1t"), r, ">= 3",
        None if r is None else r >= 3)
    o10241 = fit(1024, 1)
    r = ratio(o10241, p.get("b1024_tuned_1t"))
    row("train b1024 1T vs tuned PyTorch", o10241, p.get("b1024_tuned_1t"), r, "(info)", None)

    ev = pick(train, "evaluate")
    pe = [v.get("eval_s") for k, v in peer.items() if k.startswith("b") and k.endswith("tuned_1t")
          and v.get("eval_s")]
    pev = 20000 / statistics.median(pe) if pe else None
    r = ratio(ev and ev["median"], pev)
    row("evaluate b4096 (ex/s)", ev and ev["median"], pev, r, "(info)", None)

    ps = (peer.get("serve") or {}).get("serve") or {}
    ra, r1 = pick(serve, "rank_all"), pick(serve, "rank_one")
    rai, r1i = pick(serve, "rank_all_ids"), pick(serve, "rank_one_ids")
    pa = (ps.get("all_items_ids") or {}).get("median_us")
    p1 = (ps.get("one_item_ids") or {}).get("median_us")
    pas = (ps.get("all_items_with_string_lookup") or {}).get("median_us")
    # Like for like: the peer scores ids (no string lookup, no sort); so does
    # rank_ids (which also sorts).  The string forms are compared below.
    r = ratio(pa, rai and rai["median"])
    row("rank 1682 films by id, p50 latency (us; ratio = PyTorch/ours)", rai and rai["median"],
        pa, r, ">= 3", None if r is None else r >= 3)
    row("  (rank 1682 films as strings vs PyTorch with string lookup, us)", ra and ra["median"],
        pas, ratio(pas, ra and ra["median"]), "(info)", None)
    row("  (rank 1682 films as strings vs PyTorch ids, us)", ra and ra["median"], pa,
        ratio(pa, ra and ra["median"]), "(info)", None)
    pia = pick(serve, "predict_ids_all")
    row("  (predict_ids 1682, plain forward pass, us)", pia and pia["median"], pa,
        ratio(pa, pia and pia["median"]), "(info)", None)
    r = ratio(p1, r1i and r1i["median"])
    row("rank 1 candidate by id, p50 latency (us)", r1i and r1i["median"], p1, r, ">= 15",
        None if r is None else r >= 15)
    row("  (rank 1 candidate as strings, us)", r1 and r1["median"], p1,
        ratio(p1, r1 and r1["median"]), "(info)", None)

    lv = pick(load, "load_vocab")
    lvs = pick(load, "load_vocab_split")
    pl = [v.get("data_load_vocab_s") for v in peer.values() if isinstance(v, dict)
          and v.get("data_load_vocab_s")]
    plm = 1e3 * statistics.median(pl) if pl else None
    row("ML-100K load + vocabularies (ms)", lv and lv["median"], plm,
        ratio(plm, lv and lv["median"]), "<= 15 ms", None if not lv else lv["median"] <= 15)
    row("  (+ shuffle and split, as the peer's figure, ms)", lvs and lvs["median"], plm,
        ratio(plm, lvs and lvs["median"]), "(info)", None)

    prss = [v["peak_rss"] for k, v in peer.items() if k.startswith("rss_")]
    prss_t = [v["peak_rss"] for k, v in peer.items() if k.startswith("rss_tuned")]
    prss_d = [v["peak_rss"] for k, v in peer.items() if k.startswith("rss_default")]
    pr = min(statistics.median(prss_t), statistics.median(prss_d)) if prss else None
    ours_rss = R["example_peak_rss"] / 1e6
    r = ratio(ours_rss, pr and pr / 1e6)
    row("peak RSS of the 3-epoch tutorial (MB; ratio = ours/PyTorch)", ours_rss,
        pr and pr / 1e6, r, "<= 0.2", None if r is None else r <= 0.2)

    al = [d for d in train if d.get("name") == "alloc"]
    ok = all(d.get("ok") for d in al) if al else None
    row("allocations in fit after batch 1 (all batch/thread configs)",
        sum(d["allocs_after_first_batch"] for d in al) if al else None, None, None, "0", ok)
    det = pick(train, "determinism")
    if det:
        row("same seed bit-identical, 1 thread / 2 threads", None, None, None, "yes",
            det["identical_1_thread"] and det["identical_2_threads"])
        rows[-1] = (rows[-1][0], f"{fmt(det['identical_1_thread'])} / {fmt(det['identical_2_threads'])}"
                    f" (1T vs 2T: largest parameter difference "
                    f"{fmt(det['max_abs_param_diff_1_vs_2_threads'])})",
                    *rows[-1][2:])

    sl, sm, sf = pick(scale, "load"), pick(scale, "memory"), pick(scale, "fit")
    if sl:
        row("25M load (MB/s of input)", sl["mb_per_s"], None, None, ">= 100", sl["mb_per_s"] >= 100)
    if sm:
        row("25M memory per rating, RSS (bytes)", sm["rss_bytes_per_rating"], None, None, "<= 32",
            sm["rss_bytes_per_rating"] <= 32)
        row("25M memory per rating, dataset's own (bytes)", sm["dataset_bytes_per_rating"], None,
            None, "(info)", None)
    if sf and sf.get("ratio_to_ml100k"):
        row("25M train b8192 1T vs 100K (ex/s)", sf["median"], sf["ml100k_examples_per_s"],
            sf["ratio_to_ml100k"], ">= 0.85", sf["ratio_to_ml100k"] >= 0.85)

    L.append("| Figure | Ours | PyTorch / reference | Ratio | Target | Met |")
    L.append("|---|---:|---:|---:|---|---|")
    for t in rows:
        L.append("| " + " | ".join(str(x) for x in t) + " |")

    # All training figures with the sgemm references.
    L.append("\n### Training throughput and sgemm references (1 epoch = 80,000 examples)\n")
    L.append("| Batch | Threads | Ours ex/s | epoch ms | model GFLOP/s | sgemm step full-batch "
             "GFLOP/s | ratio | sgemm step slice GFLOP/s | ratio | PyTorch ex/s (tuned) |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in train:
        if d.get("name") != "fit":
            continue
        bsz, th = d["params"]["batch"], d["params"]["threads"]
        pk = f"b{bsz}_tuned_{th}t"
        L.append(f"| {bsz} | {th} | {fmt(d['median'])} | {fmt(d['epoch_ms'])} | "
                 f"{fmt(d['model_gflops'])} | {fmt(d.get('sgemm_full_gflops'))} | "
                 f"{fmt(d.get('ratio_full'))} | {fmt(d.get('sgemm_slice_gflops'))} | "
                 f"{fmt(d.get('ratio_slice'))} | {fmt(p.get(pk))} |")
    L.append("\n### sgemm alone (cblas_sgemm, 1 thread unless stated)\n")
    L.append("| GEMM | M | N | K | GFLOP/s |")
    L.append("|---|---:|---:|---:|---:|")
    for d in train:
        if d.get("name") == "sgemm":
            q = d["params"]
            L.append(f"| {q['gemm']} | {q['M']} | {q['N']} | {q['K']} | {fmt(d['median'])} |")
        elif d.get("name") == "sgemm_step":
            q = d["params"]
            L.append(f"| whole step ({q['threads']} thread{'s' if q['threads'] > 1 else ''}) | "
                     f"{q['rows']} | | | {fmt(d['median'])} |")
    if peer.get("sgemm"):
        for k, v in peer["sgemm"].get("numpy", {}).items():
            L.append(f"| numpy (peer sgemm_bench) {k} | {v['M']} | {v['N']} | {v['K']} | "
                     f"{fmt(v['gflops_median'])} |")

    L.append("\n### Serving (trained tutorial model; latency per call)\n")
    L.append("| Call | Candidates | p50 us | p99 us | scores/s |")
    L.append("|---|---:|---:|---:|---:|")
    for d in serve:
        if "median" in d:
            L.append(f"| {d['name']} | {d['params']['candidates']} | {fmt(d['median'])} | "
                     f"{fmt(d.get('p99'))} | {fmt(d.get('scores_per_s'))} |")
    for k in ("all_items_ids", "one_item_ids", "all_items_with_string_lookup"):
        if ps.get(k):
            L.append(f"| PyTorch {k} | {1682 if 'all' in k else 1} | {fmt(ps[k]['median_us'])} | "
                     f"(p90 {fmt(ps[k]['p90_us'])}) | |")

    L.append("\n### Load (ML-100K, ms)\n")
    L.append("| Step | median | p99 | first run |")
    L.append("|---|---:|---:|---:|")
    for d in load:
        L.append(f"| {d['name']} | {fmt(d['median'])} | {fmt(d.get('p99'))} | {fmt(d.get('first'))} |")

    if scale:
        L.append("\n### Scale (ml-synth, 25M ratings, 160k users, 60k items)\n")
        if R.get("ml_synth_seconds"):
            L.append(f"- ml-synth wrote the data in {R['ml_synth_seconds']:.1f} s")
        if sl:
            L.append(f"- load: {fmt(sl['median'])} s median of {sl['repeats']}, "
                     f"{fmt(sl['mb_per_s'])} MB/s of input ({fmt(sl['params']['input_bytes'] / 1e6)} MB), "
                     f"{fmt(sl['ratings_per_s'])} ratings/s")
        if sm:
            L.append(f"- memory: RSS +{fmt(sm['rss_delta_bytes'] / 1e6)} MB = "
                     f"{fmt(sm['rss_bytes_per_rating'])} B/rating; the dataset's own bytes "
                     f"{fmt(sm['dataset_bytes'] / 1e6)} MB = {fmt(sm['dataset_bytes_per_rating'])} "
                     f"B/rating (pools {fmt(sm['pool_bytes'] / 1e6)} MB); peak RSS while loading "
                     f"+{fmt(sm['peak_rss_delta_during_load'] / 1e6)} MB")
        sv = pick(scale, "vocab")
        if sv:
            L.append(f"- vocabularies: {fmt(sv['median'])} s ({sv['users']} users, "
                     f"{sv['titles']} titles); shuffle {fmt(sv['shuffle_s'])} s")
        if sf:
            L.append(f"- fit b8192 1T on {sf['params']['rows']:,} rows: {fmt(sf['median'])} ex/s; "
                     f"ML-100K same protocol {fmt(sf.get('ml100k_examples_per_s'))} ex/s; ratio "
                     f"{fmt(sf.get('ratio_to_ml100k'))}")

    L.append("\n### Commands\n")
    for k, v in R["commands"].items():
        L.append(f"- {k}: `{v}`")
    for k, v in peer.items():
        if isinstance(v, dict) and v.get("command") and not k.startswith("rss_"):
            L.append(f"- peer {k}: `{v['command']}`")
    if any(k.startswith("rss_") for k in peer):
        L.append(f"- peer peak RSS: `torch_ranking.py` with defaults (3 epochs, batch 8192), tuned "
                 f"and default malloc, {a.rss_runs} runs each, ru_maxrss of the child; the lower "
                 f"median is the reference")
    L.append(f"\nRaw results: {out}\n")
    return "\n".join(L)


if __name__ == "__main__":
    main()
