#include "shared/common.cuh"
#include "c/local.cuh"
__global__ void c_kernel2(int* out) { out[0] = 2; }
void c_launch2(int* out) { c_kernel2<<<1, 32>>>(out); shared_check(); c_local(); }
