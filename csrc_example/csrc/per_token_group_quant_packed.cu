// Op 2: G = 128 quantization with UE8M0 scales packed for DeepGEMM: the biased exponents of
// four consecutive groups of a row share one int32 (group g in byte g % 4), stored
// column-major with row stride 1 and column stride S = ceil(M/4)*4.
//
// One 32-lane unit per (row r, word w): four slots of 8 lanes, each lane owning two 16-byte
// vectors of its group (vectors lane and lane + 8, so warp loads cover whole sectors). The
// four exponent bytes are combined with two xor-shuffles inside the unit.
// Units with r >= M write the padding: zero words inside the scale storage span and zero q rows
// M..min(rows_q, S)-1.
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
constexpr int kG = 128;
constexpr int kElems = 16;                 // per lane
constexpr int kLanesPerGroup = kG / kElems;  // 8
constexpr int kUnit = 4 * kLanesPerGroup;    // 32 lanes per packed word

// Units are numbered u = row * words_per_row + word in 32 bits (the host checks that S *
// words_per_row < 2^32, far beyond any tensor that fits in memory), so the row / word split is
// one 32-bit division and no 64-bit division routine is called. Only the element offset of the
// lane's group (shared by input and q) and the scale slot stay live across the arithmetic.
// kFullWords: groups_per_row % 4 == 0 (every K that is a multiple of 512), so every slot holds
// a group and no lane takes the zero-fill branch.
template <typename In, typename Out, bool kFullWords>
__global__ void __launch_bounds__(kBlock)
    quant_packed_kernel(const typename In::Storage* __restrict__ input,
                        uint8_t* __restrict__ output_q, int32_t* __restrict__ output_s,
                        uint32_t units, uint32_t words_per_row, uint32_t groups_per_row,
                        uint32_t m, uint32_t rows_q, int64_t k, uint32_t s_stride, float eps,
                        float qmin, float qmax, bool allow_rcp) {
  const uint32_t unit = blockIdx.x * static_cast<uint32_t>(kBlock / kUnit) + threadIdx.x / kUnit;
  if (unit >= units) return;  // whole units leave together
  const uint32_t row = unit / words_per_row;
  const uint32_t word = unit - row * words_per_row;
  const int unit_lane = static_cast<int>(threadIdx.x) % kUnit;
  const int slot = unit_lane / kLanesPerGroup;
  const int lane = unit_lane % kLanesPerGroup;
  const uint32_t group = word * 4u + static_cast<uint32_t>(slot);
  const bool slot_valid = kFullWords || group < groups_per_row;
  const int64_t off = static_cast<int64_t>(row) * k + static_cast<int64_t>(group) * kG;
  // Scale word index: word * S + row < units (S * words_per_row), so it fits in 32 bits.
  const uint32_t s_index = word * s_stride + row;

  pdl_wait_for_previous_grid();
  if (row < m) {
    float v[kElems];
    if (slot_valid) {
      load_lane_strided<In, kElems>(input + off, lane, kLanesPerGroup, v);
    } else {
#pragma unroll
      for (int i = 0; i < kElems; ++i) v[i] = 0.0f;
    }
    pdl_allow_next_grid();
    const float absmax = group_max<kLanesPerGroup>(lane_absmax<kElems>(v));
    const float s = group_scale(absmax, eps, qmax, /*ue8m0=*/true);
    if (slot_valid) {
      uint32_t w[kElems / 4];
      quantize_lane_auto<Out, kElems>(v, absmax, s, eps, qmin, qmax, allow_rcp, w);
      store_lane_strided<kElems, 8>(output_q + off, lane, kLanesPerGroup, w);
    }
    uint32_t packed = slot_valid ? ((float_bits(s) >> 23) & 0xffu) << (8 * slot) : 0u;
    packed |= shfl_xor(packed, kLanesPerGroup, kUnit);
    packed |= shfl_xor(packed, 2 * kLanesPerGroup, kUnit);
    if (unit_lane == 0) output_s[s_index] = static_cast<int32_t>(packed);
  } else {
    pdl_allow_next_grid();
    if (row < rows_q && slot_valid) {
      const uint32_t zero[kElems / 4] = {0u, 0u, 0u, 0u};
      store_lane<kElems>(output_q + off + static_cast<int64_t>(lane) * kElems, zero);
    }
    // Storage span is m + (words_per_row - 1) * s_stride words: the last column's padding
    // rows lie outside it.
    if (unit_lane == 0 && word + 1 < words_per_row) output_s[s_index] = 0;
  }
}

}  // namespace

void launch_per_token_group_quant_8bit_packed(const PackedArgs& a, void* stream_ptr) {
  const gpuStream stream = static_cast<gpuStream>(stream_ptr);
  if (a.m == 0) return;
  const int64_t groups_per_row = a.k / kG;
  const int64_t words_per_row = (groups_per_row + 3) / 4;
  const int64_t units = a.s_stride * words_per_row;
  const int64_t threads = units * kUnit;
  const int64_t blocks = (threads + kBlock - 1) / kBlock;
  if (units > 0xffffffffll || a.rows_q > 0xffffffffll) {
    throw std::invalid_argument("ptg_quant: tensor too large");
  }
  auto* q = static_cast<uint8_t*>(a.output_q);
  const bool allow_rcp = rcp_bounds_checked(a.out_dtype, a.qmin, a.qmax) && !rcp_disabled_by_env();
  PTGQ_DISPATCH_16BIT_INPUT(a.in_dtype, In, [&] {
    PTGQ_DISPATCH_OUTPUT(a.out_dtype, Out, [&] {
      const auto* x = static_cast<const typename In::Storage*>(a.input);
      const bool full = groups_per_row % 4 == 0;
      auto kernel = full ? quant_packed_kernel<In, Out, true> : quant_packed_kernel<In, Out, false>;
      launch(kernel, static_cast<unsigned>(blocks), kBlock, stream, x, q, a.output_s,
             static_cast<uint32_t>(units), static_cast<uint32_t>(words_per_row),
             static_cast<uint32_t>(groups_per_row), static_cast<uint32_t>(a.m),
             static_cast<uint32_t>(a.rows_q), a.k, static_cast<uint32_t>(a.s_stride), a.eps,
             a.qmin, a.qmax, allow_rcp);
    });
  });
  if (const char* err = last_launch_error()) {
    throw std::runtime_error(std::string("ptg_quant: kernel launch failed: ") + err);
  }
}

}  // namespace ptgq
