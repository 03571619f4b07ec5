// Op 1: per-token-group 8-bit quantization (fp8 e4m3fn / e4m3fnuz / int8) with fp32 scales.
//
// Two kernels:
//   * fast:    G in {32, 64, 128, 256}, 16-byte aligned input, output aligned to a lane's store.
//              Each lane owns 32 consecutive input bytes (16 bf16/fp16 or 8 fp32 elements) held
//              in registers; the G/lane-elements lanes of a group reduce with xor-shuffles of
//              width G/lane-elements. One read of the input, one write of q and the scale.
//   * general: any G dividing K, any alignment. A power-of-two number of lanes (<= 32) strides
//              over the group with scalar loads, reduces, then re-reads (cache-resident) and
//              quantizes.
// Both call the same scale/quantize helpers, so they are bit-identical. The fast kernel divides
// 16-bit input through the group's reciprocal where an exhaustive check proves the bytes equal
// to those of IEEE division (quant_utils.cuh, div_by_rcp); everything else divides.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dispatch_utils.h"
#include "ops.h"
#include "portability.cuh"
#include "quant_utils.cuh"

namespace ptgq {
namespace {

constexpr int kBlock = 256;

// Scale slot of flat group `g`; 32-bit division when it fits (the common case).
__device__ __forceinline__ int64_t scale_offset(int64_t g, int64_t groups_per_row,
                                                int64_t s_row_stride, int64_t s_group_stride) {
  int64_t row, col;
  if (g <= 0xffffffffll && groups_per_row <= 0xffffffffll) {
    const uint32_t r32 = static_cast<uint32_t>(g) / static_cast<uint32_t>(groups_per_row);
    row = r32;
    col = g - static_cast<int64_t>(r32) * groups_per_row;
  } else {
    row = g / groups_per_row;
    col = g - row * groups_per_row;
  }
  return row * s_row_stride + col * s_group_stride;
}

template <typename In, typename Out, int kG, int kLaneBytes, bool kStrided, int kUnroll>
__global__ void __launch_bounds__(kBlock)
    quant_fast_kernel(const typename In::Storage* __restrict__ input, uint8_t* __restrict__ output_q,
                      float* __restrict__ output_s, int64_t num_groups, int64_t groups_per_row,
                      int64_t s_row_stride, int64_t s_group_stride, float eps, float qmin,
                      float qmax, bool ue8m0, bool allow_rcp) {
  constexpr int kElems = kLaneBytes / static_cast<int>(sizeof(typename In::Storage));
  constexpr int kLanes = kG / kElems;
  constexpr int kPerVec = 16 / static_cast<int>(sizeof(typename In::Storage));
  constexpr int kGroupsPerPass = kBlock / kLanes;
  static_assert(kLanes >= 1 && kLanes <= 32 && (kLanes & (kLanes - 1)) == 0, "bad lane count");

  const int lane = static_cast<int>(threadIdx.x) % kLanes;
  // Block b covers kUnroll passes of kGroupsPerPass consecutive groups; a sub-group of kLanes
  // lanes owns one group per pass. Every guard below is uniform over a sub-group, so no shuffle
  // partner is ever missing.
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kGroupsPerPass * kUnroll +
                        static_cast<int64_t>(threadIdx.x) / kLanes;
  if (first >= num_groups) return;

  pdl_wait_for_previous_grid();
  float v[kUnroll][kElems];
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {  // issue every load before any arithmetic
    const int64_t g = first + static_cast<int64_t>(u) * kGroupsPerPass;
    if (g < num_groups) {
      if constexpr (kStrided) {
        load_lane_strided<In, kElems>(input + g * kG, lane, kLanes, v[u]);
      } else {
        load_lane<In, kElems>(input + g * kG + static_cast<int64_t>(lane) * kElems, v[u]);
      }
    }
  }
  pdl_allow_next_grid();

#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const int64_t g = first + static_cast<int64_t>(u) * kGroupsPerPass;
    if (g >= num_groups) break;
    const float absmax = group_max<kLanes>(lane_absmax<kElems>(v[u]));
    const float s = group_scale(absmax, eps, qmax, ue8m0);
    uint32_t w[kElems / 4];
    quantize_lane_auto<Out, kElems>(v[u], absmax, s, eps, qmin, qmax, allow_rcp, w);
    if constexpr (kStrided) {
      store_lane_strided<kElems, kPerVec>(output_q + g * kG, lane, kLanes, w);
    } else {
      store_lane<kElems>(output_q + g * kG + static_cast<int64_t>(lane) * kElems, w);
    }
    if (lane == 0) output_s[scale_offset(g, groups_per_row, s_row_stride, s_group_stride)] = s;
  }
}

template <typename In, typename Out>
__global__ void __launch_bounds__(kBlock)
    quant_general_kernel(const typename In::Storage* __restrict__ input,
                         uint8_t* __restrict__ output_q, float* __restrict__ output_s,
                         int64_t num_groups, int64_t group_size, int lanes, int64_t groups_per_row,
                         int64_t s_row_stride, int64_t s_group_stride, float eps, float qmin,
                         float qmax, bool ue8m0) {
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  const int64_t g = tid / lanes;
  const int lane = static_cast<int>(threadIdx.x) % lanes;
  if (g >= num_groups) return;

  pdl_wait_for_previous_grid();
  const typename In::Storage* x = input + g * group_size;
  uint8_t* q = output_q + g * group_size;

  float m = 0.0f;
  for (int64_t i = lane; i < group_size; i += lanes) m = fmaxf(m, fabsf(In::to_float(x[i])));
  pdl_allow_next_grid();
  const float s = group_scale(group_max_dyn(m, lanes), eps, qmax, ue8m0);

  for (int64_t i = lane; i < group_size; i += lanes) {
    q[i] = static_cast<uint8_t>(quantize2<Out>(In::to_float(x[i]), 0.0f, s, qmin, qmax) & 0xff);
  }
  if (lane == 0) output_s[scale_offset(g, groups_per_row, s_row_stride, s_group_stride)] = s;
}

int64_t in_bytes(DType t) { return t == DType::kFloat32 ? 4 : 2; }

// Fast-kernel variant (a tuning knob kept for the benchmark notes, see NOTES.md):
//   0 = 32 bytes per lane, strided 16-byte vectors, 1 group per sub-group (default)
//   1 = 32 bytes per lane, contiguous, 1 group      (16-bit input at G = 128 only, as 2-4)
//   2 = 16 bytes per lane, contiguous, 1 group
//   3 = 32 bytes per lane, strided, 2 groups
//   4 = 32 bytes per lane, strided, 4 groups
int fast_variant() {
  static const int env = [] {
    const char* v = std::getenv("PTGQ_FAST_VARIANT");
    return v ? std::atoi(v) : 0;
  }();
  return env;
}

// The reciprocal path is allowed where the exhaustive check covers it (see quant_utils.cuh).
template <typename In>
bool allow_rcp(const QuantArgs& a) {
  return sizeof(typename In::Storage) == 2 && rcp_bounds_checked(a.out_dtype, a.qmin, a.qmax) &&
         !rcp_disabled_by_env();
}

unsigned blocks_for(int64_t threads) {
  const int64_t blocks = (threads + kBlock - 1) / kBlock;
  if (blocks > 0x7fffffffll) throw std::invalid_argument("ptg_quant: tensor too large");
  return static_cast<unsigned>(blocks);
}

template <typename In, typename Out, int kG, int kLaneBytes, bool kStrided, int kUnroll>
void launch_fast_variant(const QuantArgs& a, gpuStream stream, int64_t num_groups,
                         int64_t groups_per_row) {
  constexpr int kLanes = kG / (kLaneBytes / static_cast<int>(sizeof(typename In::Storage)));
  constexpr int64_t kGroupsPerBlock = (kBlock / kLanes) * kUnroll;
  const int64_t blocks = (num_groups + kGroupsPerBlock - 1) / kGroupsPerBlock;
  launch(quant_fast_kernel<In, Out, kG, kLaneBytes, kStrided, kUnroll>, blocks_for(blocks * kBlock), kBlock,
         stream, static_cast<const typename In::Storage*>(a.input),
         static_cast<uint8_t*>(a.output_q), a.output_s, num_groups, groups_per_row,
         a.s_row_stride, a.s_group_stride, a.eps, a.qmin, a.qmax, a.scale_ue8m0, allow_rcp<In>(a));
}

template <typename In, typename Out, int kG>
void launch_fast(const QuantArgs& a, gpuStream stream, int64_t num_groups, int64_t groups_per_row,
                 int variant) {
  if constexpr (kG == 128 && sizeof(typename In::Storage) == 2) {
    switch (variant) {
      case 1: launch_fast_variant<In, Out, kG, 32, false, 1>(a, stream, num_groups, groups_per_row); return;
      case 2: launch_fast_variant<In, Out, kG, 16, false, 1>(a, stream, num_groups, groups_per_row); return;
      case 3: launch_fast_variant<In, Out, kG, 32, true, 2>(a, stream, num_groups, groups_per_row); return;
      case 4: launch_fast_variant<In, Out, kG, 32, true, 4>(a, stream, num_groups, groups_per_row); return;
      default: break;
    }
  }
  launch_fast_variant<In, Out, kG, 32, true, 1>(a, stream, num_groups, groups_per_row);
}

}  // namespace

bool uses_fast_path(const QuantArgs& a) {
  const bool g_ok = a.group_size == 32 || a.group_size == 64 || a.group_size == 128 ||
                    a.group_size == 256;
  const int64_t lane_out_bytes = 32 / in_bytes(a.in_dtype);  // q bytes one lane stores
  const auto in_addr = reinterpret_cast<uintptr_t>(a.input);
  const auto out_addr = reinterpret_cast<uintptr_t>(a.output_q);
  return g_ok && in_addr % 16 == 0 && out_addr % static_cast<uintptr_t>(lane_out_bytes) == 0;
}

void launch_per_token_group_quant_8bit(const QuantArgs& a, void* stream_ptr) {
  const gpuStream stream = static_cast<gpuStream>(stream_ptr);
  const int64_t num_groups = a.m * (a.k / a.group_size);
  if (num_groups == 0) return;
  const int64_t groups_per_row = a.k / a.group_size;
  auto* q = static_cast<uint8_t*>(a.output_q);

  if (uses_fast_path(a)) {
    const int variant = fast_variant();
    PTGQ_DISPATCH_INPUT(a.in_dtype, In, [&] {
      PTGQ_DISPATCH_OUTPUT(a.out_dtype, Out, [&] {
        PTGQ_DISPATCH_GROUP(a.group_size, kG, [&] {
          launch_fast<In, Out, kG>(a, stream, num_groups, groups_per_row, variant);
        });
      });
    });
  } else {
    // Lanes per group: a power of two giving each lane about 8 elements, at most 32.
    int lanes = 1;
    while (lanes < 32 && static_cast<int64_t>(lanes) * 8 < a.group_size) lanes *= 2;
    PTGQ_DISPATCH_INPUT(a.in_dtype, In, [&] {
      PTGQ_DISPATCH_OUTPUT(a.out_dtype, Out, [&] {
        const auto* x = static_cast<const typename In::Storage*>(a.input);
        launch(quant_general_kernel<In, Out>, blocks_for(num_groups * lanes), kBlock, stream, x,
               q, a.output_s, num_groups, a.group_size, lanes, groups_per_row, a.s_row_stride,
               a.s_group_stride, a.eps, a.qmin, a.qmax, a.scale_ue8m0);
      });
    });
  }
  if (const char* err = last_launch_error()) {
    throw std::runtime_error(std::string("ptg_quant: kernel launch failed: ") + err);
  }
}

}  // namespace ptgq
