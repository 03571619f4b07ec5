// Registration only: op schemas and CUDA-key implementations through PyTorch's stable ABI, so
// one binary loads into every torch from TORCH_TARGET_VERSION (2.11) on (ROCm builds of PyTorch
// use the same CUDA dispatch key). Each tensor is described as a ptgq::TensorRef; argument
// checks, layouts and launches live in the ops' own sources (per_token_group_quant*.cu).
#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>
#include <torch/headeronly/util/Exception.h>

#include <cstdint>
#include <exception>

#include "ops.h"

namespace {

using torch::headeronly::ScalarType;
using torch::stable::Tensor;

ptgq::DType dtype_of(const Tensor& t) {
  switch (t.scalar_type()) {
    case ScalarType::Float: return ptgq::DType::kFloat32;
    case ScalarType::Half: return ptgq::DType::kFloat16;
    case ScalarType::BFloat16: return ptgq::DType::kBFloat16;
    case ScalarType::Float8_e4m3fn: return ptgq::DType::kFloat8E4M3FN;
    case ScalarType::Float8_e4m3fnuz: return ptgq::DType::kFloat8E4M3FNUZ;
    case ScalarType::Char: return ptgq::DType::kInt8;
    case ScalarType::Float8_e5m2: return ptgq::DType::kFloat8E5M2;
    case ScalarType::Float8_e5m2fnuz: return ptgq::DType::kFloat8E5M2FNUZ;
    case ScalarType::Int: return ptgq::DType::kInt32;
    default: return ptgq::DType::kOther;
  }
}

// The tensor as the op sees it; sizes and strides stay borrowed from `t`. `data` is the input's
// const pointer or an output's mutable one.
ptgq::TensorRef describe(const Tensor& t, void* data) {
  const bool gpu = t.is_cuda();
  return ptgq::TensorRef{data,
                         dtype_of(t),
                         gpu,
                         gpu ? static_cast<int32_t>(t.get_device_index()) : -1,
                         t.dim(),
                         t.sizes().data(),
                         t.strides().data(),
                         t.numel(),
                         t.is_contiguous()};
}

ptgq::TensorRef input_ref(const Tensor& t) {
  return describe(t, const_cast<void*>(t.const_data_ptr()));
}

ptgq::TensorRef output_ref(const Tensor& t) { return describe(t, t.mutable_data_ptr()); }

// The ops validate their arguments and throw; report that as a torch error.
template <typename F>
void run(F&& op) {
  try {
    op();
  } catch (const std::exception& e) {
    STD_TORCH_CHECK(false, e.what());
  }
}

void per_token_group_quant_8bit(Tensor input, Tensor output_q, Tensor output_s,
                                int64_t group_size, double eps, double qmin, double qmax,
                                bool scale_ue8m0) {
  run([&] {
    ptgq::per_token_group_quant_8bit(input_ref(input), output_ref(output_q), output_ref(output_s),
                                     group_size, eps, qmin, qmax, scale_ue8m0);
  });
}

void per_token_group_quant_8bit_packed(Tensor input, Tensor output_q, Tensor output_s_packed,
                                       int64_t group_size, double eps, double qmin,
                                       double qmax) {
  run([&] {
    ptgq::per_token_group_quant_8bit_packed(input_ref(input), output_ref(output_q),
                                            output_ref(output_s_packed), group_size, eps, qmin,
                                            qmax);
  });
}

}  // namespace

STABLE_TORCH_LIBRARY(ptg_quant, m) {
  m.def(
      "per_token_group_quant_8bit(Tensor input, Tensor(a!) output_q, Tensor(b!) output_s, "
      "int group_size, float eps, float qmin, float qmax, bool scale_ue8m0) -> ()");
  m.def(
      "per_token_group_quant_8bit_packed(Tensor input, Tensor(a!) output_q, "
      "Tensor(b!) output_s_packed, int group_size, float eps, float qmin, float qmax) -> ()");
}

STABLE_TORCH_LIBRARY_IMPL(ptg_quant, CUDA, m) {
  m.impl("per_token_group_quant_8bit", TORCH_BOX(&per_token_group_quant_8bit));
  m.impl("per_token_group_quant_8bit_packed", TORCH_BOX(&per_token_group_quant_8bit_packed));
}
