#pragma once
#include <cuda_runtime.h>
inline void c_local() { cudaDeviceSynchronize(); }
