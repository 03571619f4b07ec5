#include "shared/common.cuh"
#include "a/local.cuh"
__global__ void a_kernel2(int* out) { out[0] = 2; }
void a_launch2(int* out) { a_kernel2<<<1, 32>>>(out); shared_check(); a_local(); }
