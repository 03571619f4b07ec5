#include "library/library.cuh"

#ifndef USE_ROCM
#error "hipify_tool_target_sources() defines USE_ROCM"
#endif

__global__ void library_a_kernel(int* out) { out[0] = 1; }

void library_a(int* out, cudaStream_t stream) {
  library_a_kernel<<<dim3(1), dim3(32), 0, stream>>>(out);
  library_check();
}
