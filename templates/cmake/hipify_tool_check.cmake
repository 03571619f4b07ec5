# Build-time check, run by the translation rule of hipify_tool_sources() and hipify_tool_target_sources()
# right after `hipify-tool run`:
#   cmake -DHIPIFY_TOOL_PLAN=... -DHIPIFY_TOOL_EXPECTED=... -DHIPIFY_TOOL_STAMP=... -P hipify_tool_check.cmake
#
# A listed source's output name can change without CMake re-running (a C++ file that starts or stops
# needing translation: foo.cpp <-> foo_hip.cpp). The target would then compile the old name, so the
# build stops here instead. The run already rewrote the plan script, which is a configure dependency:
# the next build re-runs CMake and compiles the new name. New or renamed headers need no check: the
# run wrote them and the includers' new text names them; CMake declares them on that next build.
cmake_policy(VERSION 3.25)
foreach(var IN ITEMS HIPIFY_TOOL_PLAN HIPIFY_TOOL_EXPECTED HIPIFY_TOOL_STAMP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "hipify_tool_check.cmake: -D${var}=... is required")
  endif()
endforeach()
include("${HIPIFY_TOOL_EXPECTED}")
set(expected "${HIPIFY_TOOL_OUTPUTS}")
include("${HIPIFY_TOOL_PLAN}")
if(NOT expected STREQUAL HIPIFY_TOOL_OUTPUTS)
  set(changes "")
  foreach(output IN LISTS HIPIFY_TOOL_OUTPUTS)
    if(NOT output IN_LIST expected)
      string(APPEND changes "\n  now written: ${output}")
    endif()
  endforeach()
  foreach(output IN LISTS expected)
    if(NOT output IN_LIST HIPIFY_TOOL_OUTPUTS)
      string(APPEND changes "\n  no longer written: ${output}")
    endif()
  endforeach()
  file(REMOVE "${HIPIFY_TOOL_STAMP}")
  message(FATAL_ERROR "hipify-tool: the translated name of a listed source changed:${changes}\n"
                      "CMake re-runs at the next build, which then compiles the new file: build again.")
endif()
