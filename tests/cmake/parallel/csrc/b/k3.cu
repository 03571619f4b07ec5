#include "shared/common.cuh"
#include "b/local.cuh"
__global__ void b_kernel3(int* out) { out[0] = 3; }
void b_launch3(int* out) { b_kernel3<<<1, 32>>>(out); shared_check(); b_local(); }
