#!/usr/bin/env python3
"""Turns the perf suite's JSON into markdown tables: cpuattn, every peer, the ratio to the best
peer of the same run, and the fraction of the machine's measured FMA peak. Medians throughout.
Usage: report.py RESULTS_DIR  (main.json, openblas_native.json, memory.txt)"""
import json
import os
import sys
from collections import OrderedDict, defaultdict


def load(path):
    """Medians by (op, impl, args), the run's context, and each row's place among the benchmark's
    registered shapes (the suite runs in random interleaved order, so the JSON's is arbitrary)."""
    if not os.path.exists(path):
        return {}, {}, {}
    with open(path) as f:
        data = json.load(f)
    out, order = {}, {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") not in (None, "median") or b.get("error_occurred"):
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        name = name.replace("/real_time", "")
        parts = name.split("/")
        # bm_<op>/<impl>/<args...>, peak/fma/<isa>/threads:N, peak/copy[_stream]/threads:N
        if parts[0] == "peak" and parts[1] in ("copy", "copy_stream"):
            op, impl, args = parts[1], parts[1], "/".join(parts[2:])
        elif parts[0] == "peak":
            op, impl, args = "peak", parts[2], "/".join(parts[3:])
        else:
            op, impl, args = parts[0][3:], parts[1], "/".join(parts[2:])
        value = b.get("GFLOPS", b.get("GBps"))
        if value is None:
            continue
        order[(op, args)] = b.get("per_family_instance_index", len(order))
        out[(op, impl, args)] = value / 1e9 if value > 1e6 else value
        if "GFLOPS" in b and "GBps" in b:  # attention: bytes too, the measure for decoding
            order[(op + "_bytes", args)] = order[(op, args)]
            out[(op + "_bytes", impl, args)] = b["GBps"] / 1e9 if b["GBps"] > 1e6 else b["GBps"]
    return out, data.get("context", {}), order


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


def threads_of(args):
    for a in args.split("/"):
        if a.startswith("threads:"):
            return int(a.split(":")[1])
    return 1


def table(results, order, op, impls, peak, title, unit, own_peers=(), peak_label="% of peak",
          peak_applies=lambda args: True, rows_with=lambda args: True):
    rows = OrderedDict()
    mine = [(args, impl, v) for (o, impl, args), v in results.items() if o == op]
    for args, impl, v in sorted(mine, key=lambda row: order.get((op, row[0]), 0)):
        if rows_with(args):
            rows.setdefault(args, {})[impl] = v
    if not rows:
        return ""
    cols = [i for i in impls if any(i in r for r in rows.values())]
    head = ["shape"] + cols + ["best peer", "cpuattn / best"] + ([peak_label] if peak else [])
    lines = [f"### {title} ({unit}, median)", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for args, r in rows.items():
        peers = {k: v for k, v in r.items() if k != "cpuattn" and k not in own_peers}
        best = max(peers.items(), key=lambda kv: kv[1]) if peers else None
        ours = r.get("cpuattn")
        line = [args] + [fmt(r.get(c)) for c in cols]
        line.append(f"{best[0]} {best[1]:.1f}" if best else "-")
        line.append(f"{ours / best[1]:.2f}x" if best and ours else "-")
        if peak:
            p = peak.get(threads_of(args)) if peak_applies(args) else None
            line.append(f"{100 * ours / p:.0f}%" if p and ours else "-")
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines) + "\n"


def main():
    d = sys.argv[1]
    main_results, ctx, order = load(os.path.join(d, "main.json"))
    native, native_ctx, _ = load(os.path.join(d, "openblas_native.json"))
    results = {}
    core = ctx.get("openblas_corename", "?")
    for (op, impl, args), v in main_results.items():
        if impl == "openblas":
            impl = f"openblas[{ctx.get('OPENBLAS_CORETYPE', '?')}:{core}]"
        results[(op, impl, args)] = v
    for (op, impl, args), v in native.items():
        if impl == "openblas":
            results[(op, f"openblas[native:{native_ctx.get('openblas_corename', '?')}]", args)] = v
    peak, memcpy, stream = {}, {}, {}
    for (op, impl, args), v in results.items():
        # The larger of the ISAs' medians: where AVX-512 runs on 256-bit units (Zen 4) both
        # measure the same FMA pipes, and one noisy median (104.8 against 116.8) put results over
        # 100% of "peak".
        if op == "peak":
            peak[threads_of(args)] = max(peak.get(threads_of(args), 0.0), v)
        if op == "copy":
            memcpy[threads_of(args)] = v
        if op == "copy_stream":
            stream[threads_of(args)] = v
    # Bandwidth rows are quoted against the streaming copy, their roofline (perf/README.md); runs
    # from before it existed against memcpy.
    copy = stream or memcpy
    copy_label = "% of stream copy" if stream else "% of copy"
    print("# cpuattn perf report\n")
    print(f"Machine: {ctx.get('cpu', '?')}, {ctx.get('num_cpus', '?')} CPUs; "
          f"cpuattn ISA {ctx.get('cpuattn_isa', '?')}, {ctx.get('cpuattn_blocks', '')} "
          f"({ctx.get('cpuattn_profile', '')}); date {ctx.get('date', '?')}.\n")
    print("Peak (register-resident FMA chains, GFLOP/s): " +
          ", ".join(f"{impl} {args.replace('threads:', '')}T {v:.1f}"
                    for (op, impl, args), v in sorted(results.items()) if op == "peak") + "\n")
    for name, rates in (("memcpy", memcpy), ("streaming (non-temporal stores)", stream)):
        if rates:
            print(f"Copy bandwidth, {name}, 16 Mi floats (GB/s read + written): " +
                  ", ".join(f"{t}T {v:.1f}" for t, v in sorted(rates.items())) + "\n")
    impls_gemm = ["cpuattn"] + sorted({i for (o, i, a) in results if o == "sgemm" and i != "cpuattn"})
    print(table(results, order, "sgemm", impls_gemm, peak, "sgemm", "GFLOP/s"))
    print(table(results, order, "softmax", ["cpuattn", "onednn", "scalar_exp"], copy,
                "softmax (cols, total floats, aligned: 64-byte aligned buffers)",
                "GB/s read + written", peak_label=copy_label,
                peak_applies=lambda args: "total:16777216" in args))
    print(table(results, order, "attention",
                ["cpuattn", "cpuattn_composed", "onednn_composed", "naive_openblas"], peak,
                "attention (B, H, Lq, Lk, D; causal counts half the FLOPs)", "GFLOP/s",
                own_peers=("cpuattn_composed",), rows_with=lambda args: "Lq:1/" not in args))
    print(table(results, order, "attention_bytes",
                ["cpuattn", "cpuattn_composed", "onednn_composed", "naive_openblas"], copy,
                "decoding: one query per sequence and head, Q K V read and output written",
                "GB/s", own_peers=("cpuattn_composed",), peak_label=copy_label,
                rows_with=lambda args: "Lq:1/" in args))
    print(table(results, order, "mha", ["cpuattn", "onednn_composed"], peak,
                "multi-head layer, projections included", "GFLOP/s"))
    mem = os.path.join(d, "memory.txt")
    if os.path.exists(mem):
        print("### peak resident memory, one attention call at (1,16,4096,4096,128)\n")
        print("```\n" + open(mem).read().strip() + "\n```")


if __name__ == "__main__":
    main()
