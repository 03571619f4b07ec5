#include "shared/common.cuh"
#include "a/local.cuh"
__global__ void a_kernel1(int* out) { out[0] = 1; }
void a_launch1(int* out) { a_kernel1<<<1, 32>>>(out); shared_check(); a_local(); }
