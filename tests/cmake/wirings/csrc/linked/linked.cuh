#pragma once
#include <cuda_runtime.h>
inline cudaError_t linked_check() { return cudaGetLastError(); }
