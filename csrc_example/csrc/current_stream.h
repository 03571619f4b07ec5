// The caller's current GPU stream for a device, through the stable ABI only.
#pragma once

#include <cstdint>

namespace ptgq {

// Native stream handle (cudaStream_t / hipStream_t) of torch's current stream on `device`.
void* current_stream(int32_t device);

}  // namespace ptgq
