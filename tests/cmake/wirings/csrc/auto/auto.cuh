#pragma once
#include <cuda_runtime.h>
inline cudaError_t auto_check() { return cudaGetLastError(); }
