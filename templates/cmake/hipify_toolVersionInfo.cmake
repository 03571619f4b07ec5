# Sets _hipify_tool_PACKAGE_VERSION (and, in an installed package, what the wheel was built with).
# Shared by hipify_toolConfigVersion.cmake and hipify_toolConfig.cmake.
#
# An installed package has hipify_toolInstallInfo.cmake, written when the wheel was built. A source
# checkout (templates/cmake) has not; there the version is read from hipify_tool/_version.py.
unset(_hipify_tool_PACKAGE_VERSION)
include("${CMAKE_CURRENT_LIST_DIR}/hipify_toolInstallInfo.cmake" OPTIONAL RESULT_VARIABLE _hipify_tool_info)
if(NOT _hipify_tool_info)
  get_filename_component(_hipify_tool_init "${CMAKE_CURRENT_LIST_DIR}/../../hipify_tool/_version.py" ABSOLUTE)
  if(EXISTS "${_hipify_tool_init}")
    file(STRINGS "${_hipify_tool_init}" _hipify_tool_line REGEX "^__version__ *= *[\"'][^\"']+[\"']" LIMIT_COUNT 1)
    string(REGEX REPLACE "^__version__ *= *[\"']([^\"']+)[\"'].*" "\\1" _hipify_tool_PACKAGE_VERSION
           "${_hipify_tool_line}")
  endif()
  unset(_hipify_tool_init)
  unset(_hipify_tool_line)
endif()
unset(_hipify_tool_info)
