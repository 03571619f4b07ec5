// Op declarations: the launchers the bindings call. Plain C++ types only, so kernel sources
// never include torch headers (they compile identically with nvcc and, after hipify, clang).
#pragma once

#include <stdint.h>

namespace ptgq {

// Element types the ops accept; the bindings map torch::headeronly::ScalarType onto these.
enum class DType : int32_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kBFloat16 = 2,
  kFloat8E4M3FN = 3,
  kFloat8E4M3FNUZ = 4,
  kInt8 = 5,
};

// Op 1: per-token-group quantization with row- or column-major fp32 scales.
struct QuantArgs {
  const void* input;      // [M, K], contiguous
  void* output_q;         // [M, K], contiguous
  float* output_s;        // logical [M, K / group_size]
  int64_t m;              // rows (> 0)
  int64_t k;              // columns, multiple of group_size
  int64_t group_size;
  int64_t s_row_stride;   // elements between scale rows
  int64_t s_group_stride; // elements between scale columns
  DType in_dtype;
  DType out_dtype;
  float eps, qmin, qmax;
  bool scale_ue8m0;
};

// Op 2: G = 128, UE8M0 exponents packed four to an int32, column-major with stride S.
struct PackedArgs {
  const void* input;      // [M, K], contiguous, 16-byte aligned, fp16/bf16
  void* output_q;         // [rows_q, K], contiguous, 16-byte aligned, rows_q >= M
  int32_t* output_s;      // logical [M, ceil(K/128/4)], strides (1, S)
  int64_t m;
  int64_t k;
  int64_t rows_q;
  int64_t s_stride;       // S = ceil(M/4)*4
  DType in_dtype;
  DType out_dtype;
  float eps, qmin, qmax;
};

// Launch on `stream` (a cudaStream_t / hipStream_t). Throws std::runtime_error on a launch
// error; arguments are validated by the bindings.
void launch_per_token_group_quant_8bit(const QuantArgs& args, void* stream);
void launch_per_token_group_quant_8bit_packed(const PackedArgs& args, void* stream);

// True if the fast vectorized path handles these arguments (exposed for tests/benchmarks).
bool uses_fast_path(const QuantArgs& args);

}  // namespace ptgq
