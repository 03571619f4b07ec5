#include "common/helpers.cuh"

void spaced(void* p) { cudaFree(p); check_last(); }
