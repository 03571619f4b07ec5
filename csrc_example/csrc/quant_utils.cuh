// Device math shared by the quantization kernels: the per-group scale and the per-element
// quantization of the spec, written once so every path (fast, general, packed) is bit-identical.
#pragma once

#include "ops.h"
#include "portability.cuh"

namespace ptgq {

// 2^ceil(log2 t) for a positive normal t, exactly from the bits: keep the biased exponent and
// add one if any mantissa bit is set.
PTGQ_D float round_up_pow2(float t) {
  const uint32_t bits = float_bits(t);
  uint32_t exponent = (bits >> 23) & 0xffu;
  if (bits & 0x7fffffu) exponent += 1;
  return bits_float(exponent << 23);
}

// Scale for a group whose largest |x| (NaNs skipped) is `absmax`.
PTGQ_D float group_scale(float absmax, float eps, float qmax, bool ue8m0) {
  const float a = fmaxf(eps, absmax);
  const float s0 = a / qmax;  // IEEE division (no fast-math anywhere in this project)
  return ue8m0 ? round_up_pow2(fmaxf(s0, 1e-10f)) : s0;
}

// Max of `v` over the aligned sub-group of `width` lanes (power of two, <= 32).
template <int kWidth>
PTGQ_D float group_max(float v) {
#pragma unroll
  for (int offset = kWidth / 2; offset > 0; offset >>= 1) v = fmaxf(v, shfl_xor(v, offset, kWidth));
  return v;
}

PTGQ_D float group_max_dyn(float v, int width) {
  for (int offset = width / 2; offset > 0; offset >>= 1) v = fmaxf(v, shfl_xor(v, offset, width));
  return v;
}

// Clamp a quotient to [qmin, qmax]. fmaxf/fminf drop a NaN quotient, so a NaN input element
// becomes qmin (documented non-finite behaviour; the oracle uses torch.fmax/fmin alike).
PTGQ_D float clamp_q(float q, float qmin, float qmax) { return fminf(fmaxf(q, qmin), qmax); }

// x / s clamped to [qmin, qmax], with IEEE division.
PTGQ_D float scale_and_clamp(float x, float s, float qmin, float qmax) {
  return clamp_q(x / s, qmin, qmax);
}

// ---------------------------------------------------------------------------------------------
// Division by the group's scale through its reciprocal (the fast path for 16-bit input).
// With r = RN(1/s) (one IEEE division per lane and group): q0 = RN(x*r), t = q0*s - x (exact,
// fma), q = RN(q0 - t*r): Markstein's correction step, written with t = -(x - q0*s) so that
// x = -0 gives -0 (with rem = fma(-q0, s, x) it gives +0: +0 + -0 rounds to +0).
// This is NOT always the correctly rounded fp32 quotient (bf16 input: ~0.2 % of the pairs
// below differ by one fp32 ulp), and is used only where the 8-bit result is proven identical:
// tests/reference/test_division_exhaustive.py checks on the GPU, for fp16 and bf16, every
// positive finite 16-bit absmax admitted by rcp_domain(), every 16-bit x with |x| <= absmax,
// both scale modes, and each (format, qmin, qmax) admitted by rcp_bounds_checked(), that the
// kernels' quantize_lane_rcp and quantize_lane give the same bytes. Outside that domain (fp32
// input, other bounds, absmax < eps, tiny or non-finite absmax) the kernels divide.
// Plain IEEE operations (fmaf is a fused multiply-add on CUDA and HIP alike; x * r has no add
// to contract with), so the same on both vendors.
// ---------------------------------------------------------------------------------------------
PTGQ_D float div_by_rcp(float x, float s, float r) {
  const float q0 = x * r;
  const float t = fmaf(q0, s, -x);
  return fmaf(-t, r, q0);
}

// Smallest absmax for which the reciprocal path is used: far above the fp32 range where
// 1/s would overflow (s = absmax / qmax < 2^-128), far below any eps in use (1e-10 ~ 2^-33).
constexpr float kRcpMinAbsmax = 0x1p-100f;

// Whether a group with this absmax (max |x| of 16-bit values, NaNs skipped) takes the reciprocal
// path: then a = absmax is itself a 16-bit value and s depends on absmax and qmax alone, which is
// the domain checked exhaustively. False for NaN eps/absmax and for inf.
PTGQ_D bool rcp_domain(float absmax, float eps) {
  return absmax >= eps && absmax >= kRcpMinAbsmax && absmax <= 3.40282346638528859811704183484516925e+38f;
}

// Quantize two values into two output bytes (first value in the low byte).
template <typename Out>
PTGQ_D uint16_t quantize2(float x0, float x1, float s, float qmin, float qmax) {
  return OutTraits<Out>::pack2(scale_and_clamp(x0, s, qmin, qmax), scale_and_clamp(x1, s, qmin, qmax));
}

// Same through the reciprocal r = 1.0f / s (see div_by_rcp for when this is exact).
template <typename Out>
PTGQ_D uint16_t quantize2_rcp(float x0, float x1, float s, float r, float qmin, float qmax) {
  return OutTraits<Out>::pack2(clamp_q(div_by_rcp(x0, s, r), qmin, qmax),
                               clamp_q(div_by_rcp(x1, s, r), qmin, qmax));
}

// A lane's share of one group in the fast paths: kElems elements in 16-byte vectors (the group
// 16-byte aligned), vector i of the lane being vector (lane + i * lanes) of the group, so each
// load instruction of a warp reads whole contiguous segments (full 32-byte sectors). Loaded raw
// first (load_raw_strided), converted to float when the group is processed (unpack), so a
// kernel can have several groups' loads in flight for few registers.
template <typename In>
constexpr int kVecElems = 16 / static_cast<int>(sizeof(typename In::Storage));

template <typename In, int kElems>
PTGQ_D void load_raw_strided(const typename In::Storage* __restrict__ group, int lane, int lanes,
                             uint4 (&raw)[kElems / kVecElems<In>]) {
#pragma unroll
  for (int i = 0; i < kElems / kVecElems<In>; ++i) {
    raw[i] = reinterpret_cast<const uint4*>(group)[lane + i * lanes];
  }
}

template <typename In, int kElems>
PTGQ_D void unpack(const uint4 (&raw)[kElems / kVecElems<In>], float (&v)[kElems]) {
  using S = typename In::Storage;
#pragma unroll
  for (int i = 0; i < kElems / kVecElems<In>; ++i) {
    const S* e = reinterpret_cast<const S*>(&raw[i]);
#pragma unroll
    for (int j = 0; j < kVecElems<In>; ++j) v[i * kVecElems<In> + j] = In::to_float(e[j]);
  }
}

template <typename In, int kElems>
PTGQ_D void load_lane_strided(const typename In::Storage* __restrict__ group, int lane, int lanes,
                              float (&v)[kElems]) {
  uint4 raw[kElems / kVecElems<In>];
  load_raw_strided<In, kElems>(group, lane, lanes, raw);
  unpack<In, kElems>(raw, v);
}

// Store matching load_lane_strided: the output of vector i (kPerVec bytes) goes to byte offset
// (lane + i * lanes) * kPerVec of the group.
template <int kElems, int kPerVec>
PTGQ_D void store_lane_strided(uint8_t* __restrict__ group, int lane, int lanes,
                               const uint32_t (&w)[kElems / 4]) {
  static_assert(kPerVec == 8 || kPerVec == 4, "16-bit or 32-bit input vectors");
#pragma unroll
  for (int i = 0; i < kElems / kPerVec; ++i) {
    uint8_t* p = group + static_cast<int64_t>(lane + i * lanes) * kPerVec;
    if constexpr (kPerVec == 8) {
      *reinterpret_cast<uint2*>(p) = make_uint2(w[2 * i], w[2 * i + 1]);
    } else {
      *reinterpret_cast<uint32_t*>(p) = w[i];
    }
  }
}

template <int kElems>
PTGQ_D void store_lane(uint8_t* __restrict__ p, const uint32_t (&w)[kElems / 4]) {
  if constexpr (kElems == 16) {
    *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
  } else if constexpr (kElems == 8) {
    *reinterpret_cast<uint2*>(p) = make_uint2(w[0], w[1]);
  } else {
    static_assert(kElems == 4, "lane stores are 4, 8 or 16 bytes");
    *reinterpret_cast<uint32_t*>(p) = w[0];
  }
}

// Quantize a lane's kElems values into kElems/4 little-endian words of output bytes.
template <typename Out, int kElems>
PTGQ_D void quantize_lane(const float (&v)[kElems], float s, float qmin, float qmax,
                          uint32_t (&w)[kElems / 4]) {
#pragma unroll
  for (int i = 0; i < kElems / 4; ++i) {
    const uint32_t lo = quantize2<Out>(v[4 * i], v[4 * i + 1], s, qmin, qmax);
    const uint32_t hi = quantize2<Out>(v[4 * i + 2], v[4 * i + 3], s, qmin, qmax);
    w[i] = lo | (hi << 16);
  }
}

template <typename Out, int kElems>
PTGQ_D void quantize_lane_rcp(const float (&v)[kElems], float s, float qmin, float qmax,
                              uint32_t (&w)[kElems / 4]) {
  const float r = 1.0f / s;  // IEEE division, once per lane and group
#pragma unroll
  for (int i = 0; i < kElems / 4; ++i) {
    const uint32_t lo = quantize2_rcp<Out>(v[4 * i], v[4 * i + 1], s, r, qmin, qmax);
    const uint32_t hi = quantize2_rcp<Out>(v[4 * i + 2], v[4 * i + 3], s, r, qmin, qmax);
    w[i] = lo | (hi << 16);
  }
}

// The dividing fallback of the 16-bit fast paths (groups outside rcp_domain, bounds the check
// does not cover): out of line, re-reading the lane's input, so the hot path keeps no extra
// values live (inlined beside the reciprocal path, it made the 32-register kernels spill).
template <typename In, typename Out, int kElems>
__device__ __noinline__ void divide_lane_strided(const typename In::Storage* __restrict__ group_in,
                                                 uint8_t* __restrict__ group_q, int lane, int lanes,
                                                 float s, float qmin, float qmax) {
  float v[kElems];
  load_lane_strided<In, kElems>(group_in, lane, lanes, v);
  uint32_t w[kElems / 4];
  quantize_lane<Out, kElems>(v, s, qmin, qmax, w);
  store_lane_strided<kElems, 16 / static_cast<int>(sizeof(typename In::Storage))>(group_q, lane,
                                                                                  lanes, w);
}

// The fast paths' quantization and store of one lane (strided ownership, as
// load_lane_strided): through the reciprocal where that is proven to give the same bytes as
// division (`allow_rcp`: 16-bit input and checked bounds, decided on the host; the group's
// absmax in rcp_domain), else dividing. The condition is uniform over the group.
template <typename In, typename Out, int kElems>
PTGQ_D void quantize_store_lane(const float (&v)[kElems], const typename In::Storage* group_in,
                                uint8_t* group_q, int lane, int lanes, float absmax, float s,
                                float eps, float qmin, float qmax, bool allow_rcp) {
  constexpr int kPerVec = 16 / static_cast<int>(sizeof(typename In::Storage));
  uint32_t w[kElems / 4];
  if (allow_rcp && rcp_domain(absmax, eps)) {
    quantize_lane_rcp<Out, kElems>(v, s, qmin, qmax, w);
  } else if constexpr (kPerVec == 8) {
    divide_lane_strided<In, Out, kElems>(group_in, group_q, lane, lanes, s, qmin, qmax);
    return;
  } else {
    quantize_lane<Out, kElems>(v, s, qmin, qmax, w);
  }
  store_lane_strided<kElems, kPerVec>(group_q, lane, lanes, w);
}

// Host side: the (output format, qmin, qmax) combinations the exhaustive check covers (the
// wrappers' bounds).
inline bool rcp_bounds_checked(DType out, float qmin, float qmax) {
  switch (out) {
    case DType::kFloat8E4M3FN: return qmin == -448.0f && qmax == 448.0f;
    case DType::kFloat8E4M3FNUZ:
      return (qmin == -240.0f && qmax == 240.0f) || (qmin == -224.0f && qmax == 224.0f);
    case DType::kInt8: return qmin == -128.0f && qmax == 127.0f;
    default: return false;
  }
}

template <int kElems>
PTGQ_D float lane_absmax(const float (&v)[kElems]) {
  float m = 0.0f;
#pragma unroll
  for (int i = 0; i < kElems; ++i) m = fmaxf(m, fabsf(v[i]));  // fmaxf skips NaN
  return m;
}

}  // namespace ptgq
