#pragma once
#include <cuda_runtime.h>
#include "common/math.h"

inline cudaError_t check_last() { return cudaGetLastError(); }
