#include "shared/common.cuh"
#include "b/local.cuh"
__global__ void b_kernel1(int* out) { out[0] = 1; }
void b_launch1(int* out) { b_kernel1<<<1, 32>>>(out); shared_check(); b_local(); }
