#!/usr/bin/env bash
# Run hipify-tool's translation of csrc_example on an NVIDIA GPU (sm_90a): build the translated
# tree through this shim (PTGQ_BACKEND=HIP_ON_CUDA) and the CUDA build beside it, run the GPU matrix
# against the translated build, and time both builds at 8192x7168 (benchmarks/quant_bench.py
# --quick). Summaries go to ${OUT:-./gpu_out}; the log is stdout.
#   csrc_example/tools/hip_on_cuda/gpu_check.sh [full|reduced|both] [bench|none]
set -uo pipefail
tiers=${1:-both}
bench=${2:-bench}
out=${OUT:-$PWD/gpu_out}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
py=$(command -v python3)
export PYTHONUNBUFFERED=1 PYTHONPATH="$root/csrc_example/python"
builds="$root/build/hip-on-cuda-check"
mkdir -p "$builds"
t0=$(date +%s)
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  "$py" -c 'import torch; print("torch", torch.__version__)'
  nvcc --version | tail -1
} 2>&1

build() {  # build <dir> <cmake args...>; a _C.so there without a build tree (carried) is used as is
  local dir=$1
  shift
  if [ -f "$dir/_C.so" ] && [ ! -f "$dir/build.ninja" ]; then
    echo "using $dir/_C.so as carried"
    return
  fi
  cmake -S csrc_example -B "$dir" -G Ninja -DPTGQ_CUDA_ARCHS=90a -DPython_EXECUTABLE="$py" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" > "$dir.log" 2>&1 && cmake --build "$dir" >> "$dir.log" 2>&1 \
    || { tail -40 "$dir.log"; exit 1; }
}
build "$builds/shim" -DPTGQ_BACKEND=HIP_ON_CUDA -Dhipify_tool_DIR="$root/templates/cmake"
build "$builds/cuda"
echo "builds: $(( $(date +%s) - t0 )) s"
grep -o 'hipify-tool: .*' "$builds/shim.log"
(cd "$builds/shim/hipified" && sha256sum -- *) > "$out/hipified.sha256"
sha256sum "$builds"/*/_C.so

matrix() {  # matrix <tier> <build name>
  rm -f "$out/$1_$2.jsonl"
  (cd /tmp && PTGQ_LIBRARY="$builds/$2/_C.so" PTGQ_TEST_TIER=$1 PTGQ_TEST_SUMMARY="$out/$1_$2.jsonl" \
    "$py" -m pytest -q -p no:cacheprovider -rs "$root/tests/reference/test_gpu_matrix.py" 2>&1 | tail -40)
  echo "$1 tier, $2 build: $(( $(date +%s) - t0 )) s"
}
case $tiers in
  full) matrix full shim ;;
  reduced) matrix reduced shim ;;
  both) matrix full shim; matrix reduced shim ;;
esac

if [ "$bench" = bench ]; then
  for run in 1 2; do  # interleaved, to see the spread between runs
    for b in cuda shim; do
      echo "bench run $run, $b build:"
      PTGQ_LIBRARY="$builds/$b/_C.so" "$py" benchmarks/quant_bench.py --quick --no-triton \
        --json "$out/bench_${b}_$run.json" 2>&1 | grep -E '^\| [M0-9]|copy'
    done
  done
  echo "bench: $(( $(date +%s) - t0 )) s"
fi
