#include <cuda_runtime.h>
__global__ void k(float* x) { x[0] = 1; }
void launch(float* x) { k<<<1, 1>>>(x); cudaDeviceSynchronize(); }
