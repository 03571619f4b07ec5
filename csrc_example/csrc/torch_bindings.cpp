// Op schemas and CUDA-key implementations, through PyTorch's stable ABI only, so one binary
// loads into every torch from TORCH_TARGET_VERSION (2.11) on. ROCm builds of PyTorch use the
// same CUDA dispatch key.
#include <torch/csrc/stable/accelerator.h>
#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>
#include <torch/headeronly/util/Exception.h>

#include <cstdint>
#include <exception>
#include <string>

#include "current_stream.h"
#include "ops.h"

namespace {

using torch::headeronly::ScalarType;
using torch::stable::Tensor;

const char* dtype_name(ScalarType t) {
  switch (t) {
    case ScalarType::Float: return "float32";
    case ScalarType::Half: return "float16";
    case ScalarType::BFloat16: return "bfloat16";
    case ScalarType::Float8_e4m3fn: return "float8_e4m3fn";
    case ScalarType::Float8_e4m3fnuz: return "float8_e4m3fnuz";
    case ScalarType::Float8_e5m2: return "float8_e5m2";
    case ScalarType::Float8_e5m2fnuz: return "float8_e5m2fnuz";
    case ScalarType::Char: return "int8";
    case ScalarType::Int: return "int32";
    default: return "an unsupported dtype";
  }
}

ptgq::DType input_dtype(const Tensor& t) {
  switch (t.scalar_type()) {
    case ScalarType::Float: return ptgq::DType::kFloat32;
    case ScalarType::Half: return ptgq::DType::kFloat16;
    case ScalarType::BFloat16: return ptgq::DType::kBFloat16;
    default:
      STD_TORCH_CHECK(false, "ptg_quant: input must be float32, float16 or bfloat16, got ",
                      dtype_name(t.scalar_type()));
  }
  return ptgq::DType::kFloat32;
}

ptgq::DType output_dtype(const Tensor& t) {
  switch (t.scalar_type()) {
    case ScalarType::Float8_e4m3fn: return ptgq::DType::kFloat8E4M3FN;
    case ScalarType::Float8_e4m3fnuz: return ptgq::DType::kFloat8E4M3FNUZ;
    case ScalarType::Char: return ptgq::DType::kInt8;
    default:
      STD_TORCH_CHECK(false,
                      "ptg_quant: output_q must be float8_e4m3fn, float8_e4m3fnuz or int8, got ",
                      dtype_name(t.scalar_type()));
  }
  return ptgq::DType::kInt8;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* name) {
  STD_TORCH_CHECK(b.is_cuda() && b.get_device_index() == a.get_device_index(), "ptg_quant: ",
                  name, " must be on the same GPU as input");
}

void per_token_group_quant_8bit(Tensor input, Tensor output_q, Tensor output_s,
                                int64_t group_size, double eps, double qmin, double qmax,
                                bool scale_ue8m0) {
  STD_TORCH_CHECK(input.is_cuda(), "ptg_quant: input must be a GPU tensor");
  check_same_device(input, output_q, "output_q");
  check_same_device(input, output_s, "output_s");
  STD_TORCH_CHECK(group_size >= 1, "ptg_quant: group_size must be >= 1, got ", group_size);
  STD_TORCH_CHECK(input.dim() >= 1, "ptg_quant: input must have at least one dimension");
  STD_TORCH_CHECK(input.is_contiguous(), "ptg_quant: input must be contiguous");
  STD_TORCH_CHECK(output_q.is_contiguous(), "ptg_quant: output_q must be contiguous");
  const ptgq::DType in_t = input_dtype(input);
  const ptgq::DType out_t = output_dtype(output_q);
  STD_TORCH_CHECK(output_s.scalar_type() == ScalarType::Float,
                  "ptg_quant: output_s must be float32, got ", dtype_name(output_s.scalar_type()));

  const int64_t k = input.size(input.dim() - 1);
  STD_TORCH_CHECK(k % group_size == 0, "ptg_quant: last dimension ", k,
                  " is not a multiple of group_size ", group_size);
  STD_TORCH_CHECK(output_q.numel() == input.numel(),
                  "ptg_quant: output_q must have as many elements as input");
  const int64_t m = k == 0 ? 0 : input.numel() / k;
  const int64_t groups = k / group_size;
  STD_TORCH_CHECK(output_s.dim() == 2 && output_s.size(0) == m && output_s.size(1) == groups,
                  "ptg_quant: output_s must have logical shape [", m, ", ", groups, "]");
  const int64_t st0 = output_s.stride(0);
  const int64_t st1 = output_s.stride(1);
  const int64_t tma = (m + 3) / 4 * 4;
  const bool row_major = st0 == groups && st1 == 1;
  const bool col_major = st0 == 1 && (st1 == m || st1 == tma);
  STD_TORCH_CHECK(row_major || col_major || m <= 1 || groups <= 1,
                  "ptg_quant: output_s strides (", st0, ", ", st1, ") are not row-major (",
                  groups, ", 1) or column-major (1, ", m, ") / (1, ", tma, ")");
  if (m == 0 || groups == 0) return;

  ptgq::QuantArgs args{};
  args.input = input.const_data_ptr();
  args.output_q = output_q.mutable_data_ptr();
  args.output_s = static_cast<float*>(output_s.mutable_data_ptr());
  args.m = m;
  args.k = k;
  args.group_size = group_size;
  args.s_row_stride = st0;
  args.s_group_stride = st1;
  args.in_dtype = in_t;
  args.out_dtype = out_t;
  args.eps = static_cast<float>(eps);
  args.qmin = static_cast<float>(qmin);
  args.qmax = static_cast<float>(qmax);
  args.scale_ue8m0 = scale_ue8m0;

  const int32_t device = input.get_device_index();
  torch::stable::accelerator::DeviceGuard guard(device);
  try {
    ptgq::launch_per_token_group_quant_8bit(args, ptgq::current_stream(device));
  } catch (const std::exception& e) {
    STD_TORCH_CHECK(false, e.what());
  }
}

void per_token_group_quant_8bit_packed(Tensor input, Tensor output_q, Tensor output_s_packed,
                                       int64_t group_size, double eps, double qmin,
                                       double qmax) {
  STD_TORCH_CHECK(input.is_cuda(), "ptg_quant: input must be a GPU tensor");
  check_same_device(input, output_q, "output_q");
  check_same_device(input, output_s_packed, "output_s_packed");
  STD_TORCH_CHECK(group_size == 128, "ptg_quant: the packed layout needs group_size 128, got ",
                  group_size);
  STD_TORCH_CHECK(input.scalar_type() == ScalarType::Half ||
                      input.scalar_type() == ScalarType::BFloat16,
                  "ptg_quant: packed op input must be float16 or bfloat16, got ",
                  dtype_name(input.scalar_type()));
  const ptgq::DType out_t = output_dtype(output_q);
  STD_TORCH_CHECK(input.dim() == 2 && output_q.dim() == 2,
                  "ptg_quant: packed op input and output_q must be 2-D");
  STD_TORCH_CHECK(input.is_contiguous() && output_q.is_contiguous(),
                  "ptg_quant: input and output_q must be contiguous");
  const int64_t m = input.size(0);
  const int64_t k = input.size(1);
  STD_TORCH_CHECK(k % 128 == 0, "ptg_quant: last dimension ", k, " is not a multiple of 128");
  STD_TORCH_CHECK(output_q.size(1) == k && output_q.size(0) >= m,
                  "ptg_quant: output_q must be [rows >= ", m, ", ", k, "]");
  const auto in_addr = reinterpret_cast<uintptr_t>(input.const_data_ptr());
  const auto q_addr = reinterpret_cast<uintptr_t>(output_q.const_data_ptr());
  STD_TORCH_CHECK(in_addr % 16 == 0 && q_addr % 16 == 0,
                  "ptg_quant: packed op needs 16-byte aligned input and output_q");
  STD_TORCH_CHECK(output_s_packed.scalar_type() == ScalarType::Int,
                  "ptg_quant: output_s_packed must be int32, got ",
                  dtype_name(output_s_packed.scalar_type()));
  const int64_t words = (k / 128 + 3) / 4;
  const int64_t s = (m + 3) / 4 * 4;
  STD_TORCH_CHECK(output_s_packed.dim() == 2 && output_s_packed.size(0) == m &&
                      output_s_packed.size(1) == words,
                  "ptg_quant: output_s_packed must have logical shape [", m, ", ", words, "]");
  STD_TORCH_CHECK(m == 0 || words == 0 ||
                      (output_s_packed.stride(0) == 1 &&
                       (words == 1 || output_s_packed.stride(1) == s)),
                  "ptg_quant: output_s_packed strides must be (1, ", s, ")");
  if (m == 0 || words == 0) return;

  ptgq::PackedArgs args{};
  args.input = input.const_data_ptr();
  args.output_q = output_q.mutable_data_ptr();
  args.output_s = static_cast<int32_t*>(output_s_packed.mutable_data_ptr());
  args.m = m;
  args.k = k;
  args.rows_q = output_q.size(0);
  args.s_stride = s;
  args.in_dtype = input.scalar_type() == ScalarType::Half ? ptgq::DType::kFloat16
                                                          : ptgq::DType::kBFloat16;
  args.out_dtype = out_t;
  args.eps = static_cast<float>(eps);
  args.qmin = static_cast<float>(qmin);
  args.qmax = static_cast<float>(qmax);

  const int32_t device = input.get_device_index();
  torch::stable::accelerator::DeviceGuard guard(device);
  try {
    ptgq::launch_per_token_group_quant_8bit_packed(args, ptgq::current_stream(device));
  } catch (const std::exception& e) {
    STD_TORCH_CHECK(false, e.what());
  }
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
