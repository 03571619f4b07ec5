// Written in CUDA. The ROCm build translates it with hipify-tool (hipify_tool_target_sources() in CMakeLists.txt);
// `hipify-tool plan -p csrc -o /tmp/out --strict` checks that nothing CUDA-only is left.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "ops.h"

namespace {{name}} {
namespace {

__global__ void scale_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, float alpha) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    out[i] = alpha * x[i];
  }
}

}  // namespace

void launch_scale(const float* x, float* out, int64_t n, float alpha, void* stream) {
  if (n == 0) {
    return;
  }
  constexpr int kThreads = 256;
  const unsigned int blocks = static_cast<unsigned int>((n + kThreads - 1) / kThreads);
  scale_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, out, n, alpha);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("{{name}}::scale: kernel launch failed: ") + cudaGetErrorString(err));
  }
}

}  // namespace {{name}}
