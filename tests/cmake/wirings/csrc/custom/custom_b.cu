#include <cuda_runtime.h>

__global__ void custom_b_kernel(int* out) { out[0] = 2; }

void custom_b(int* out) {
  custom_b_kernel<<<1, 64>>>(out);
  cudaDeviceSynchronize();
}
