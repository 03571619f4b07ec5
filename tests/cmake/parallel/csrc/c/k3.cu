#include "shared/common.cuh"
#include "c/local.cuh"
__global__ void c_kernel3(int* out) { out[0] = 3; }
void c_launch3(int* out) { c_kernel3<<<1, 32>>>(out); shared_check(); c_local(); }
