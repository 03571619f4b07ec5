"""Benchmark ptg_quant's per-token-group quantization against a device copy of the same bytes.

Method (the spec's): CUDA events around each launch, median of 200 (a second run of 200 is
printed beside it: their spread is the noise); input and output buffers rotated through at least
twice the L2, so the cache cannot help; CUDA-graph replay of 100 launches (median of 20 replays)
for the kernel's own time without the host's launch cost. Every case is compared with
`dst.copy_(src)` moving the same bytes (read + write = input + q + scale bytes), timed the same
way in the same run, and with a 1 GiB copy's bandwidth. A Triton kernel of the simple
one-program-per-group kind is timed beside the fp32-scale layouts.

Cases: bf16 -> e4m3fn, G = 128, with row-major, column-major (S = M), TMA-aligned column-major
and packed UE8M0 scales; bf16 -> int8 (row); fp32 -> e4m3fn (row).

    python benchmarks/quant_bench.py              # M in {1, ..., 16384} x K = 7168, and 8192 x 4096
    python benchmarks/quant_bench.py --quick      # 8192 x 7168 only
    python benchmarks/quant_bench.py --spec       # the spec's M x K grid (four layouts) and G = 64
    python benchmarks/quant_bench.py --m 1 16 64  # these M only (K = 7168)
    python benchmarks/quant_bench.py --json out.json --no-triton

PTGQ_LIBRARY=<build>/_C.so selects the extension to load (see ptg_quant._ops).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # the Triton baseline is optional
    triton = None

import ptg_quant
from ptg_quant.quant import allocate_packed_scales, allocate_scales, quant_bounds

ITERS = 200
GRAPH_LAUNCHES = 100
GRAPH_REPLAYS = 20
MAX_BUFFERS = 256
M_LIST = [1, 16, 64, 256, 1024, 4096, 8192, 16384]
SPEC_K_LIST = [1536, 2048, 4096, 7168, 16384]
BF16, FP32, FP8, INT8 = torch.bfloat16, torch.float32, torch.float8_e4m3fn, torch.int8


@dataclass(frozen=True)
class Case:
    """One configuration: shape, group size, dtypes and scale layout."""

    m: int
    k: int
    g: int
    in_dtype: torch.dtype
    out_dtype: torch.dtype
    layout: str  # row | col | tma | packed

    @property
    def name(self) -> str:
        """Short label: the layout, or the dtype that differs from bf16 -> e4m3fn."""
        if self.in_dtype == FP32:
            return f"fp32 in, {self.layout}"
        if self.out_dtype == INT8:
            return f"int8 out, {self.layout}"
        return self.layout if self.g == 128 else f"{self.layout}, G={self.g}"

    def bytes_moved(self) -> int:
        """Input + q + scale bytes (the fewest one launch must move)."""
        in_bytes = self.m * self.k * torch.tensor([], dtype=self.in_dtype).element_size()
        groups = self.k // self.g
        scales = self.m * ((groups + 3) // 4) if self.layout == "packed" else self.m * groups
        return in_bytes + self.m * self.k + 4 * scales


@dataclass
class Row:
    """One benchmark line (times in microseconds)."""

    m: int
    k: int
    g: int
    case: str
    us: float
    us_repeat: float
    graph_us: float
    copy_us: float
    copy_graph_us: float
    pct_copy: float  # same-size copy / kernel, per launch
    pct_copy_graph: float  # same-size copy / kernel, graph replay
    tbps_graph: float
    pct_copy_1gib: float  # graph TB/s over the 1 GiB copy's TB/s
    triton_us: float | None
    x_triton: float | None


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


def _median_event_time(fns: list[Callable[[], None]], iters: int = ITERS) -> float:
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


def _graph_time(fns: list[Callable[[], None]]) -> float:
    """Median per-launch time (us) over replays of a graph of GRAPH_LAUNCHES launches."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for f in fns[:3]:
            f()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(GRAPH_LAUNCHES):
            fns[i % len(fns)]()
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(GRAPH_REPLAYS):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        graph.replay()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b) * 1e3 / GRAPH_LAUNCHES)
    return statistics.median(times)


def _buffers(per_call: int, rotate: int) -> int:
    return min(MAX_BUFFERS, max(2, math.ceil(rotate / per_call)))


def copy_bandwidth(nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth in TB/s, counting bytes read plus bytes written."""
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda").random_(0, 255)
    dst = torch.empty_like(src)
    us = _median_event_time([lambda: dst.copy_(src)], 100)
    return 2 * nbytes / (us * 1e-6) / 1e12


def same_size_copy(nbytes_moved: int, rotate: int) -> tuple[float, float]:
    """Per-launch and graph-replay time (us) of a copy whose read + write bytes are
    `nbytes_moved`, rotating buffers like the kernel's cases."""
    n = max(1, nbytes_moved // 2)
    nbuf = _buffers(2 * n, rotate)
    srcs = [torch.empty(n, dtype=torch.uint8, device="cuda").random_(0, 255) for _ in range(nbuf)]
    dsts = [torch.empty_like(x) for x in srcs]
    fns = [lambda i=i: dsts[i].copy_(srcs[i]) for i in range(nbuf)]
    return _median_event_time(fns), _graph_time(fns)


def bench_case(case: Case, copy_tbps: float, rotate: int, with_triton: bool) -> Row:
    """Time one case (rotating buffers), its same-size copy and, if asked, the Triton kernel."""
    m, k, g = case.m, case.k, case.g
    qmin, qmax = quant_bounds(case.out_dtype)
    groups = k // g
    per_call = case.bytes_moved()
    nbuf = _buffers(per_call, rotate)
    xs = [(torch.randn(m, k, device="cuda") * 8).to(case.in_dtype) for _ in range(nbuf)]
    qs = [torch.empty(m, k, dtype=case.out_dtype, device="cuda") for _ in range(nbuf)]
    fns: list[Callable[[], None]]
    if case.layout == "packed":
        ss = [allocate_packed_scales(m, k, x.device) for x in xs]
        packed = torch.ops.ptg_quant.per_token_group_quant_8bit_packed
        fns = [lambda i=i: packed(xs[i], qs[i], ss[i], g, 1e-10, qmin, qmax) for i in range(nbuf)]
    else:
        col, tma = case.layout != "row", case.layout == "tma"
        ss = [allocate_scales(m, groups, x.device, column_major=col, tma_aligned=tma) for x in xs]
        op = torch.ops.ptg_quant.per_token_group_quant_8bit
        fns = [lambda i=i: op(xs[i], qs[i], ss[i], g, 1e-10, qmin, qmax, False) for i in range(nbuf)]
    us = _median_event_time(fns)
    us_repeat = _median_event_time(fns)
    graph_us = _graph_time(fns)
    triton_us = None
    if with_triton and triton is not None and case.layout != "packed":
        tqs = [torch.empty_like(q) for q in qs]

        def tfn(i: int) -> None:
            s = ss[i]
            _triton_group_quant[(m * groups,)](
                xs[i], tqs[i], s, groups, s.stride(0), s.stride(1), 1e-10, qmin, qmax, G=g
            )

        triton_us = _median_event_time([lambda i=i: tfn(i) for i in range(nbuf)])
        tqs.clear()
    for buffers in (xs, qs, ss):
        buffers.clear()  # free before the copy and the next case
    copy_us, copy_graph_us = same_size_copy(per_call, rotate)
    tbps = per_call / (graph_us * 1e-6) / 1e12
    return Row(
        m=m,
        k=k,
        g=g,
        case=case.name,
        us=us,
        us_repeat=us_repeat,
        graph_us=graph_us,
        copy_us=copy_us,
        copy_graph_us=copy_graph_us,
        pct_copy=100 * copy_us / us,
        pct_copy_graph=100 * copy_graph_us / graph_us,
        tbps_graph=tbps,
        pct_copy_1gib=100 * tbps / copy_tbps,
        triton_us=triton_us,
        x_triton=(triton_us / us) if triton_us else None,
    )


def _six_cases(m: int, k: int) -> list[Case]:
    """The four layouts of bf16 -> e4m3fn, then int8 output and fp32 input (row scales)."""
    cases = [Case(m, k, 128, BF16, FP8, layout) for layout in ("row", "col", "tma", "packed")]
    return [*cases, Case(m, k, 128, BF16, INT8, "row"), Case(m, k, 128, FP32, FP8, "row")]


def cases_for(args: argparse.Namespace) -> list[Case]:
    """The cases a command line asks for."""
    if args.quick:
        return _six_cases(8192, 7168)
    if args.spec:
        grid = [
            Case(m, k, 128, BF16, FP8, layout)
            for m in M_LIST
            for k in SPEC_K_LIST
            for layout in ("row", "col", "tma", "packed")
        ]
        return [*grid, Case(8192, 7168, 64, BF16, FP8, "row")]
    if args.m:
        return [case for m in args.m for case in _six_cases(m, 7168)]
    return [case for m in M_LIST for case in _six_cases(m, 7168)] + _six_cases(8192, 4096)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    """Markdown table, one line per case."""
    print(
        "| M | K | case | µs per launch (run 2) | same-size copy µs | % of copy | graph µs | copy graph µs "
        "| % of copy (graph) | TB/s (graph) | % of 1 GiB copy | Triton µs | x Triton |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.m} | {r.k} | {r.case} | {r.us:.2f} ({r.us_repeat:.2f}) | {r.copy_us:.2f} | {r.pct_copy:.1f} | "
            f"{r.graph_us:.2f} | {r.copy_graph_us:.2f} | {r.pct_copy_graph:.1f} | {r.tbps_graph:.3f} | "
            f"{r.pct_copy_1gib:.1f} | {_fmt(r.triton_us, 1)} | {_fmt(r.x_triton, 1)} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="8192x7168 only")
    mode.add_argument("--spec", action="store_true", help="the spec's M x K grid, four layouts, and G = 64")
    mode.add_argument("--m", type=int, nargs="+", help="these M (K = 7168) instead of the default list")
    parser.add_argument("--json", help="also write every number here")
    parser.add_argument("--no-triton", action="store_true", help="skip the Triton baseline")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() or not ptg_quant.ops_available():
        print("needs a GPU and the compiled ptg_quant ops", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    props = torch.cuda.get_device_properties(0)
    rotate = 2 * int(getattr(props, "L2_cache_size", 50 * 2**20))
    copy_tbps = copy_bandwidth()
    tiny = torch.zeros(1, device="cuda")
    host_us = _median_event_time([lambda: torch.ops.aten.add_(tiny, 1)])
    rows = [bench_case(c, copy_tbps, rotate, with_triton=not args.no_triton) for c in cases_for(args)]
    print(
        f"\n{props.name}; torch {torch.__version__}; 1 GiB device-to-device copy {copy_tbps:.3f} TB/s "
        f"(read + write); buffers rotated through >= {rotate / 2**20:.0f} MiB; host floor (one tiny aten op "
        f"per launch) {host_us:.1f} µs\n"
    )
    print_table(rows)
    if args.json:
        result: dict[str, Any] = {
            "device": props.name,
            "torch": torch.__version__,
            "copy_tbps": copy_tbps,
            "host_floor_us": host_us,
            "rows": [asdict(r) for r in rows],
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
