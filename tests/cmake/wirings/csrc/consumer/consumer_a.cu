#include "consumer/consumer.cuh"

__global__ void consumer_a_kernel(int* out) { out[0] = 1; }

void consumer_a(int* out, cudaStream_t stream) {
  consumer_a_kernel<<<dim3(1), dim3(32), 0, stream>>>(out);
  consumer_check();
}
