#include "shared/common.cuh"
#include "c/local.cuh"
__global__ void c_kernel1(int* out) { out[0] = 1; }
void c_launch1(int* out) { c_kernel1<<<1, 32>>>(out); shared_check(); c_local(); }
