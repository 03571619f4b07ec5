#include "shared/common.cuh"
#include "b/local.cuh"
__global__ void b_kernel2(int* out) { out[0] = 2; }
void b_launch2(int* out) { b_kernel2<<<1, 32>>>(out); shared_check(); b_local(); }
