// Host-only stand-in for HIP's runtime header: enough for g++ to compile the translated samples,
// so the tests exercise the build graph without a ROCm toolchain.
#pragma once
#include <cstddef>
#define __global__
#define __device__
#define __host__
#define HIP_KERNEL_NAME(...) __VA_ARGS__
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
typedef int hipError_t;
typedef void* hipStream_t;
static const hipError_t hipSuccess = 0;
inline hipError_t hipGetLastError() { return hipSuccess; }
inline hipError_t hipDeviceSynchronize() { return hipSuccess; }
inline hipError_t hipMalloc(void** p, std::size_t) { *p = nullptr; return hipSuccess; }
inline hipError_t hipFree(void*) { return hipSuccess; }
static const dim3 threadIdx, blockIdx, blockDim;
#define hipLaunchKernelGGL(kernel, grid, block, shmem, stream, ...) kernel(__VA_ARGS__)
