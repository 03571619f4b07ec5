#pragma once
#include <cuda_runtime.h>
inline cudaError_t shared_check() { return cudaGetLastError(); }
