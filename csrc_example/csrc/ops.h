// The ops' C++ entry points. Plain C++ types only, so the op sources never include torch
// headers (they compile identically with nvcc and, after hipify, clang); the bindings describe
// each torch tensor as a TensorRef and register these functions.
#pragma once

#include <stdint.h>

namespace ptgq {

// Element types the bindings report; kOther is anything else (always rejected).
enum class DType : int32_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kBFloat16 = 2,
  kFloat8E4M3FN = 3,
  kFloat8E4M3FNUZ = 4,
  kInt8 = 5,
  kFloat8E5M2 = 6,
  kFloat8E5M2FNUZ = 7,
  kInt32 = 8,
  kOther = 9,
};

// A tensor as the ops see it. `sizes` and `strides` have `dim` entries and are borrowed from
// the tensor for the duration of the call.
struct TensorRef {
  void* data;  // first element (the ops only read their input)
  DType dtype;
  bool on_gpu;
  int32_t device;  // device index, when on_gpu
  int64_t dim;
  const int64_t* sizes;
  const int64_t* strides;
  int64_t numel;
  bool contiguous;
};

// Op 1: quantize each group of `group_size` consecutive elements along the last dimension of
// `input` into `output_q` (fp8 e4m3fn / e4m3fnuz or int8) with one fp32 scale per group in
// `output_s`, logical [M, K / group_size], row-major or column-major (stride M or ceil(M/4)*4).
// Validates every argument (std::invalid_argument) and launches on the current stream of the
// input's device (std::runtime_error if the launch fails).
void per_token_group_quant_8bit(const TensorRef& input, const TensorRef& output_q,
                                const TensorRef& output_s, int64_t group_size, double eps,
                                double qmin, double qmax, bool scale_ue8m0);

// Op 2: group_size 128, UE8M0 exponents packed four to an int32, column-major with stride
// S = ceil(M/4)*4 (DeepGEMM's layout); padding slots and rows are written as zero.
void per_token_group_quant_8bit_packed(const TensorRef& input, const TensorRef& output_q,
                                       const TensorRef& output_s_packed, int64_t group_size,
                                       double eps, double qmin, double qmax);

}  // namespace ptgq
