#include "shared/common.cuh"
#include "a/local.cuh"
__global__ void a_kernel3(int* out) { out[0] = 3; }
void a_launch3(int* out) { a_kernel3<<<1, 32>>>(out); shared_check(); a_local(); }
