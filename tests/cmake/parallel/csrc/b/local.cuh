#pragma once
#include <cuda_runtime.h>
inline void b_local() { cudaDeviceSynchronize(); }
