#pragma once
#include <cuda_runtime.h>
inline void a_local() { cudaDeviceSynchronize(); }
