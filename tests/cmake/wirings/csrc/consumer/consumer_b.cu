#include <cuda_runtime.h>

__global__ void consumer_b_kernel(int* out) { out[0] = 2; }

void consumer_b(int* out) {
  consumer_b_kernel<<<1, 64>>>(out);
  cudaDeviceSynchronize();
}
