// Current-stream lookup that works from one binary across torch versions and vendors.
//
// torch >= 2.13 exposes `torch_stream_native_handle` (stable, in libtorch_cpu) for the generic
// accelerator stream. Older torch (2.11, 2.12) only has `aoti_torch_get_current_cuda_stream`,
// which lives in the GPU library (libtorch_cuda / libtorch_hip) and so cannot be linked against
// the CPU wheel. Both are looked up at run time in the already-loaded torch libraries; the
// binary links only libtorch_cpu and loads into a CPU-only torch (the op then has no kernel to
// run, but its schema registers).
#include "current_stream.h"

#include <dlfcn.h>

#include <torch/csrc/stable/c/shim.h>
#include <torch/headeronly/util/Exception.h>

namespace ptgq {
namespace {

void* find_torch_symbol(const char* name) {
  if (void* sym = dlsym(RTLD_DEFAULT, name)) return sym;
  static const char* const kLibraries[] = {"libtorch_cpu.so", "libtorch_cuda.so",
                                           "libtorch_hip.so", "libtorch.so"};
  for (const char* lib : kLibraries) {
    void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);  // only libraries already loaded
    if (handle == nullptr) continue;
    void* sym = dlsym(handle, name);
    dlclose(handle);
    if (sym != nullptr) return sym;
  }
  return nullptr;
}

using NativeHandleFn = AOTITorchError (*)(StreamHandle, void**);
using LegacyStreamFn = AOTITorchError (*)(int32_t, void**);

}  // namespace

void* current_stream(int32_t device) {
  static const auto native = reinterpret_cast<NativeHandleFn>(
      find_torch_symbol("torch_stream_native_handle"));
  static const auto legacy = reinterpret_cast<LegacyStreamFn>(
      find_torch_symbol("aoti_torch_get_current_cuda_stream"));
  void* result = nullptr;
  if (native != nullptr) {
    StreamHandle handle = nullptr;
    STD_TORCH_CHECK(aoti_torch_get_current_stream(device, &handle) == AOTI_TORCH_SUCCESS,
                    "ptg_quant: could not get the current stream");
    const AOTITorchError err = native(handle, &result);
    aoti_torch_delete_stream(handle);
    STD_TORCH_CHECK(err == AOTI_TORCH_SUCCESS, "ptg_quant: could not get the native stream");
    return result;
  }
  STD_TORCH_CHECK(legacy != nullptr,
                  "ptg_quant: this torch exposes no current-stream entry point for GPUs");
  STD_TORCH_CHECK(legacy(device, &result) == AOTI_TORCH_SUCCESS,
                  "ptg_quant: could not get the current GPU stream");
  return result;
}

}  // namespace ptgq
