// HIP-on-CUDA shim (see hip_runtime.h beside this): the fp16 names the translated tree uses
// (__half2float, __ushort_as_half) are CUDA's own, so nothing is mapped.
#pragma once

#include <cuda_fp16.h>
