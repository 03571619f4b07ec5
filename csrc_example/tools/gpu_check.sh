#!/usr/bin/env bash
# Test and benchmark ptg_quant on a CUDA machine, in one command; results go to ${OUT:-./gpu_out}.
#
#   csrc_example/tools/gpu_check.sh [full|reduced|none] [bench|quick|none]
#
# Uses the extension named by PTGQ_LIBRARY (a _C.so built elsewhere, e.g. with
# `cmake -S csrc_example -B build/ptgq -G Ninja -DPTGQ_CUDA_ARCHS=90a && cmake --build build/ptgq`),
# else builds one here with CMake (PTGQ_CUDA_ARCHS, default 90a). Writes:
#   gpu.txt                      GPU, driver, clocks, torch
#   gpu_matrix.jsonl, tests.log  the GPU test matrix (PTGQ_TEST_TIER=full|reduced) vs the CPU oracle
#   division_exhaustive.txt      the exhaustive reciprocal-division check
#   bench.md, bench.json         benchmarks/quant_bench.py (default table, or --quick)
set -uo pipefail
tier=${1:-full}
bench=${2:-bench}
out=${OUT:-$PWD/gpu_out}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$root/csrc_example/python${PYTHONPATH:+:$PYTHONPATH}"
t0=$(date +%s)
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c 'import torch; print("torch", torch.__version__)'
} > "$out/gpu.txt" 2>&1
if [ -z "${PTGQ_LIBRARY:-}" ]; then
  build="$root/build/ptgq-gpu-check"
  { cmake -S csrc_example -B "$build" -G Ninja -DPTGQ_CUDA_ARCHS="${PTGQ_CUDA_ARCHS:-90a}" \
      -DPython_EXECUTABLE="$(command -v python3)" && cmake --build "$build"; } > "$out/build.log" 2>&1 \
    || { tail -50 "$out/build.log"; exit 1; }
  export PTGQ_LIBRARY="$build/_C.so"
  echo "build: $(( $(date +%s) - t0 )) s"
fi
status=0
if [ "$tier" != "none" ]; then
  rm -f "$out/gpu_matrix.jsonl" "$out/division_exhaustive.txt"
  (cd /tmp && PTGQ_TEST_TIER=$tier PTGQ_TEST_SUMMARY="$out/gpu_matrix.jsonl" \
    python3 -m pytest -q -s -p no:cacheprovider "$root/tests/reference/test_gpu_matrix.py" \
    "$root/tests/reference/test_division_exhaustive.py" > "$out/tests.log" 2>&1) || status=1
  tail -4 "$out/tests.log"
  echo "tests: $(( $(date +%s) - t0 )) s"
fi
if [ "$bench" != "none" ]; then
  flag=""
  [ "$bench" = quick ] && flag="--quick"
  python3 benchmarks/quant_bench.py $flag --json "$out/bench.json" > "$out/bench.md" 2>&1 || status=1
  cat "$out/bench.md"
  echo "bench: $(( $(date +%s) - t0 )) s"
fi
exit $status
