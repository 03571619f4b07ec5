# hipify_sources(): translate CUDA sources to HIP at build time, with exact outputs and a depfile.
#
#   hipify_sources(<out_var>
#                  SOURCES <file>...            CUDA/C++ sources, in the order the target lists them
#                  PROJECT_DIR <dir>            root of the sources (every source must be under it)
#                  OUTPUT_DIR <dir>             output root (may be shared by several calls)
#                  [INCLUDE_DIRS <dir>...]      header search dirs (under PROJECT_DIR)
#                  [LAUNCH_SYNTAX ggl|chevron]  how kernel launches are written (default ggl)
#                  [QUIET])                     no summary line in the build log
#
# <out_var> receives one translated file per source, in source order (a C++ file that needs no
# translation comes back as its copy in the output root). Use it as the sources of a target in the
# same directory; the translation is attached to every such target when the directory ends.
#
# How it stays exact and incremental (docs/cmake.md has the details):
# * configure: `hipify-tool plan` names every output (headers included) -> BYPRODUCTS; the plan
#   script it writes is a CMAKE_CONFIGURE_DEPENDS, rewritten only when the set of outputs changes;
# * build: `hipify-tool run` writes outputs only when their bytes change, a depfile naming every file
#   it read, and touches a stamp (the custom command's OUTPUT, since unchanged outputs keep their
#   mtime); Ninja restats the byproducts, so only changed outputs recompile.
include_guard(GLOBAL)
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

# Remember where the package is (functions see the caller's CMAKE_CURRENT_LIST_DIR, and the
# caller may be in another directory than the find_package() call).
function(_hipify_tool_register cmake_dir root command)
  set_property(GLOBAL PROPERTY _hipify_tool_cmake_dir "${cmake_dir}")
  set_property(GLOBAL PROPERTY _hipify_tool_root "${root}")
  set_property(GLOBAL PROPERTY _hipify_tool_command "${command}")
endfunction()

function(_hipify_tool_absolute out_var base)
  set(result "")
  foreach(path IN LISTS ARGN)
    cmake_path(ABSOLUTE_PATH path BASE_DIRECTORY "${base}" NORMALIZE OUTPUT_VARIABLE path)
    string(REGEX REPLACE "(.)/$" "\\1" path "${path}")
    list(APPEND result "${path}")
  endforeach()
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# file(WRITE) only when the text differs, so what depends on the file does not re-run.
function(_hipify_tool_write_if_changed path text)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL text)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${text}")
endfunction()

function(hipify_sources out_var)
  set(keywords SOURCES PROJECT_DIR OUTPUT_DIR INCLUDE_DIRS LAUNCH_SYNTAX QUIET)
  if(out_var STREQUAL "" OR out_var IN_LIST keywords)
    message(FATAL_ERROR "hipify_sources(): the first argument must be the variable that receives the "
                        "translated sources, e.g. hipify_sources(HIP_SOURCES SOURCES ...)")
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 arg "QUIET" "PROJECT_DIR;OUTPUT_DIR;LAUNCH_SYNTAX" "SOURCES;INCLUDE_DIRS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hipify_sources(${out_var}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(keyword IN ITEMS PROJECT_DIR OUTPUT_DIR SOURCES)
    if(NOT arg_${keyword})
      message(FATAL_ERROR "hipify_sources(${out_var}): ${keyword} is required")
    endif()
  endforeach()
  if(NOT arg_LAUNCH_SYNTAX)
    set(arg_LAUNCH_SYNTAX ggl)
  elseif(NOT arg_LAUNCH_SYNTAX MATCHES "^(ggl|chevron)$")
    message(FATAL_ERROR "hipify_sources(${out_var}): LAUNCH_SYNTAX must be ggl or chevron, got '${arg_LAUNCH_SYNTAX}'")
  endif()
  get_property(command GLOBAL PROPERTY _hipify_tool_command)
  get_property(cmake_dir GLOBAL PROPERTY _hipify_tool_cmake_dir)
  get_property(root GLOBAL PROPERTY _hipify_tool_root)
  if(NOT command)
    message(FATAL_ERROR "hipify_sources(): call find_package(hipify_tool CONFIG REQUIRED) first")
  endif()

  _hipify_tool_absolute(project_dir "${CMAKE_CURRENT_SOURCE_DIR}" "${arg_PROJECT_DIR}")
  _hipify_tool_absolute(output_dir "${CMAKE_CURRENT_BINARY_DIR}" "${arg_OUTPUT_DIR}")
  _hipify_tool_absolute(include_dirs "${CMAKE_CURRENT_SOURCE_DIR}" ${arg_INCLUDE_DIRS})
  _hipify_tool_absolute(sources "${CMAKE_CURRENT_SOURCE_DIR}" ${arg_SOURCES})
  if(NOT IS_DIRECTORY "${project_dir}")
    message(FATAL_ERROR "hipify_sources(${out_var}): PROJECT_DIR ${project_dir} is not a directory")
  endif()
  foreach(dir IN LISTS include_dirs)
    if(NOT IS_DIRECTORY "${dir}")
      message(FATAL_ERROR "hipify_sources(${out_var}): INCLUDE_DIRS entry ${dir} is not a directory")
    endif()
  endforeach()
  set(seen "")
  foreach(source IN LISTS sources)
    if(IS_DIRECTORY "${source}" OR NOT EXISTS "${source}")
      message(FATAL_ERROR "hipify_sources(${out_var}): source ${source} does not exist")
    endif()
    if(source IN_LIST seen)
      message(FATAL_ERROR "hipify_sources(${out_var}): source ${source} is listed twice")
    endif()
    list(APPEND seen "${source}")
  endforeach()

  # One state dir per distinct call: sources list, plan script, depfile, stamp.
  string(SHA256 id "${project_dir}|${output_dir}|${include_dirs}|${arg_LAUNCH_SYNTAX}|${sources}")
  string(SUBSTRING "${id}" 0 16 id)
  get_property(done DIRECTORY PROPERTY _hipify_tool_outputs_${id} SET)
  if(done)  # the same call again in this directory: same outputs, one rule
    get_property(outputs DIRECTORY PROPERTY _hipify_tool_outputs_${id})
    set(${out_var} "${outputs}" PARENT_SCOPE)
    return()
  endif()
  set(state "${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/hipify_tool/${id}")
  set(sources_file "${state}/sources.txt")
  set(plan_file "${state}/plan.cmake")
  set(expected_file "${state}/configured.cmake")
  set(depfile "${state}/hipify.d")
  set(stamp "${state}/hipify.stamp")
  file(MAKE_DIRECTORY "${state}")
  list(JOIN sources "\n" text)
  _hipify_tool_write_if_changed("${sources_file}" "${text}\n")

  # --no-config: every option comes from this call, never from a [tool.hipify-tool] table that
  # happens to sit in the project (it could change the sources or the outputs behind CMake's back).
  set(options --no-config -p "${project_dir}" -o "${output_dir}" --launch-syntax "${arg_LAUNCH_SYNTAX}")
  foreach(dir IN LISTS include_dirs)
    list(APPEND options -I "${dir}")
  endforeach()
  list(APPEND options --sources-from "${sources_file}" --cmake-plan "${plan_file}")

  # Configure time: the exact outputs, from the tool itself (reads only; writes the plan script).
  execute_process(
    COMMAND ${command} plan ${options} -q
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "hipify_sources(${out_var}): hipify-tool plan failed (exit ${rc}):\n${err}")
  endif()
  unset(HIPIFY_TOOL_OUTPUTS)
  unset(HIPIFY_TOOL_ALL_OUTPUTS)
  include("${plan_file}")
  list(LENGTH sources n_sources)
  list(LENGTH HIPIFY_TOOL_OUTPUTS n_outputs)
  if(NOT n_sources EQUAL n_outputs)
    message(FATAL_ERROR "hipify_sources(${out_var}): hipify-tool planned ${n_outputs} outputs for ${n_sources} "
                        "sources (${plan_file}); please report this")
  endif()
  file(COPY_FILE "${plan_file}" "${expected_file}" ONLY_IF_DIFFERENT)
  # The build rewrites the plan script only when the set of outputs changes: then CMake re-runs.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${plan_file}" "${sources_file}")

  # An output shared with an earlier call (a common header in one output root) stays that call's
  # byproduct: one rule per file. Both runs write it, under the tool's lock, atomically.
  set(byproducts "")
  foreach(output IN LISTS HIPIFY_TOOL_ALL_OUTPUTS)
    get_property(owner GLOBAL PROPERTY "_hipify_tool_output:${output}")
    if(NOT owner)
      set_property(GLOBAL PROPERTY "_hipify_tool_output:${output}" "${stamp}")
      list(APPEND byproducts "${output}")
    endif()
  endforeach()

  set(verbosity -v)
  if(arg_QUIET)
    set(verbosity -q)
  endif()
  set(extra_depends "")
  if(EXISTS "${root}/hipify_tool/__init__.py")  # a new tool version may translate differently
    list(APPEND extra_depends "${root}/hipify_tool/__init__.py")
  endif()
  file(RELATIVE_PATH shown "${CMAKE_BINARY_DIR}" "${output_dir}")
  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS ${byproducts}
    COMMAND ${command} run ${options} --depfile "${depfile}" --stamp "${stamp}"
            --output-list "${state}/outputs.txt" ${verbosity}
    COMMAND "${CMAKE_COMMAND}" "-DHIPIFY_TOOL_PLAN=${plan_file}" "-DHIPIFY_TOOL_EXPECTED=${expected_file}"
            "-DHIPIFY_TOOL_STAMP=${stamp}" -P "${cmake_dir}/hipify_tool_check.cmake"
    DEPENDS ${sources} "${sources_file}" ${extra_depends}
    DEPFILE "${depfile}"
    COMMENT "Translating ${n_sources} CUDA sources to HIP in ${shown}"
    VERBATIM)
  set_source_files_properties("${stamp}" PROPERTIES HEADER_FILE_ONLY TRUE)

  set_property(DIRECTORY PROPERTY _hipify_tool_outputs_${id} "${HIPIFY_TOOL_OUTPUTS}")
  set_property(DIRECTORY PROPERTY _hipify_tool_stamp_${id} "${stamp}")
  set_property(DIRECTORY PROPERTY _hipify_tool_name_${id} "${out_var}")
  set_property(DIRECTORY APPEND PROPERTY _hipify_tool_calls "${id}")
  get_property(deferred DIRECTORY PROPERTY _hipify_tool_deferred)
  if(NOT deferred)
    set_property(DIRECTORY PROPERTY _hipify_tool_deferred TRUE)
    cmake_language(DEFER CALL _hipify_tool_attach)
  endif()
  set(${out_var} "${HIPIFY_TOOL_OUTPUTS}" PARENT_SCOPE)
endfunction()

# At the end of the directory: add each call's stamp to every target that compiles its outputs.
# A custom command runs only as part of a target that lists its OUTPUT (the stamp); the outputs
# themselves are byproducts, so that unchanged ones are not touched (Make has no restat).
function(_hipify_tool_attach)
  get_property(calls DIRECTORY PROPERTY _hipify_tool_calls)
  get_property(targets DIRECTORY PROPERTY BUILDSYSTEM_TARGETS)
  foreach(id IN LISTS calls)
    get_property(outputs DIRECTORY PROPERTY _hipify_tool_outputs_${id})
    foreach(output IN LISTS outputs)
      list(APPEND "owner:${output}" "${id}")
    endforeach()
  endforeach()
  set(used "")
  foreach(target IN LISTS targets)
    get_target_property(target_sources "${target}" SOURCES)
    if(NOT target_sources)
      continue()
    endif()
    set(wanted "")
    foreach(source IN LISTS target_sources)
      if(source MATCHES "\\$<")
        continue()
      endif()
      if(NOT IS_ABSOLUTE "${source}")
        cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE)
      endif()
      set(key "owner:${source}")
      if(DEFINED "${key}")
        list(APPEND wanted ${${key}})
      endif()
    endforeach()
    list(REMOVE_DUPLICATES wanted)
    foreach(id IN LISTS wanted)
      get_property(stamp DIRECTORY PROPERTY _hipify_tool_stamp_${id})
      target_sources("${target}" PRIVATE "${stamp}")
      list(APPEND used "${id}")
    endforeach()
  endforeach()
  foreach(id IN LISTS calls)
    if(NOT id IN_LIST used)
      get_property(name DIRECTORY PROPERTY _hipify_tool_name_${id})
      message(AUTHOR_WARNING "hipify_sources(${name}): no target in ${CMAKE_CURRENT_SOURCE_DIR} lists the "
                             "translated sources, so they are never generated. Add them to a target in this "
                             "directory (add_library/add_executable/target_sources).")
    endif()
  endforeach()
endfunction()

cmake_policy(POP)
