// Op registration: the schema for every backend, the GPU kernel under the CUDA dispatch key
// (ROCm builds of PyTorch use that key for AMD GPUs too). Host C++ only.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <torch/library.h>

#include "ops.h"

namespace {{name}} {
namespace {

at::Tensor scale(const at::Tensor& x, double alpha, int64_t stream) {
  TORCH_CHECK(x.is_cuda(), "{{name}}::scale: x must be on a GPU");
  TORCH_CHECK(x.scalar_type() == at::kFloat, "{{name}}::scale: x must be float32");
  TORCH_CHECK(x.is_contiguous(), "{{name}}::scale: x must be contiguous");
  at::Tensor out = at::empty_like(x);
  launch_scale(x.data_ptr<float>(), out.data_ptr<float>(), x.numel(), static_cast<float>(alpha),
               reinterpret_cast<void*>(stream));
  return out;
}

}  // namespace
}  // namespace {{name}}

TORCH_LIBRARY({{name}}, m) {
  m.def("scale(Tensor x, float alpha, int stream) -> Tensor");
}

TORCH_LIBRARY_IMPL({{name}}, CUDA, m) {
  m.impl("scale", &{{name}}::scale);
}
