#pragma once
#include <cuda_runtime.h>
inline cudaError_t custom_check() { return cudaGetLastError(); }
