# find_package(hipify_tool CONFIG) entry point.
#
# Finds the Python interpreter that runs the hipify-tool next to this file, then includes
# HipifyTool.cmake, which defines hipify_tool_sources() (alias hipify_sources()) and
# hipify_tool_target_sources(), and their keyword table (hipify_toolKeywords.cmake: written when the
# wheel was built; in a source checkout, printed by the probe from the tool's option model). Sets:
#   hipify_tool_VERSION                the package version
#   hipify_tool_PYTHON_EXECUTABLE      (cache) the interpreter; set it to choose one
#   hipify_tool_PYTHON_VERSION         that interpreter's version
#   hipify_tool_COMMAND                the command line that runs the tool (a list)
#   hipify_tool_BUILT_WITH_PYTHON(_VERSION)  installed package only: the interpreter that built the wheel
#
# Interpreters tried, first that can run the tool wins: hipify_tool_PYTHON_EXECUTABLE if set (and
# only it); else Python_EXECUTABLE, Python3_EXECUTABLE, PYTHON_EXECUTABLE (scikit-build-core sets
# them to the interpreter running the build); the interpreter that built the wheel; the one that
# owns the site-packages this package is installed in; python3 on PATH.
if(CMAKE_VERSION VERSION_LESS 3.25)
  set(hipify_tool_FOUND FALSE)
  set(hipify_tool_NOT_FOUND_MESSAGE "hipify_tool needs CMake 3.25 or newer (this is ${CMAKE_VERSION})")
  return()
endif()
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

include("${CMAKE_CURRENT_LIST_DIR}/hipify_toolVersionInfo.cmake")
set(hipify_tool_VERSION "${_hipify_tool_PACKAGE_VERSION}")
get_filename_component(_hipify_tool_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(_hipify_tool_launcher "${CMAKE_CURRENT_LIST_DIR}/hipify_tool_launch.py")

set(hipify_tool_PYTHON_EXECUTABLE "" CACHE FILEPATH "Python interpreter that runs hipify-tool (empty: find one)")
set(_hipify_tool_candidates "")
if(hipify_tool_PYTHON_EXECUTABLE)
  list(APPEND _hipify_tool_candidates "${hipify_tool_PYTHON_EXECUTABLE}")
else()
  foreach(_hipify_tool_var IN ITEMS Python_EXECUTABLE Python3_EXECUTABLE PYTHON_EXECUTABLE
                                    hipify_tool_BUILT_WITH_PYTHON)
    if(${_hipify_tool_var})
      list(APPEND _hipify_tool_candidates "${${_hipify_tool_var}}")
    endif()
  endforeach()
  # <prefix>/lib/pythonX.Y/site-packages/hipify_tool/cmake: the interpreter it was installed for.
  if(_hipify_tool_root MATCHES "^(.*)/lib/python([0-9]+\\.[0-9]+)/(site|dist)-packages$")
    list(APPEND _hipify_tool_candidates "${CMAKE_MATCH_1}/bin/python${CMAKE_MATCH_2}" "${CMAKE_MATCH_1}/bin/python3")
  endif()
  find_program(_hipify_tool_path_python NAMES python3 python NO_CACHE)
  if(_hipify_tool_path_python)
    list(APPEND _hipify_tool_candidates "${_hipify_tool_path_python}")
  endif()
  list(REMOVE_DUPLICATES _hipify_tool_candidates)
endif()

set(_hipify_tool_tried "")
set(hipify_tool_PYTHON_VERSION "")
foreach(_hipify_tool_python IN LISTS _hipify_tool_candidates)
  if(NOT EXISTS "${_hipify_tool_python}")
    string(APPEND _hipify_tool_tried "\n  ${_hipify_tool_python}: does not exist")
    continue()
  endif()
  execute_process(
    COMMAND "${_hipify_tool_python}" "${_hipify_tool_launcher}" --probe
    RESULT_VARIABLE _hipify_tool_rc OUTPUT_VARIABLE _hipify_tool_out ERROR_VARIABLE _hipify_tool_err
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE)
  if(_hipify_tool_rc EQUAL 0 AND _hipify_tool_out MATCHES "^([^;\n]+);([^;\n]+);")
    if(NOT CMAKE_MATCH_1 STREQUAL hipify_tool_VERSION)
      string(APPEND _hipify_tool_tried
             "\n  ${_hipify_tool_python}: runs hipify-tool ${CMAKE_MATCH_1}, not ${hipify_tool_VERSION}")
      continue()
    endif()
    set(hipify_tool_PYTHON_VERSION "${CMAKE_MATCH_2}")
    set(hipify_tool_PYTHON_EXECUTABLE "${_hipify_tool_python}" CACHE FILEPATH
        "Python interpreter that runs hipify-tool (empty: find one)" FORCE)
    break()
  endif()
  string(REGEX REPLACE ".*\n" "" _hipify_tool_err "${_hipify_tool_err}")  # the last line says why
  string(APPEND _hipify_tool_tried "\n  ${_hipify_tool_python}: ${_hipify_tool_err}")
endforeach()

if(hipify_tool_PYTHON_VERSION)
  set(hipify_tool_COMMAND "${hipify_tool_PYTHON_EXECUTABLE}" "${_hipify_tool_launcher}")
  if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/hipify_toolKeywords.cmake")
    include("${CMAKE_CURRENT_LIST_DIR}/hipify_toolKeywords.cmake")
  else()  # a source checkout: the table the probe printed after its first line
    string(FIND "${_hipify_tool_out}" "\n" _hipify_tool_eol)
    math(EXPR _hipify_tool_eol "${_hipify_tool_eol} + 1")
    string(SUBSTRING "${_hipify_tool_out}" ${_hipify_tool_eol} -1 _hipify_tool_table)
    set(_hipify_tool_keywords "${CMAKE_BINARY_DIR}/CMakeFiles/hipify_tool/hipify_toolKeywords.cmake")
    file(CONFIGURE OUTPUT "${_hipify_tool_keywords}" CONTENT "${_hipify_tool_table}\n" @ONLY)
    include("${_hipify_tool_keywords}")
  endif()
  include("${CMAKE_CURRENT_LIST_DIR}/HipifyTool.cmake")
  _hipify_tool_register("${CMAKE_CURRENT_LIST_DIR}" "${_hipify_tool_root}" "${hipify_tool_COMMAND}")
  if(NOT hipify_tool_FIND_QUIETLY)
    message(STATUS "Found hipify_tool ${hipify_tool_VERSION}: ${CMAKE_CURRENT_LIST_DIR} "
                   "(Python ${hipify_tool_PYTHON_VERSION}: ${hipify_tool_PYTHON_EXECUTABLE})")
  endif()
else()
  set(hipify_tool_FOUND FALSE)
  if(NOT _hipify_tool_candidates)
    set(_hipify_tool_tried "\n  (no interpreter found)")
  endif()
  string(CONCAT hipify_tool_NOT_FOUND_MESSAGE
         "no Python interpreter here can run hipify-tool ${hipify_tool_VERSION} from ${_hipify_tool_root} "
         "(it needs click, pathspec and torch installed). Tried:${_hipify_tool_tried}\n"
         "Set hipify_tool_PYTHON_EXECUTABLE (or Python_EXECUTABLE) to the interpreter hipify-tool is installed in.")
endif()

foreach(_hipify_tool_var IN ITEMS candidates tried python rc out err var launcher path_python root
                                  PACKAGE_VERSION eol table keywords)
  unset(_hipify_tool_${_hipify_tool_var})
endforeach()
cmake_policy(POP)
