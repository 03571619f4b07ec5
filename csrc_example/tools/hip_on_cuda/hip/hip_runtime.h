// HIP-on-CUDA shim: lets nvcc compile hipify-tool's translation of csrc_example/csrc so the
// translated code can run on an NVIDIA GPU (PTGQ_BACKEND=HIP_ON_CUDA; tests only, never shipped).
//
// One line per HIP name that the translated tree compiles under USE_ROCM, nothing generic: a HIP
// name the tree starts using later is a compile error here, never a silent fallback.
// tests/reference/test_translated_on_cuda.py checks that these are exactly the names the tree uses.
#pragma once

#if !defined(__CUDACC__) || defined(__HIP_PLATFORM_AMD__)
#error "hip_on_cuda shim: only for nvcc compiling the translated tree (PTGQ_BACKEND=HIP_ON_CUDA)"
#endif

#include <cuda_runtime.h>
#include <cuda_fp16.h>  // before the __shfl_xor macro, which would rewrite this header's declarations

#if defined(__CUDA_ARCH__)
#define __HIP_DEVICE_COMPILE__ 1  // as a HIP compiler's device pass
#endif

using hipStream_t = cudaStream_t;
using hipError_t = cudaError_t;
constexpr hipError_t hipSuccess = cudaSuccess;
inline hipError_t hipGetLastError() { return cudaGetLastError(); }
inline const char* hipGetErrorString(hipError_t err) { return cudaGetErrorString(err); }
inline hipError_t hipGetDevice(int* device) { return cudaGetDevice(device); }
inline hipError_t hipSetDevice(int device) { return cudaSetDevice(device); }
constexpr cudaDeviceAttr hipDeviceAttributeMultiprocessorCount = cudaDevAttrMultiProcessorCount;
inline hipError_t hipDeviceGetAttribute(int* v, cudaDeviceAttr a, int dev) { return cudaDeviceGetAttribute(v, a, dev); }
#define hipLaunchKernelGGL(kernel, grid, block, shmem, stream, ...) kernel<<<grid, block, shmem, stream>>>(__VA_ARGS__)
// HIP's shuffle without a mask acts on the lanes active at the call; sm_70+ CUDA only has *_sync.
#define __shfl_xor(var, lane_mask, width) __shfl_xor_sync(__activemask(), var, lane_mask, width)
