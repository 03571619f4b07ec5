#include "common/math.h"

__global__ void accum_kernel(int* out) { out[0] += twice(3); }

void accum(int* out) { accum_kernel<<<1, 64>>>(out); }
