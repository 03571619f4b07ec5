#include <cuda_runtime.h>

void nccl_sync() { cudaDeviceSynchronize(); }
