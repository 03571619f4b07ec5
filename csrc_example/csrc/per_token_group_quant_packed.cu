// Op 2: G = 128 quantization with UE8M0 scales packed for DeepGEMM: the biased exponents of
// four consecutive groups of a row share one int32 (group g in byte g % 4), stored
// column-major with row stride 1 and column stride S = ceil(M/4)*4.
//
// One 32-lane unit per (row r, word w): four slots of 8 lanes, each lane owning two 16-byte
// vectors of its group (vectors lane and lane + 8, so warp loads cover whole sectors); a warp
// handles one unit, or two (both loaded first) in launches of many waves. Each
// slot's first lane stores its exponent byte; the four byte stores of a unit coalesce into one
// word. Units with r >= M write the padding: zero words inside the scale storage span and zero
// q rows M..min(rows_q, S)-1.
#include <stdexcept>
#include <string>

#include "arg_checks.h"
#include "current_stream.h"
#include "dispatch_utils.h"
#include "ops.h"
#include "portability.cuh"
#include "quant_utils.cuh"

namespace ptgq {
namespace {

constexpr int kBlock = 256;
constexpr int kG = 128;
constexpr int kElems = 16;                   // per lane
constexpr int kLanesPerGroup = kG / kElems;  // 8
constexpr int kUnit = 4 * kLanesPerGroup;    // 32 lanes per packed word

// Units are numbered u = row * words_per_row + word in 32 bits (the host checks that S *
// words_per_row < 2^31, far beyond any tensor that fits in memory), so the row / word split is
// one FastDiv. kFullWords: groups_per_row % 4 == 0 (every K that is a multiple of 512), so every
// slot holds a group and no lane takes the zero-fill branch. kPerWarp units per warp (1, or 2
// for launches of many waves: both units' loads in flight first), as Op 1's fast kernel.
constexpr int kTwoUnitWaves = 8;

template <int kPerWarp>
constexpr int kMinBlocks = kPerWarp == 1 ? 8 : 5;

// Where one unit's lane works: its row and word, its group's element offset (input and q) and
// the scale word.
struct UnitPlace {
  uint32_t row, word;
  bool slot_valid;
  int64_t off;
  uint32_t s_index;
};

template <bool kFullWords>
PTGQ_D UnitPlace place(uint32_t unit, int slot, FastDiv words_per_row, uint32_t groups_per_row,
                       int64_t k, uint32_t s_stride) {
  UnitPlace p;
  p.row = words_per_row.div(unit);
  p.word = unit - p.row * words_per_row.divisor;
  const uint32_t group = p.word * 4u + static_cast<uint32_t>(slot);
  p.slot_valid = kFullWords || group < groups_per_row;
  p.off = static_cast<int64_t>(p.row) * k + static_cast<int64_t>(group) * kG;
  // Scale word index: word * S + row < units (S * words_per_row), so it fits in 32 bits.
  p.s_index = p.word * s_stride + p.row;
  return p;
}

template <typename In, typename Out, bool kFullWords, int kPerWarp>
__global__ void __launch_bounds__(kBlock, kMinBlocks<kPerWarp>)
    quant_packed_kernel(const typename In::Storage* __restrict__ input,
                        uint8_t* __restrict__ output_q, int32_t* __restrict__ output_s,
                        uint32_t units, FastDiv words_per_row, uint32_t groups_per_row,
                        uint32_t m, uint32_t rows_q, int64_t k, uint32_t s_stride, float eps,
                        float qmin, float qmax, bool allow_rcp) {
  constexpr uint32_t kUnitsPerPass = kBlock / kUnit;
  const uint32_t first = blockIdx.x * (kUnitsPerPass * kPerWarp) + threadIdx.x / kUnit;
  if (first >= units) return;  // whole units leave together
  const int unit_lane = static_cast<int>(threadIdx.x % kUnit);
  const int slot = unit_lane / kLanesPerGroup;
  const int lane = unit_lane % kLanesPerGroup;

  pdl_wait_for_previous_grid();
  uint4 raw[kPerWarp][kElems / kVecElems<In>];
#pragma unroll
  for (int u = 0; u < kPerWarp; ++u) {  // every load before any arithmetic
    const uint32_t unit = first + u * kUnitsPerPass;
    if (unit >= units) break;
    const UnitPlace p = place<kFullWords>(unit, slot, words_per_row, groups_per_row, k, s_stride);
    if (p.row < m && p.slot_valid) {
      load_raw_strided<In, kElems>(input + p.off, lane, kLanesPerGroup, raw[u]);
    }
  }
  pdl_allow_next_grid();

#pragma unroll
  for (int u = 0; u < kPerWarp; ++u) {
    const uint32_t unit = first + u * kUnitsPerPass;
    if (unit >= units) break;
    const UnitPlace p = place<kFullWords>(unit, slot, words_per_row, groups_per_row, k, s_stride);
    if (p.row < m) {
      float v[kElems];
      if (p.slot_valid) {
        unpack<In, kElems>(raw[u], v);
      } else {
#pragma unroll
        for (int i = 0; i < kElems; ++i) v[i] = 0.0f;
      }
      const float absmax = group_max<kLanesPerGroup>(lane_absmax<kElems>(v));
      const float s = group_scale(absmax, eps, qmax, /*ue8m0=*/true);
      if (p.slot_valid) {
        quantize_store_lane<In, Out, kElems>(v, input + p.off, output_q + p.off, lane,
                                             kLanesPerGroup, absmax, s, eps, qmin, qmax, allow_rcp);
      }
      if (lane == 0) {
        const uint32_t exponent = p.slot_valid ? (float_bits(s) >> 23) & 0xffu : 0u;
        reinterpret_cast<uint8_t*>(output_s + p.s_index)[slot] = static_cast<uint8_t>(exponent);
      }
    } else {
      if (p.row < rows_q && p.slot_valid) {
        const uint32_t zero[kElems / 4] = {0u, 0u, 0u, 0u};
        store_lane<kElems>(output_q + p.off + static_cast<int64_t>(lane) * kElems, zero);
      }
      // Storage span is m + (words_per_row - 1) * s_stride words: the last column's padding
      // rows lie outside it.
      if (unit_lane == 0 && p.word + 1 < words_per_row.divisor) output_s[p.s_index] = 0;
    }
  }
}

// A validated call.
struct PackedArgs {
  const void* input;   // [M, K], 16-byte aligned, fp16/bf16
  void* output_q;      // [rows_q, K], 16-byte aligned, rows_q >= M
  int32_t* output_s;   // logical [M, ceil(K/128/4)], strides (1, S)
  int64_t m, k, rows_q;
  int64_t s_stride;    // S = ceil(M/4)*4
  DType in_dtype, out_dtype;
  float eps, qmin, qmax;
};

void launch_packed(const PackedArgs& a, gpuStream stream) {
  const int64_t groups_per_row = a.k / kG;
  const int64_t words_per_row = (groups_per_row + 3) / 4;
  const int64_t units = a.s_stride * words_per_row;
  const int64_t threads = units * kUnit;
  const int64_t blocks = (threads + kBlock - 1) / kBlock;
  if (units >= (int64_t{1} << 31) || a.rows_q > 0xffffffffll) {
    throw std::invalid_argument("ptg_quant: tensor too large");
  }
  auto* q = static_cast<uint8_t*>(a.output_q);
  const bool allow_rcp = rcp_bounds_checked(a.out_dtype, a.qmin, a.qmax);
  const FastDiv wpr = FastDiv::make(static_cast<uint32_t>(words_per_row));
  const int64_t resident = static_cast<int64_t>(multiprocessor_count()) * kMinBlocks<1>;
  const bool two = resident > 0 && blocks >= kTwoUnitWaves * resident;
  PTGQ_DISPATCH_16BIT_INPUT(a.in_dtype, In, [&] {
    PTGQ_DISPATCH_OUTPUT(a.out_dtype, Out, [&] {
      const auto* x = static_cast<const typename In::Storage*>(a.input);
      const bool full = groups_per_row % 4 == 0;
      auto kernel = full ? (two ? quant_packed_kernel<In, Out, true, 2> : quant_packed_kernel<In, Out, true, 1>)
                         : (two ? quant_packed_kernel<In, Out, false, 2> : quant_packed_kernel<In, Out, false, 1>);
      launch(kernel, static_cast<unsigned>(two ? (blocks + 1) / 2 : blocks), kBlock, stream, x, q,
             a.output_s, static_cast<uint32_t>(units), wpr, static_cast<uint32_t>(groups_per_row),
             static_cast<uint32_t>(a.m), static_cast<uint32_t>(a.rows_q), a.k,
             static_cast<uint32_t>(a.s_stride), a.eps, a.qmin, a.qmax, allow_rcp);
    });
  });
  if (const char* err = last_launch_error()) {
    throw std::runtime_error(std::string("ptg_quant: kernel launch failed: ") + err);
  }
}

}  // namespace

void per_token_group_quant_8bit_packed(const TensorRef& input, const TensorRef& output_q,
                                       const TensorRef& output_s_packed, int64_t group_size,
                                       double eps, double qmin, double qmax) {
  if (!input.on_gpu) fail("input must be a GPU tensor");
  check_same_device(input, output_q, "output_q");
  check_same_device(input, output_s_packed, "output_s_packed");
  if (group_size != kG) fail("the packed layout needs group_size 128, got ", group_size);
  if (input.dtype != DType::kFloat16 && input.dtype != DType::kBFloat16) {
    fail("packed op input must be float16 or bfloat16, got ", dtype_name(input.dtype));
  }
  check_output_dtype(output_q);
  if (input.dim != 2 || output_q.dim != 2) fail("packed op input and output_q must be 2-D");
  if (!input.contiguous || !output_q.contiguous) fail("input and output_q must be contiguous");
  const int64_t m = input.sizes[0];
  const int64_t k = input.sizes[1];
  if (k % kG != 0) fail("last dimension ", k, " is not a multiple of 128");
  if (output_q.sizes[1] != k || output_q.sizes[0] < m) {
    fail("output_q must be [rows >= ", m, ", ", k, "]");
  }
  if (!aligned16(input) || !aligned16(output_q)) {
    fail("packed op needs 16-byte aligned input and output_q");
  }
  if (output_s_packed.dtype != DType::kInt32) {
    fail("output_s_packed must be int32, got ", dtype_name(output_s_packed.dtype));
  }
  const int64_t words = (k / kG + 3) / 4;
  const int64_t s = (m + 3) / 4 * 4;
  if (output_s_packed.dim != 2 || output_s_packed.sizes[0] != m ||
      output_s_packed.sizes[1] != words) {
    fail("output_s_packed must have logical shape [", m, ", ", words, "]");
  }
  const bool strides_ok = output_s_packed.strides[0] == 1 &&
                          (words == 1 || output_s_packed.strides[1] == s);
  if (!(m == 0 || words == 0 || strides_ok)) {
    fail("output_s_packed strides must be (1, ", s, ")");
  }
  if (m == 0 || words == 0) return;

  PackedArgs args{};
  args.input = input.data;
  args.output_q = output_q.data;
  args.output_s = static_cast<int32_t*>(output_s_packed.data);
  args.m = m;
  args.k = k;
  args.rows_q = output_q.sizes[0];
  args.s_stride = s;
  args.in_dtype = input.dtype;
  args.out_dtype = output_q.dtype;
  args.eps = static_cast<float>(eps);
  args.qmin = static_cast<float>(qmin);
  args.qmax = static_cast<float>(qmax);

  const DeviceScope scope(input.device);
  launch_packed(args, static_cast<gpuStream>(current_stream(input.device)));
}

}  // namespace ptgq
