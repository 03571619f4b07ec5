// The kernels' host-side entry points: plain C++, no CUDA or torch types, so the bindings
// (torch_bindings.cpp) compile with the host compiler for both vendors.
#pragma once

#include <cstdint>

namespace {{name}} {

// out[i] = alpha * x[i] for i < n, on `stream` (the vendor runtime's native stream handle).
void launch_scale(const float* x, float* out, int64_t n, float alpha, void* stream);

}  // namespace {{name}}
