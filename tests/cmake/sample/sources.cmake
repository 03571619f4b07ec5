set(CUDA_SOURCES
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/fooCUDA.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/cuda/x.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/accum_kernels.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/nccl_utils.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/dir with space/a b.cu"
  "${CMAKE_CURRENT_SOURCE_DIR}/csrc/host.cpp")
