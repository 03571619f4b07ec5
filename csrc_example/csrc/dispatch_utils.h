// dtype / group-size switch macros: turn run-time values into template arguments.
#pragma once

#include <stdexcept>
#include <string>

#include "ops.h"

// PTGQ_DISPATCH_INPUT(dtype, InT, ...): InT is InF32 / InF16 / InBF16.
#define PTGQ_DISPATCH_INPUT(DTYPE, NAME, ...)                                      \
  [&] {                                                                            \
    switch (DTYPE) {                                                               \
      case ::ptgq::DType::kFloat32: { using NAME = ::ptgq::InF32; return __VA_ARGS__(); }  \
      case ::ptgq::DType::kFloat16: { using NAME = ::ptgq::InF16; return __VA_ARGS__(); }  \
      case ::ptgq::DType::kBFloat16: { using NAME = ::ptgq::InBF16; return __VA_ARGS__(); } \
      default: throw std::invalid_argument("ptg_quant: unsupported input dtype");  \
    }                                                                              \
  }()

// PTGQ_DISPATCH_16BIT_INPUT: fp16 / bf16 only (packed op).
#define PTGQ_DISPATCH_16BIT_INPUT(DTYPE, NAME, ...)                                \
  [&] {                                                                            \
    switch (DTYPE) {                                                               \
      case ::ptgq::DType::kFloat16: { using NAME = ::ptgq::InF16; return __VA_ARGS__(); }  \
      case ::ptgq::DType::kBFloat16: { using NAME = ::ptgq::InBF16; return __VA_ARGS__(); } \
      default: throw std::invalid_argument("ptg_quant: input must be float16 or bfloat16"); \
    }                                                                              \
  }()

// PTGQ_DISPATCH_OUTPUT(dtype, OutT, ...): OutT is OutE4M3FN / OutE4M3FNUZ / OutInt8.
#define PTGQ_DISPATCH_OUTPUT(DTYPE, NAME, ...)                                     \
  [&] {                                                                            \
    switch (DTYPE) {                                                               \
      case ::ptgq::DType::kFloat8E4M3FN: { using NAME = ::ptgq::OutE4M3FN; return __VA_ARGS__(); }     \
      case ::ptgq::DType::kFloat8E4M3FNUZ: { using NAME = ::ptgq::OutE4M3FNUZ; return __VA_ARGS__(); } \
      case ::ptgq::DType::kInt8: { using NAME = ::ptgq::OutInt8; return __VA_ARGS__(); }               \
      default: throw std::invalid_argument("ptg_quant: unsupported output dtype");  \
    }                                                                              \
  }()

// PTGQ_DISPATCH_GROUP(g, kG, ...): the group sizes with a specialised fast kernel.
#define PTGQ_DISPATCH_GROUP(G, NAME, ...)                                          \
  [&] {                                                                            \
    switch (G) {                                                                   \
      case 32: { constexpr int NAME = 32; return __VA_ARGS__(); }                  \
      case 64: { constexpr int NAME = 64; return __VA_ARGS__(); }                  \
      case 128: { constexpr int NAME = 128; return __VA_ARGS__(); }                \
      case 256: { constexpr int NAME = 256; return __VA_ARGS__(); }                \
      default: throw std::invalid_argument("ptg_quant: no fast kernel for group size " + std::to_string(G)); \
    }                                                                              \
  }()
