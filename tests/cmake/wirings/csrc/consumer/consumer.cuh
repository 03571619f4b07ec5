#pragma once
#include <cuda_runtime.h>
inline cudaError_t consumer_check() { return cudaGetLastError(); }
