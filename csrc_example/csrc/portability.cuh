// Vendor differences behind one thin header.
//
// The project is written in CUDA; the ROCm build is produced by running hipify on these
// sources. hipify rewrites identifiers textually in *every* branch, so each vendor branch
// below only has to be correct for the compiler that takes it. Conventions:
//   * `USE_ROCM` is defined by the ROCm build (hipify also rewrites the token USE_CUDA to
//     USE_ROCM, so that token is never used here).
//   * CUDA-only identifiers (cuda_fp8 intrinsics, *_sync shuffles, PDL, inline PTX) live in
//     `#if !defined(USE_ROCM)` branches, so nothing CUDA-specific survives on the ROCm side.
//   * This header also compiles as plain host C++ (no __CUDACC__/__HIPCC__) so the software
//     fp8 conversion can be unit-tested on a CPU against PyTorch.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define PTGQ_DEVICE_COMPILER 1
#endif

#if defined(USE_ROCM)
#include <hip/hip_runtime.h>
#include <hip/hip_fp16.h>
#elif defined(PTGQ_DEVICE_COMPILER)
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#endif

#if defined(PTGQ_DEVICE_COMPILER)
#define PTGQ_HD __host__ __device__ __forceinline__
#define PTGQ_D __device__ __forceinline__
#else
#include <cmath>
#define PTGQ_HD inline
#define PTGQ_D inline
#endif

namespace ptgq {

// ---------------------------------------------------------------------------------------------
// Bit casts (host and device).
// ---------------------------------------------------------------------------------------------
PTGQ_HD uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));  // compiles to a register move
  return u;
}

PTGQ_HD float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

// ---------------------------------------------------------------------------------------------
// n / d for 0 <= n < 2^31 and a run-time divisor 1 <= d < 2^31, as a multiply-high, an add and
// a shift (Granlund and Montgomery, "Division by invariant integers using multiplication", 1994,
// fig. 4.1): with l = ceil(log2 d) and mul = floor(2^32 (2^l - d) / d) + 1,
// n / d = (mulhi(mul, n) + n) >> l, exact for every 32-bit n; n < 2^31 keeps the add in 32 bits.
// Built on the host, passed to kernels by value; an integer division is a ~20-instruction
// sequence on both vendors. Checked on the CPU against `/` (tests/reference/
// test_oracle_and_wrappers.py).
// ---------------------------------------------------------------------------------------------
struct FastDiv {
  uint32_t divisor;
  uint32_t mul;
  uint32_t shift;

  static FastDiv make(uint32_t d) {
    FastDiv f{d, 0u, 0u};
    while ((uint64_t{1} << f.shift) < d) ++f.shift;
    f.mul = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << f.shift) - d)) / d + 1);
    return f;
  }

  PTGQ_HD uint32_t div(uint32_t n) const {
#if defined(PTGQ_DEVICE_COMPILER) && (defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__))
    const uint32_t hi = __umulhi(n, mul);
#else
    const uint32_t hi = static_cast<uint32_t>((static_cast<uint64_t>(n) * mul) >> 32);
#endif
    return (hi + n) >> shift;  // hi <= n < 2^31: no carry out of 32 bits
  }
};

// ---------------------------------------------------------------------------------------------
// Software fp8 (e4m3) conversion, round-to-nearest-even, for inputs already clamped to the
// finite range of the format. Used where the target has no conversion instruction (CUDA for
// fnuz, gfx90a, gfx942 for OCP e4m3fn) and verified on the CPU against PyTorch's conversions.
//   kBias = 7: OCP float8_e4m3fn   (max 448, has -0 = 0x80)
//   kBias = 8: float8_e4m3fnuz     (max 240, no -0: 0x80 is NaN, so a zero result is 0x00)
// ---------------------------------------------------------------------------------------------
template <int kBias>
PTGQ_HD uint8_t e4m3_from_float_sw(float v) {
  const uint32_t bits = float_bits(v);
  const uint32_t sign = bits >> 31;
  const uint32_t abs_bits = bits & 0x7fffffffu;
  const float a = bits_float(abs_bits);
  // Smallest normal of the format is 2^(1 - kBias); below it the grid is uniform with step
  // 2^(-kBias - 2), so scaling by 2^(kBias + 2) (exact) and rounding gives the code directly.
  const float min_normal = bits_float(static_cast<uint32_t>(127 + 1 - kBias) << 23);
  uint32_t code;
  if (a < min_normal) {
    const float scaled = a * bits_float(static_cast<uint32_t>(127 + kBias + 2) << 23);
#if defined(PTGQ_DEVICE_COMPILER)
    code = static_cast<uint32_t>(rintf(scaled));  // round half to even
#else
    code = static_cast<uint32_t>(std::nearbyint(scaled));
#endif
  } else {
    // Keep 3 mantissa bits, rounding the 20 dropped bits to nearest even, then re-bias.
    const uint32_t rounded = abs_bits + 0x7ffffu + ((abs_bits >> 20) & 1u);
    code = (rounded >> 20) - (static_cast<uint32_t>(127 - kBias) << 3);
  }
  if (kBias == 8 && code == 0) return 0;  // fnuz has no negative zero
  return static_cast<uint8_t>(code | (sign << 7));
}

#if defined(PTGQ_DEVICE_COMPILER)

// ---------------------------------------------------------------------------------------------
// Output formats. Each converts two clamped floats to two bytes (first value in the low byte).
// ---------------------------------------------------------------------------------------------
struct OutE4M3FN {};
struct OutE4M3FNUZ {};
struct OutInt8 {};

// Whether the conversion instruction exists for the target being compiled.
#if defined(USE_ROCM)
#if defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__)
#define PTGQ_HW_FP8_FNUZ 1  // v_cvt_pk_fp8_f32 produces fnuz e4m3 on gfx94x
#endif
#if defined(__gfx950__) || defined(__gfx1200__) || defined(__gfx1201__)
#define PTGQ_HW_FP8_OCP 1  // v_cvt_pk_fp8_f32 produces OCP e4m3 on gfx950 / gfx12
#endif
#else
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
#define PTGQ_HW_FP8_OCP 1  // cvt.rn.satfinite.e4m3x2.f32 (sm_89+)
#endif
#endif

PTGQ_D uint16_t pack2_e4m3fn(float lo, float hi) {
#if defined(PTGQ_HW_FP8_OCP) && defined(USE_ROCM)
  return static_cast<uint16_t>(__builtin_amdgcn_cvt_pk_fp8_f32(lo, hi, 0, false) & 0xffff);
#elif defined(PTGQ_HW_FP8_OCP)
  uint16_t r;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return static_cast<uint16_t>(e4m3_from_float_sw<7>(lo) |
                               (static_cast<uint16_t>(e4m3_from_float_sw<7>(hi)) << 8));
#endif
}

PTGQ_D uint16_t pack2_e4m3fnuz(float lo, float hi) {
#if defined(PTGQ_HW_FP8_FNUZ)
  return static_cast<uint16_t>(__builtin_amdgcn_cvt_pk_fp8_f32(lo, hi, 0, false) & 0xffff);
#else
  return static_cast<uint16_t>(e4m3_from_float_sw<8>(lo) |
                               (static_cast<uint16_t>(e4m3_from_float_sw<8>(hi)) << 8));
#endif
}

PTGQ_D uint16_t pack2_int8(float lo, float hi) {
  // rintf rounds half to even in the default rounding mode on both vendors.
  const uint32_t a = static_cast<uint8_t>(static_cast<int8_t>(rintf(lo)));
  const uint32_t b = static_cast<uint8_t>(static_cast<int8_t>(rintf(hi)));
  return static_cast<uint16_t>(a | (b << 8));
}

template <typename Out>
struct OutTraits;
template <>
struct OutTraits<OutE4M3FN> {
  static PTGQ_D uint16_t pack2(float lo, float hi) { return pack2_e4m3fn(lo, hi); }
};
template <>
struct OutTraits<OutE4M3FNUZ> {
  static PTGQ_D uint16_t pack2(float lo, float hi) { return pack2_e4m3fnuz(lo, hi); }
};
template <>
struct OutTraits<OutInt8> {
  static PTGQ_D uint16_t pack2(float lo, float hi) { return pack2_int8(lo, hi); }
};

// ---------------------------------------------------------------------------------------------
// 16-bit input formats, read as raw bits so no vendor bf16 header is needed.
// ---------------------------------------------------------------------------------------------
struct InBF16 {
  using Storage = uint16_t;
  static PTGQ_D float to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }
};
struct InF16 {
  using Storage = uint16_t;
  static PTGQ_D float to_float(uint16_t b) { return __half2float(__ushort_as_half(b)); }
};
struct InF32 {
  using Storage = float;
  static PTGQ_D float to_float(float f) { return f; }
};

// ---------------------------------------------------------------------------------------------
// Lane index and shuffles within a sub-group of `width` lanes (a power of two <= 32, hence
// <= warpSize on every target: 32 on NVIDIA and RDNA, 64 on CDNA). The sub-group is the
// aligned block of `width` lanes containing the caller; the mask names exactly those lanes.
// ---------------------------------------------------------------------------------------------
PTGQ_D int lane_id() {
#if defined(USE_ROCM)
  return static_cast<int>(threadIdx.x) % warpSize;
#else
  int lane;
  asm("mov.u32 %0, %%laneid;" : "=r"(lane));  // one register read, not a division by warpSize
  return lane;
#endif
}

PTGQ_D float shfl_xor(float v, int lane_mask, int width) {
#if defined(USE_ROCM)
#if defined(HIP_ENABLE_WARP_SYNC_BUILTINS)
  // ROCm >= 6.2 with warp-sync builtins: 64-bit masks.
  const unsigned long long group = (width >= 64) ? ~0ull : ((1ull << width) - 1ull);
  const unsigned long long mask = group << (lane_id() & ~(width - 1));
  return __shfl_xor_sync(mask, v, lane_mask, width);
#else
  return __shfl_xor(v, lane_mask, width);  // HIP without *_sync (e.g. HIP 5.2 headers)
#endif
#else
  const unsigned group = (width >= 32) ? 0xffffffffu : ((1u << width) - 1u);
  const unsigned mask = group << (lane_id() & ~(width - 1));
  return __shfl_xor_sync(mask, v, lane_mask, width);
#endif
}

PTGQ_D uint32_t shfl_xor(uint32_t v, int lane_mask, int width) {
  return float_bits(shfl_xor(bits_float(v), lane_mask, width));
}

// ---------------------------------------------------------------------------------------------
// Programmatic dependent launch (CUDA sm_90+ only; a no-op everywhere else).
// ---------------------------------------------------------------------------------------------
PTGQ_D void pdl_wait_for_previous_grid() {
#if !defined(USE_ROCM) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

PTGQ_D void pdl_allow_next_grid() {
#if !defined(USE_ROCM) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// ---------------------------------------------------------------------------------------------
// Host side: stream type, error check and launch (with PDL where the device supports it).
// ---------------------------------------------------------------------------------------------
#if defined(USE_ROCM)
using gpuStream = hipStream_t;
#else
using gpuStream = cudaStream_t;
#endif

// Returns an error message for the last launch, or nullptr.
inline const char* last_launch_error() {
#if defined(USE_ROCM)
  const hipError_t err = hipGetLastError();
  return err == hipSuccess ? nullptr : hipGetErrorString(err);
#else
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
#endif
}

// Makes `device` current for the scope (a launch goes to the current device's stream).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
#if defined(USE_ROCM)
    if (hipGetDevice(&previous_) != hipSuccess) previous_ = -1;
    if (previous_ != device) (void)hipSetDevice(device);
#else
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) (void)cudaSetDevice(device);
#endif
    device_ = device;
  }
  ~DeviceScope() {
    if (previous_ >= 0 && previous_ != device_) {
#if defined(USE_ROCM)
      (void)hipSetDevice(previous_);
#else
      (void)cudaSetDevice(previous_);
#endif
    }
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
  int device_ = -1;
};

// Multiprocessor (CU) count of the current device, cached per device; 0 if unknown.
inline int multiprocessor_count() {
  static int cached[64] = {0};
  int dev = 0;
  int count = 0;
#if defined(USE_ROCM)
  if (hipGetDevice(&dev) != hipSuccess || dev < 0 || dev >= 64) return 0;
  if (cached[dev] == 0 &&
      hipDeviceGetAttribute(&count, hipDeviceAttributeMultiprocessorCount, dev) == hipSuccess) {
    cached[dev] = count;
  }
#else
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 0;
  if (cached[dev] == 0 &&
      cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess) {
    cached[dev] = count;
  }
#endif
  return cached[dev];
}

#if !defined(USE_ROCM)
// PDL needs compute capability >= 9.0 on the launching device; cached per device.
inline bool device_supports_pdl() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  static int cached[64] = {0};  // 0 unknown, 1 no, 2 yes
  if (dev < 0 || dev >= 64) return false;
  if (cached[dev] == 0) {
    int major = 0;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    cached[dev] = major >= 9 ? 2 : 1;
  }
  return cached[dev] == 2;
}
#endif

// Launch on `stream`; on CUDA devices of compute capability >= 9.0 with programmatic stream
// serialization (PDL), so a kernel's launch and prologue overlap the previous kernel's tail. The
// kernels call pdl_wait_for_previous_grid() before touching memory, so results are the same.
template <typename... KArgs, typename... Args>
inline void launch(void (*kernel)(KArgs...), unsigned grid, unsigned block, gpuStream stream,
                   Args... args) {
#if defined(USE_ROCM)
  kernel<<<grid, block, 0, stream>>>(args...);
#else
  if (device_supports_pdl()) {
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(grid);
    config.blockDim = dim3(block);
    config.dynamicSmemBytes = 0;
    config.stream = stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    config.attrs = attr;
    config.numAttrs = 1;
    cudaLaunchKernelEx(&config, kernel, static_cast<KArgs>(args)...);
  } else {
    kernel<<<grid, block, 0, stream>>>(args...);
  }
#endif
}

#endif  // PTGQ_DEVICE_COMPILER

}  // namespace ptgq
