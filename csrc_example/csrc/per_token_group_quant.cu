// Op 1: per-token-group 8-bit quantization (fp8 e4m3fn / e4m3fnuz / int8) with fp32 scales:
// argument checks, the scale layout (read from output_s's strides) and two kernels.
//
//   * fast:    G in {32, 64, 128, 256}, input 16-byte aligned, output_q aligned to a lane's
//              store, 32-bit group and scale indices. Each lane owns 32 bytes of one group (two
//              16-byte vectors, `lane` and `lane + lanes`, so each warp load covers whole
//              sectors); the G*sizeof(in)/32 lanes of a group reduce with xor-shuffles. A block
//              of 256 threads handles 256/lanes groups, once: 32 registers, so 8 blocks and
//              64 KB of loads in flight per SM; large 16-bit launches give each lane two groups
//              (csrc_example/NOTES.md: why, and why not persistent or asynchronous).
//   * general: any G dividing K, any alignment, 64-bit indices. A power-of-two number of lanes
//              (<= 32) strides over the group with scalar loads, reduces, then re-reads
//              (cache-resident) and quantizes.
// Both call the same scale/quantize helpers, so they are bit-identical. The fast kernel divides
// 16-bit input through the group's reciprocal where an exhaustive check proves the bytes equal
// to those of IEEE division (quant_utils.cuh, div_by_rcp); everything else divides.
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
constexpr int kLaneBytes = 32;  // input bytes per lane and group in the fast kernel

// The fast kernel's scale slot of flat group g: row g / groups_per_row, column the remainder.
struct ScaleSlots {
  FastDiv groups_per_row;
  uint32_t row_stride;
  uint32_t group_stride;

  PTGQ_D uint32_t operator()(uint32_t g) const {
    const uint32_t row = groups_per_row.div(g);
    return row * row_stride + (g - row * groups_per_row.divisor) * group_stride;
  }
};

// Groups per lane: 1, or, for 16-bit input, 2 in launches of at least kTwoGroupWaves waves of
// one-group blocks. With two, a lane has both groups' loads (64 bytes) in flight before any
// arithmetic, for 48 registers and 5 blocks per SM; with one, 32 bytes, 32 registers and 8
// blocks. Two is faster on large tensors and slower on small ones (csrc_example/NOTES.md).
constexpr int kTwoGroupWaves = 8;

template <int kPerLane>
constexpr int kMinBlocks = kPerLane == 1 ? 8 : 5;

template <typename In, typename Out, int kG, int kPerLane>
__global__ void __launch_bounds__(kBlock, kMinBlocks<kPerLane>)
    quant_fast_kernel(const typename In::Storage* __restrict__ input, uint8_t* __restrict__ output_q,
                      float* __restrict__ output_s, uint32_t num_groups, ScaleSlots slots, float eps,
                      float qmin, float qmax, bool ue8m0, bool allow_rcp) {
  constexpr int kElems = kLaneBytes / static_cast<int>(sizeof(typename In::Storage));
  constexpr int kLanes = kG / kElems;
  constexpr uint32_t kGroupsPerPass = kBlock / kLanes;
  static_assert(kLanes >= 1 && kLanes <= 32 && (kLanes & (kLanes - 1)) == 0, "bad lane count");

  const int lane = static_cast<int>(threadIdx.x % kLanes);
  // Block b covers kPerLane passes of kGroupsPerPass consecutive groups; each group's lanes own
  // one group per pass. Every guard is uniform over a group's lanes, so no shuffle partner is
  // ever missing.
  const uint32_t first = blockIdx.x * (kGroupsPerPass * kPerLane) + threadIdx.x / kLanes;
  if (first >= num_groups) return;

  pdl_wait_for_previous_grid();
  uint4 raw[kPerLane][kElems / kVecElems<In>];
#pragma unroll
  for (int u = 0; u < kPerLane; ++u) {  // every load before any arithmetic
    const uint32_t g = first + u * kGroupsPerPass;
    if (g < num_groups) {
      load_raw_strided<In, kElems>(input + static_cast<size_t>(g) * kG, lane, kLanes, raw[u]);
    }
  }
  pdl_allow_next_grid();

#pragma unroll
  for (int u = 0; u < kPerLane; ++u) {
    const uint32_t g = first + u * kGroupsPerPass;
    if (g >= num_groups) break;
    float v[kElems];
    unpack<In, kElems>(raw[u], v);
    const float absmax = group_max<kLanes>(lane_absmax<kElems>(v));
    const float s = group_scale(absmax, eps, qmax, ue8m0);
    if (lane == 0) output_s[slots(g)] = s;  // before the quantization: fewer registers live there
    quantize_store_lane<In, Out, kElems>(v, input + static_cast<size_t>(g) * kG,
                                         output_q + static_cast<size_t>(g) * kG, lane, kLanes,
                                         absmax, s, eps, qmin, qmax, allow_rcp);
  }
}

// Scale slot of flat group `g` with 64-bit indices (general kernel).
__device__ __forceinline__ int64_t scale_offset(int64_t g, int64_t groups_per_row,
                                                int64_t s_row_stride, int64_t s_group_stride) {
  const int64_t row = g / groups_per_row;
  return row * s_row_stride + (g - row * groups_per_row) * s_group_stride;
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

// A validated call: pointers, shape and the scale layout as two strides.
struct QuantArgs {
  const void* input;
  void* output_q;
  float* output_s;
  int64_t m, k, group_size;
  int64_t s_row_stride, s_group_stride;
  DType in_dtype, out_dtype;
  float eps, qmin, qmax;
  bool scale_ue8m0;
};

unsigned blocks_for(int64_t threads) {
  const int64_t blocks = (threads + kBlock - 1) / kBlock;
  if (blocks > 0x7fffffffll) throw std::invalid_argument("ptg_quant: tensor too large");
  return static_cast<unsigned>(blocks);
}

int64_t in_bytes(DType t) { return t == DType::kFloat32 ? 4 : 2; }

// The fast kernel takes G in {32, 64, 128, 256}, a 16-byte aligned input, an output_q aligned
// to one lane's store, fewer than 2^31 groups (FastDiv's domain) and scale slots below 2^32.
bool fast_path(const QuantArgs& a, int64_t num_groups, int64_t groups_per_row) {
  const bool g_ok = a.group_size == 32 || a.group_size == 64 || a.group_size == 128 ||
                    a.group_size == 256;
  const auto lane_out_bytes = static_cast<uintptr_t>(kLaneBytes / in_bytes(a.in_dtype));
  const bool aligned = reinterpret_cast<uintptr_t>(a.input) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(a.output_q) % lane_out_bytes == 0;
  // Largest scale slot, in double: exact enough against a bound well below 2^32.
  const double last_slot = static_cast<double>(a.m - 1) * static_cast<double>(a.s_row_stride) +
                           static_cast<double>(groups_per_row - 1) * static_cast<double>(a.s_group_stride);
  const bool fits32 = num_groups < (int64_t{1} << 31) && groups_per_row < (int64_t{1} << 31) &&
                      a.s_row_stride < (int64_t{1} << 32) && a.s_group_stride < (int64_t{1} << 32) &&
                      last_slot < 4.0e9;
  return g_ok && aligned && fits32;
}

// Whether `threads` (one group per lane) make at least kTwoGroupWaves waves of fully resident
// one-group blocks: then the two-group kernel is used.
bool many_waves(int64_t threads) {
  const int64_t resident = static_cast<int64_t>(multiprocessor_count()) * kMinBlocks<1>;
  return resident > 0 && threads / kBlock >= kTwoGroupWaves * resident;
}

// The reciprocal path is allowed where the exhaustive check covers it (see quant_utils.cuh).
bool allow_rcp(const QuantArgs& a) {
  return in_bytes(a.in_dtype) == 2 && rcp_bounds_checked(a.out_dtype, a.qmin, a.qmax);
}

template <typename In, typename Out, int kG>
void launch_fast(const QuantArgs& a, gpuStream stream, int64_t num_groups, ScaleSlots slots,
                 bool rcp) {
  constexpr int64_t kLanes = kG / (kLaneBytes / sizeof(typename In::Storage));
  const int64_t threads = num_groups * kLanes;  // one group per lane
  const auto* x = static_cast<const typename In::Storage*>(a.input);
  auto* q = static_cast<uint8_t*>(a.output_q);
  const auto groups = static_cast<uint32_t>(num_groups);
  if constexpr (sizeof(typename In::Storage) == 2) {  // measured for 16-bit input only
    if (many_waves(threads)) {
      launch(quant_fast_kernel<In, Out, kG, 2>, blocks_for((threads + 1) / 2), kBlock, stream, x,
             q, a.output_s, groups, slots, a.eps, a.qmin, a.qmax, a.scale_ue8m0, rcp);
      return;
    }
  }
  launch(quant_fast_kernel<In, Out, kG, 1>, blocks_for(threads), kBlock, stream, x, q, a.output_s,
         groups, slots, a.eps, a.qmin, a.qmax, a.scale_ue8m0, rcp);
}

void launch_quant(const QuantArgs& a, gpuStream stream) {
  const int64_t groups_per_row = a.k / a.group_size;
  const int64_t num_groups = a.m * groups_per_row;
  auto* q = static_cast<uint8_t*>(a.output_q);

  if (fast_path(a, num_groups, groups_per_row)) {
    const ScaleSlots slots{FastDiv::make(static_cast<uint32_t>(groups_per_row)),
                           static_cast<uint32_t>(a.s_row_stride),
                           static_cast<uint32_t>(a.s_group_stride)};
    const bool rcp = allow_rcp(a);
    PTGQ_DISPATCH_INPUT(a.in_dtype, In, [&] {
      PTGQ_DISPATCH_OUTPUT(a.out_dtype, Out, [&] {
        PTGQ_DISPATCH_GROUP(a.group_size, kG, [&] {
          launch_fast<In, Out, kG>(a, stream, num_groups, slots, rcp);
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

}  // namespace

void per_token_group_quant_8bit(const TensorRef& input, const TensorRef& output_q,
                                const TensorRef& output_s, int64_t group_size, double eps,
                                double qmin, double qmax, bool scale_ue8m0) {
  if (!input.on_gpu) fail("input must be a GPU tensor");
  check_same_device(input, output_q, "output_q");
  check_same_device(input, output_s, "output_s");
  if (group_size < 1) fail("group_size must be >= 1, got ", group_size);
  if (input.dim < 1) fail("input must have at least one dimension");
  if (!input.contiguous) fail("input must be contiguous");
  if (!output_q.contiguous) fail("output_q must be contiguous");
  const DType in_t = input.dtype;
  if (in_t != DType::kFloat32 && in_t != DType::kFloat16 && in_t != DType::kBFloat16) {
    fail("input must be float32, float16 or bfloat16, got ", dtype_name(in_t));
  }
  check_output_dtype(output_q);
  if (output_s.dtype != DType::kFloat32) {
    fail("output_s must be float32, got ", dtype_name(output_s.dtype));
  }

  const int64_t k = input.sizes[input.dim - 1];
  if (k % group_size != 0) {
    fail("last dimension ", k, " is not a multiple of group_size ", group_size);
  }
  if (output_q.numel != input.numel) fail("output_q must have as many elements as input");
  const int64_t m = k == 0 ? 0 : input.numel / k;
  const int64_t groups = k / group_size;
  if (output_s.dim != 2 || output_s.sizes[0] != m || output_s.sizes[1] != groups) {
    fail("output_s must have logical shape [", m, ", ", groups, "]");
  }
  // Scale layout from the strides: row-major (K/G, 1), column-major (1, M) or TMA-aligned
  // column-major (1, ceil(M/4)*4); with one row or one group any strides address it.
  const int64_t st0 = output_s.strides[0];
  const int64_t st1 = output_s.strides[1];
  const int64_t tma = (m + 3) / 4 * 4;
  const bool row_major = st0 == groups && st1 == 1;
  const bool col_major = st0 == 1 && (st1 == m || st1 == tma);
  if (!(row_major || col_major || m <= 1 || groups <= 1)) {
    fail("output_s strides (", st0, ", ", st1, ") are not row-major (", groups,
         ", 1) or column-major (1, ", m, ") / (1, ", tma, ")");
  }
  if (m == 0 || groups == 0) return;

  QuantArgs args{};
  args.input = input.data;
  args.output_q = output_q.data;
  args.output_s = static_cast<float*>(output_s.data);
  args.m = m;
  args.k = k;
  args.group_size = group_size;
  args.s_row_stride = st0;
  args.s_group_stride = st1;
  args.in_dtype = in_t;
  args.out_dtype = output_q.dtype;
  args.eps = static_cast<float>(eps);
  args.qmin = static_cast<float>(qmin);
  args.qmax = static_cast<float>(qmax);
  args.scale_ue8m0 = scale_ue8m0;

  const DeviceScope scope(input.device);
  launch_quant(args, static_cast<gpuStream>(current_stream(input.device)));
}

}  // namespace ptgq
