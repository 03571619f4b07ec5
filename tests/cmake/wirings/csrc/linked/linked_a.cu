#include "linked/linked.cuh"

#ifndef USE_ROCM
#error "linking the TARGET library defines USE_ROCM"
#endif

__global__ void linked_a_kernel(int* out) { out[0] = 1; }

void linked_a(int* out, cudaStream_t stream) {
  linked_a_kernel<<<dim3(1), dim3(32), 0, stream>>>(out);
  linked_check();
}
