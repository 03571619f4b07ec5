#pragma once
#include <cuda_runtime.h>
inline cudaError_t library_check() { return cudaGetLastError(); }
