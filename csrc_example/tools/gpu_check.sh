#!/usr/bin/env bash
# Build, test and benchmark ptg_quant on a CUDA machine; logs go to ${OUT:-./gpu_out}.
#   tools/gpu_check.sh [reduced|full] [quick|full|none]
set -uo pipefail
tier=${1:-reduced}
bench=${2:-quick}
out=${OUT:-$PWD/gpu_out}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$out/gpu.txt" 2>&1
python3 -c 'import torch; print("torch", torch.__version__)' >> "$out/gpu.txt"
t0=$(date +%s)
PTGQ_CUDA_ARCHS=${PTGQ_CUDA_ARCHS:-90a} python3 -m pip install --no-build-isolation --no-deps \
  --no-cache-dir -v ./csrc_example > "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
if [ "$tier" != "none" ]; then
  rm -f "$out/summary.jsonl"
  (cd /tmp && PTGQ_TEST_TIER=$tier PTGQ_TEST_SUMMARY="$out/summary.jsonl" \
    python3 -m pytest -q -p no:cacheprovider "$root/tests/reference/test_gpu_matrix.py" \
    2>&1 | tee "$out/tests.log" | tail -15)
  echo "tests: $(( $(date +%s) - t0 )) s"
fi
if [ "$bench" != "none" ]; then
  flag=""; [ "$bench" = quick ] && flag="--quick"
  python3 benchmarks/quant_bench.py $flag --json "$out/bench.json" 2>&1 | tee "$out/bench.md"
  for v in ${PTGQ_VARIANTS:-3 0 4 1}; do
    echo "variant $v:"; PTGQ_FAST_VARIANT=$v python3 benchmarks/quant_bench.py --headline --no-triton 2>&1 \
      | tee -a "$out/variants.md" | grep -E "^\| 8192"
  done
  echo "bench: $(( $(date +%s) - t0 )) s"
fi
