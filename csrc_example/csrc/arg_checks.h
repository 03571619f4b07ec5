// Host-side argument checks shared by the two ops: one-line messages, thrown as
// std::invalid_argument (the bindings turn them into Python RuntimeErrors).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "ops.h"

namespace ptgq {

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kFloat8E4M3FN: return "float8_e4m3fn";
    case DType::kFloat8E4M3FNUZ: return "float8_e4m3fnuz";
    case DType::kInt8: return "int8";
    case DType::kFloat8E5M2: return "float8_e5m2";
    case DType::kFloat8E5M2FNUZ: return "float8_e5m2fnuz";
    case DType::kInt32: return "int32";
    default: return "an unsupported dtype";
  }
}

// Throws "ptg_quant: <parts...>"; the message is built only when a check fails.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  message << "ptg_quant: ";
  (message << ... << parts);
  throw std::invalid_argument(message.str());
}

inline void check_same_device(const TensorRef& input, const TensorRef& t, const char* name) {
  if (!t.on_gpu || t.device != input.device) fail(name, " must be on the same GPU as input");
}

inline void check_output_dtype(const TensorRef& output_q) {
  const DType t = output_q.dtype;
  if (t != DType::kFloat8E4M3FN && t != DType::kFloat8E4M3FNUZ && t != DType::kInt8) {
    fail("output_q must be float8_e4m3fn, float8_e4m3fnuz or int8, got ", dtype_name(t));
  }
}

// 16-byte alignment of a tensor's first element (what the vectorized kernels load and store).
inline bool aligned16(const TensorRef& t) { return reinterpret_cast<uintptr_t>(t.data) % 16 == 0; }

}  // namespace ptgq
