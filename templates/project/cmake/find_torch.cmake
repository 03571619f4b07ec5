# The torch a PyTorch extension builds against: the torch package of the Python that runs the build
# (scikit-build-core passes it as Python_EXECUTABLE), found without importing torch and without
# TorchConfig.cmake, so a CPU-only torch wheel serves too and no CUDA or ROCm torch library is needed.
# (hipify-tool's reference project, csrc_example/, includes this very file.)
#
#   find_package(Python COMPONENTS Interpreter REQUIRED)
#   find_torch(<prefix> [HEADER <file under torch's include/>] [LIBRARIES <name>...])
#
# Sets <prefix>_TORCH_DIR (the torch package directory: headers in <dir>/include, libraries in <dir>/lib)
# and <prefix>_TORCH_LIBRARIES (the full paths of LIBRARIES, e.g. torch_cpu c10). Stops the configure,
# saying what to do, when that Python has no torch or its torch lacks HEADER.
function(find_torch prefix)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "HEADER" "LIBRARIES")
  if(NOT Python_EXECUTABLE)
    message(FATAL_ERROR "find_torch(${prefix}): call find_package(Python COMPONENTS Interpreter) first")
  endif()
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c
            "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0])"
    OUTPUT_VARIABLE dir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  set(wanted "torch")
  if(arg_HEADER)
    set(wanted "torch with ${arg_HEADER}")
  endif()
  if(NOT rc EQUAL 0 OR NOT IS_DIRECTORY "${dir}/include" OR (arg_HEADER AND NOT EXISTS "${dir}/include/${arg_HEADER}"))
    message(FATAL_ERROR "${prefix}: ${wanted} not found for ${Python_EXECUTABLE}; install torch first and "
                        "build without build isolation (pip install --no-build-isolation .)")
  endif()
  set(libraries "")
  foreach(name IN LISTS arg_LIBRARIES)
    find_library(${prefix}_TORCH_LIBRARY_${name} ${name} PATHS "${dir}/lib" NO_DEFAULT_PATH REQUIRED)
    list(APPEND libraries "${${prefix}_TORCH_LIBRARY_${name}}")
  endforeach()
  message(STATUS "${prefix}: torch ${dir}")
  set(${prefix}_TORCH_DIR "${dir}" PARENT_SCOPE)
  set(${prefix}_TORCH_LIBRARIES "${libraries}" PARENT_SCOPE)
endfunction()
