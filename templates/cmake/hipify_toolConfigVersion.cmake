# Version check for find_package(hipify_tool <version>) from a source checkout. A built package has the
# file write_basic_package_version_file(... COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT) wrote; this
# one runs the same CMake template (compatible within a minor version), configured at find time with
# the version of hipify_tool/_version.py.
include("${CMAKE_CURRENT_LIST_DIR}/hipify_toolVersionInfo.cmake")
if(NOT _hipify_tool_PACKAGE_VERSION)
  set(PACKAGE_VERSION "0")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
  return()
endif()
set(CVF_VERSION "${_hipify_tool_PACKAGE_VERSION}")
set(CVF_ARCH_INDEPENDENT TRUE)
file(READ "${CMAKE_ROOT}/Modules/BasicConfigVersion-SameMinorVersion.cmake.in" _hipify_tool_template)
string(CONFIGURE "${_hipify_tool_template}" _hipify_tool_template @ONLY)
cmake_language(EVAL CODE "${_hipify_tool_template}")
