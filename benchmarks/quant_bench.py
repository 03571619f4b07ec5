"""Benchmark ptg_quant's per-token-group quantization against a device copy and a Triton kernel.

Per the spec: CUDA events, median of >= 100 launches, input/output buffers rotated through
>= 2x the L2 (so the cache cannot help), device-to-device copy bandwidth and a simple Triton
one-program-per-group kernel measured in the same run. For M <= 256 both per-launch and
CUDA-graph replay times are reported. TB/s = (input + q + scale bytes) / time.

Two copy references, both `dst.copy_(src)` timed like the kernel (events, median, rotation):
  * `% copy (1 GiB)`: TB/s over the bandwidth of one 1 GiB copy (the spec's reference; a large
    copy carries almost none of a launch's fixed costs);
  * `% same-size copy`: the time of a copy moving the case's own bytes (read + write = input +
    q + scale bytes, i.e. (input + q + scale) / 2 bytes copied) over the kernel's time, so both
    carry the same per-launch costs (launch, ramp-up, drain). For M <= 256 the copy is also
    graph-replayed (`copy graph us`).

    python benchmarks/quant_bench.py                 # full table (markdown on stdout)
    python benchmarks/quant_bench.py --quick         # the 8192x7168 headline rows only
    python benchmarks/quant_bench.py --quick --big   # + every M*K >= 50M shape, 4 layouts
    python benchmarks/quant_bench.py --sweep         # time vs M at K=7168: fit t = a + bytes/bw
    python benchmarks/quant_bench.py --json out.json # also write every number
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # the Triton baseline is optional
    triton = None

import ptg_quant
from ptg_quant.quant import allocate_packed_scales, allocate_scales, quant_bounds

ROTATE_BYTES = 2 * 50 * 2**20  # >= 2x the H100's 50 MB L2
ITERS = 200
M_LIST = [1, 16, 64, 256, 1024, 4096, 8192, 16384]
K_LIST = [1536, 2048, 4096, 7168, 16384]
LAYOUTS = ["row", "col", "tma", "packed"]


@dataclass
class Row:
    """One benchmark line."""

    m: int
    k: int
    g: int
    in_dtype: str
    out_dtype: str
    layout: str
    us: float
    us_repeat: float
    tbps: float
    pct_copy: float  # % of the 1 GiB copy's bandwidth
    copy_us: float  # same-size copy (read + write = this case's bytes)
    pct_same_copy: float  # copy_us / us
    graph_us: float | None
    copy_graph_us: float | None
    triton_us: float | None
    speedup_vs_triton: float | None


if triton is not None:

    @triton.jit
    def _triton_group_quant(
        x_ptr, q_ptr, s_ptr, groups_per_row, s_row_stride, s_col_stride, eps, qmin, qmax, G: tl.constexpr
    ):
        """The simple kind: one program per group, no tiling across groups."""
        pid = tl.program_id(0)
        offs = tl.arange(0, G)
        x = tl.load(x_ptr + pid.to(tl.int64) * G + offs).to(tl.float32)
        a = tl.maximum(tl.max(tl.abs(x), axis=0), eps)
        s = a / qmax
        q = tl.clamp(x / s, qmin, qmax).to(q_ptr.dtype.element_ty)
        tl.store(q_ptr + pid.to(tl.int64) * G + offs, q)
        row = pid // groups_per_row
        col = pid % groups_per_row
        tl.store(s_ptr + row * s_row_stride + col * s_col_stride, s)


def _median_event_time(fns: list[Callable[[], None]], iters: int) -> float:
    """Median time (us) of single launches, each timed by its own event pair."""
    for f in fns[: min(len(fns), 10)]:
        f()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        starts[i].record()
        fns[i % len(fns)]()
        ends[i].record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends, strict=True)) * 1e3


def _graph_time(fns: list[Callable[[], None]], per_graph: int = 100, reps: int = 20) -> float:
    """Median per-launch time (us) from replaying a graph of `per_graph` launches."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for f in fns[:3]:
            f()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(per_graph):
            fns[i % len(fns)]()
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        graph.replay()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b) * 1e3 / per_graph)
    return statistics.median(times)


def copy_bandwidth(nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth in TB/s, counting bytes read plus bytes written."""
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda").random_(0, 255)
    dst = torch.empty_like(src)
    us = _median_event_time([lambda: dst.copy_(src)], 100)
    return 2 * nbytes / (us * 1e-6) / 1e12


def same_size_copy(nbytes_moved: int, graphs: bool) -> tuple[float, float | None]:
    """Time (us) of a device-to-device copy moving `nbytes_moved` bytes (read + write), rotating
    buffers like the kernel's cases; also its graph-replay time when `graphs`."""
    n = max(1, nbytes_moved // 2)
    nbuf = min(256, max(2, math.ceil(ROTATE_BYTES / (2 * n))))
    srcs = [torch.empty(n, dtype=torch.uint8, device="cuda").random_(0, 255) for _ in range(nbuf)]
    dsts = [torch.empty_like(x) for x in srcs]
    fns = [lambda i=i: dsts[i].copy_(srcs[i]) for i in range(nbuf)]
    us = _median_event_time(fns, ITERS)
    g_us = _graph_time(fns) if graphs else None
    srcs.clear()
    dsts.clear()
    return us, g_us


def bench_case(
    m: int,
    k: int,
    g: int,
    in_dtype: torch.dtype,
    out_dtype: torch.dtype,
    layout: str,
    copy_tbps: float,
    with_triton: bool,
) -> Row:
    """Time one configuration (rotating buffers) and the Triton baseline on the same shape."""
    qmin, qmax = quant_bounds(out_dtype)
    groups = k // g
    in_bytes = m * k * torch.tensor([], dtype=in_dtype).element_size()
    q_bytes = m * k
    s_bytes = (m * ((groups + 3) // 4) if layout == "packed" else m * groups) * 4
    per_call = in_bytes + q_bytes + s_bytes
    nbuf = max(2, math.ceil(ROTATE_BYTES / per_call))
    nbuf = min(nbuf, 256)
    xs, qs, ss = [], [], []
    for _ in range(nbuf):
        xs.append((torch.randn(m, k, device="cuda") * 8).to(in_dtype))
        qs.append(torch.empty(m, k, dtype=out_dtype, device="cuda"))
        if layout == "packed":
            ss.append(allocate_packed_scales(m, k, xs[-1].device))
        else:
            ss.append(
                allocate_scales(m, groups, xs[-1].device, column_major=layout != "row", tma_aligned=layout == "tma")
            )
    if layout == "packed":
        op = torch.ops.ptg_quant.per_token_group_quant_8bit_packed
        fns = [lambda i=i: op(xs[i], qs[i], ss[i], g, 1e-10, qmin, qmax) for i in range(nbuf)]
    else:
        op = torch.ops.ptg_quant.per_token_group_quant_8bit
        ue8m0 = False
        fns = [lambda i=i: op(xs[i], qs[i], ss[i], g, 1e-10, qmin, qmax, ue8m0) for i in range(nbuf)]
    us = _median_event_time(fns, ITERS)
    us_repeat = _median_event_time(fns, ITERS)  # same version twice: the spread is the noise
    graph_us = _graph_time(fns) if m <= 256 else None
    triton_us = None
    if with_triton and triton is not None and layout in ("row", "col", "tma"):
        tqs = [torch.empty_like(q) for q in qs]

        def tfn(i: int) -> None:
            s = ss[i]
            _triton_group_quant[(m * groups,)](
                xs[i], tqs[i], s, groups, s.stride(0), s.stride(1), 1e-10, qmin, qmax, G=g
            )

        triton_us = _median_event_time([lambda i=i: tfn(i) for i in range(nbuf)], ITERS)
    tbps = per_call / (us * 1e-6) / 1e12
    for buffers in (xs, qs, ss):
        buffers.clear()  # free before the next shape
    copy_us, copy_graph_us = same_size_copy(per_call, graphs=m <= 256)
    return Row(
        m,
        k,
        g,
        str(in_dtype).split(".")[-1],
        str(out_dtype).split(".")[-1],
        layout,
        us,
        us_repeat,
        tbps,
        100 * tbps / copy_tbps,
        copy_us,
        100 * copy_us / us,
        graph_us,
        copy_graph_us,
        triton_us,
        (triton_us / us) if triton_us else None,
    )


BIG_SHAPES = [(4096, 16384), (8192, 7168), (8192, 16384), (16384, 4096), (16384, 7168), (16384, 16384)]
SWEEP_M = [1024, 2048, 4096, 6144, 8192, 12288, 16384]
SWEEP_FIT_MIN_M = 6144


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b*x; returns (a, b)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def sweep(copy_tbps: float, k: int = 7168) -> dict:
    """Time vs M at fixed K (row and packed layouts, and the same-size copy), event-timed and
    graph-replayed, with t = a + bytes * b fitted to each series: a is the per-launch fixed cost,
    1/b the incremental bandwidth."""
    bf16, fp8 = torch.bfloat16, torch.float8_e4m3fn
    out: dict = {"k": k, "copy_tbps": copy_tbps, "rows": []}
    print("| M | K | scales | MB moved | us | graph us | same-size copy us | copy graph us | % same-size copy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for layout in ("row", "packed"):
        for m in SWEEP_M:
            r = bench_case(m, k, 128, bf16, fp8, layout, copy_tbps=copy_tbps, with_triton=False)
            nbytes = r.tbps * 1e12 * r.us * 1e-6
            # graph replay of the big shapes too: back-to-back launches (PDL overlap on sm_90+)
            g_us, cg_us = _sweep_graphs(m, k, layout, nbytes)
            out["rows"].append({**asdict(r), "bytes": nbytes, "graph_us": g_us, "copy_graph_us": cg_us})
            print(
                f"| {m} | {k} | {layout} | {nbytes / 1e6:.1f} | {r.us:.2f} | {g_us:.2f} | {r.copy_us:.2f} | "
                f"{cg_us:.2f} | {r.pct_same_copy:.1f} |"
            )
    print()
    print("| series | a (us, fixed per launch) | 1/b (TB/s, incremental) |")
    print("|---|---|---|")
    fits = {}
    for layout in ("row", "packed"):
        rows = [r for r in out["rows"] if r["layout"] == layout]
        for key, name in (
            ("us", "kernel events"),
            ("graph_us", "kernel graph"),
            ("copy_us", "copy events"),
            ("copy_graph_us", "copy graph"),
        ):
            # Per-launch (event) times below ~40 us are host-bound (one launch costs ~20 us of
            # CPU from Python), so the event fits use M >= SWEEP_FIT_MIN_M only.
            sel = rows if "graph" in key else [r for r in rows if r["m"] >= SWEEP_FIT_MIN_M]
            a, b = _fit([r["bytes"] for r in sel], [r[key] for r in sel])
            fits[f"{layout} {name}"] = (a, 1.0 / (b * 1e6) if b > 0 else float("nan"))
            print(f"| {layout}: {name} | {a:.2f} | {fits[f'{layout} {name}'][1]:.3f} |")
    out["fits"] = fits
    return out


def _sweep_graphs(m: int, k: int, layout: str, nbytes: float) -> tuple[float, float]:
    """Graph-replay time of the kernel (two rotating buffer sets) and of the same-size copy."""
    qmin, qmax = quant_bounds(torch.float8_e4m3fn)
    groups = k // 128
    nbuf = max(2, math.ceil(ROTATE_BYTES / nbytes))
    xs = [(torch.randn(m, k, device="cuda") * 8).to(torch.bfloat16) for _ in range(nbuf)]
    qs = [torch.empty(m, k, dtype=torch.float8_e4m3fn, device="cuda") for _ in range(nbuf)]
    if layout == "packed":
        ss = [allocate_packed_scales(m, k, x.device) for x in xs]
        op = torch.ops.ptg_quant.per_token_group_quant_8bit_packed
        fns = [lambda i=i: op(xs[i], qs[i], ss[i], 128, 1e-10, qmin, qmax) for i in range(nbuf)]
    else:
        ss = [allocate_scales(m, groups, x.device, column_major=False, tma_aligned=False) for x in xs]
        op = torch.ops.ptg_quant.per_token_group_quant_8bit
        fns = [lambda i=i: op(xs[i], qs[i], ss[i], 128, 1e-10, qmin, qmax, False) for i in range(nbuf)]
    per_graph = 20
    g_us = _graph_time(fns, per_graph=per_graph, reps=10)
    for buffers in (xs, qs, ss):
        buffers.clear()
    n = int(nbytes) // 2
    srcs = [torch.empty(n, dtype=torch.uint8, device="cuda") for _ in range(nbuf)]
    dsts = [torch.empty_like(x) for x in srcs]
    cg_us = _graph_time([lambda i=i: dsts[i].copy_(srcs[i]) for i in range(nbuf)], per_graph=per_graph, reps=10)
    return g_us, cg_us


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="headline 8192x7168 rows only")
    parser.add_argument("--big", action="store_true", help="add every M*K >= 50M shape (4 layouts)")
    parser.add_argument("--ab", action="store_true", help="8192x7168 rows for comparing builds (no Triton)")
    parser.add_argument("--sweep", action="store_true", help="time vs M at K=7168 and the fitted fixed cost")
    parser.add_argument("--json", help="write all rows (and the copy bandwidth) here")
    parser.add_argument("--no-triton", action="store_true")
    parser.add_argument("--headline", action="store_true", help="only 8192x7168 bf16->fp8 row")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() or not ptg_quant.ops_available():
        print("needs a GPU and the compiled ptg_quant ops", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    copy_tbps = copy_bandwidth()
    name = torch.cuda.get_device_name()
    if args.sweep:
        print(f"\n{name}; torch {torch.__version__}; device-to-device copy {copy_tbps:.3f} TB/s (1 GiB)\n")
        res = sweep(copy_tbps)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump({"device": name, "torch": torch.__version__, **res}, fh, indent=1)
        return 0
    bf16, fp16, fp8 = torch.bfloat16, torch.float16, torch.float8_e4m3fn
    cases: list[tuple[int, int, int, torch.dtype, torch.dtype, str]] = []
    if args.headline:
        cases.append((8192, 7168, 128, bf16, fp8, "row"))
    elif args.ab:
        for layout in LAYOUTS:
            cases.append((8192, 7168, 128, bf16, fp8, layout))
        cases += [
            (8192, 7168, 128, fp16, fp8, "row"),
            (8192, 7168, 128, bf16, torch.float8_e4m3fnuz, "row"),
            (8192, 7168, 128, fp16, fp8, "packed"),
            (16384, 7168, 128, bf16, fp8, "row"),
            (16384, 7168, 128, bf16, fp8, "packed"),
        ]
    elif not args.quick:
        for m in M_LIST:
            for k in K_LIST:
                for layout in LAYOUTS:
                    cases.append((m, k, 128, bf16, fp8, layout))
    else:
        for layout in LAYOUTS:
            cases.append((8192, 7168, 128, bf16, fp8, layout))
        for m in (1, 16, 64):
            cases.append((m, 7168, 128, bf16, fp8, "row"))
    cases += (
        []
        if args.headline
        else [
            (8192, 7168, 128, torch.float32, fp8, "row"),
            (8192, 7168, 128, bf16, torch.int8, "row"),
            (8192, 7168, 64, bf16, fp8, "row"),
        ]
    )
    if args.big:
        cases += [(m, k, 128, bf16, fp8, layout) for m, k in BIG_SHAPES if (m, k) != (8192, 7168) for layout in LAYOUTS]
    tiny = torch.zeros(1, device="cuda")
    with_triton = not args.no_triton and not args.ab
    rows = [bench_case(*c, copy_tbps=copy_tbps, with_triton=with_triton) for c in cases]
    print(
        f"\n{name}; torch {torch.__version__}; device-to-device copy {copy_tbps:.3f} TB/s "
        f"(read+write, 1 GiB, median of 100)\n"
    )
    host = _median_event_time([lambda: torch.ops.aten.add_(tiny, 1)], ITERS)
    print(
        f"host floor: one tiny aten op per launch = {host:.1f} us (per-launch times below this "
        "are CPU-bound; the graph column is the kernel's own time)\n"
    )
    print(
        "| M | K | G | in | out | scales | us (run 2) | TB/s | % copy (1 GiB) | same-size copy us | "
        "% same-size copy | graph us | copy graph us | triton us | x triton |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        g_us = f"{r.graph_us:.2f}" if r.graph_us is not None else ""
        cg_us = f"{r.copy_graph_us:.2f}" if r.copy_graph_us is not None else ""
        t_us = f"{r.triton_us:.1f}" if r.triton_us is not None else ""
        sp = f"{r.speedup_vs_triton:.1f}" if r.speedup_vs_triton is not None else ""
        print(
            f"| {r.m} | {r.k} | {r.g} | {r.in_dtype} | {r.out_dtype} | {r.layout} | "
            f"{r.us:.2f} ({r.us_repeat:.2f}) | {r.tbps:.3f} | {r.pct_copy:.1f} | {r.copy_us:.2f} | "
            f"{r.pct_same_copy:.1f} | {g_us} | {cg_us} | {t_us} | {sp} |"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"device": name, "torch": torch.__version__, "copy_tbps": copy_tbps, "rows": [asdict(r) for r in rows]},
                fh,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
