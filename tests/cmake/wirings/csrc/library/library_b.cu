#include <cuda_runtime.h>

__global__ void library_b_kernel(int* out) { out[0] = 2; }

void library_b(int* out) {
  library_b_kernel<<<1, 64>>>(out);
  cudaDeviceSynchronize();
}
