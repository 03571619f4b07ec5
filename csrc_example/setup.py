"""ptg_quant through setuptools, beside the CMake build that ``pip install ./csrc_example`` uses.

    python setup.py build_ext --inplace     # or: python setup.py bdist_wheel

The build as most PyTorch extensions write it (torch.utils.cpp_extension), with hipify-tool's
drop-in: on CUDA, torch's own CUDAExtension (nvcc; TORCH_CUDA_ARCH_LIST picks the archs); on ROCm,
the same sources translated by hipify-tool when build_ext runs, into build/ (never into csrc/), then
compiled by hipcc for PYTORCH_ROCM_ARCH. The translated tree is the one the CMake path's
hipify_sources() produces (tests/reference/test_rocm_cmake.py checks). Metadata comes from
pyproject.toml's [project] table; its build backend (scikit-build-core) is not involved here.
"""

import os

from setuptools import setup

from hipify_tool.setuptools import BuildExtension, CUDAExtension

# What the CMake build compiles (PTGQ_GPU_SOURCES, PTGQ_HOST_SOURCES), in the same order.
GPU_SOURCES = ["csrc/per_token_group_quant.cu", "csrc/per_token_group_quant_packed.cu"]
HOST_SOURCES = ["csrc/torch_bindings.cpp", "csrc/current_stream.cpp"]

# The oldest torch the binary must load into (stable ABI): TORCH_TARGET_VERSION is 0xMMmm000000000000.
major, minor = os.environ.get("PTGQ_TORCH_TARGET_VERSION", "2.11").split(".")[:2]
TORCH_TARGET = f"0x{int(major):02x}{int(minor):02x}000000000000"

setup(
    package_dir={"": "python"},
    packages=["ptg_quant"],
    package_data={"ptg_quant": ["py.typed"]},
    ext_modules=[
        CUDAExtension(
            "ptg_quant._C",
            GPU_SOURCES + HOST_SOURCES,
            include_dirs=["csrc"],
            define_macros=[("TORCH_TARGET_VERSION", TORCH_TARGET)],
            extra_compile_args={"cxx": ["-O3", "-std=c++17", "-fvisibility=hidden"], "nvcc": ["-O3", "-std=c++17"]},
            py_limited_api=True,  # torch only through its stable C ABI: no libtorch_python
        )
    ],
    cmdclass={"build_ext": BuildExtension},
)
