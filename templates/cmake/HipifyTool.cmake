# hipify_sources() and hipify_tool_target_sources(): translate CUDA sources to HIP at build time,
# with exact outputs and a depfile.
#
#   hipify_sources(<out_var>
#                  SOURCES <file>...            CUDA/C++ sources, in the order the target lists them
#                  PROJECT_DIR <dir>            root of the sources (every source must be under it)
#                  OUTPUT_DIR <dir>             output root (may be shared by several calls)
#                  [INCLUDE_DIRS <dir>...]      header search dirs
#                  [LAUNCH_SYNTAX ggl|chevron]  how kernel launches are written (default ggl)
#                  [ROCM_PATH <dir>]            ROCm whose headers reports check names against (--rocm-path)
#                  [TARGET <name>]              name of the custom target that translates
#                  [QUIET])                     no summary line in the build log
#
#   hipify_tool_target_sources(<target> [PRIVATE|PUBLIC|INTERFACE]
#                  SOURCES ... PROJECT_DIR ... OUTPUT_DIR ... [INCLUDE_DIRS ...] [LAUNCH_SYNTAX ...]
#                  [ROCM_PATH ...]
#                  [LANGUAGE <lang>]            language of the .hip outputs (default HIP)
#                  [QUIET])
#
# hipify_sources() sets <out_var> to one translated file per source, in source order (a C++ file
# that needs no translation comes back as its copy in the output root). A custom target owns the
# translation rule: targets in the same directory that list the files (as sources or DEPENDS) get
# it by themselves; a target in another directory needs add_dependencies(<t> <TARGET name>), which
# the end of the configure also adds for any target that lists them. hipify_tool_target_sources()
# does it all for one target, as target_sources() would: sources, include dir, dependency, LANGUAGE.
#
# How it stays exact and incremental (docs/cmake.md has the details):
# * configure: `hipify-tool plan` names every output (headers included) -> BYPRODUCTS; the plan
#   script it writes is a CMAKE_CONFIGURE_DEPENDS, rewritten only when the set of outputs changes;
# * build: `hipify-tool run` writes outputs only when their bytes change, a depfile naming every file
#   it read, and touches a stamp (the custom command's OUTPUT, since unchanged outputs keep their
#   mtime). Ninja: the outputs are the command's byproducts, restatted, so only changed outputs
#   recompile. Other generators: they are byproducts of the owning target's no-op command (the
#   shell's `true`, run on every build), which is what lets CMake order the targets of its directory
#   that use them after the translation; Make never touches byproducts, so mtimes stay.
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

# Checks shared by both public functions, on what cmake_parse_arguments() left in arg_* (a macro:
# it sets arg_LAUNCH_SYNTAX's default in the caller). `label` names the caller in messages.
macro(_hipify_tool_check_arguments label)
  foreach(_hipify_tool_kw IN LISTS arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "${label}: ${_hipify_tool_kw} is given no value (an empty variable?)")
  endforeach()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${label}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(_hipify_tool_kw IN ITEMS SOURCES PROJECT_DIR OUTPUT_DIR)
    if(NOT DEFINED arg_${_hipify_tool_kw} OR "${arg_${_hipify_tool_kw}}" STREQUAL "")
      message(FATAL_ERROR "${label}: ${_hipify_tool_kw} is required")
    endif()
  endforeach()
  # The outputs must be known at configure time, before generator expressions have a value.
  foreach(_hipify_tool_kw IN ITEMS SOURCES PROJECT_DIR OUTPUT_DIR INCLUDE_DIRS)
    foreach(_hipify_tool_item IN LISTS arg_${_hipify_tool_kw})
      if(_hipify_tool_item MATCHES "\\$<")
        message(FATAL_ERROR "${label}: generator expressions are not supported in ${_hipify_tool_kw}: "
                            "${_hipify_tool_item} (the outputs are planned at configure time; use a plain path)")
      endif()
    endforeach()
  endforeach()
  if(NOT DEFINED arg_LAUNCH_SYNTAX)
    set(arg_LAUNCH_SYNTAX ggl)
  elseif(NOT arg_LAUNCH_SYNTAX MATCHES "^(ggl|chevron)$")
    message(FATAL_ERROR "${label}: LAUNCH_SYNTAX must be ggl or chevron, got '${arg_LAUNCH_SYNTAX}'")
  endif()
endmacro()

# The translation, shared by both public functions; reads the caller's arg_* variables. Sets
# <outputs_var> (one output per source) and <owner_var> (the custom target that translates: named
# <owner_name> when given, else an internal name built from <name_hint>).
function(_hipify_tool_translate label outputs_var owner_var name_hint owner_name)
  get_property(command GLOBAL PROPERTY _hipify_tool_command)
  get_property(cmake_dir GLOBAL PROPERTY _hipify_tool_cmake_dir)
  get_property(root GLOBAL PROPERTY _hipify_tool_root)
  if(NOT command)
    message(FATAL_ERROR "${label}: call find_package(hipify_tool CONFIG REQUIRED) first")
  endif()

  _hipify_tool_absolute(project_dir "${CMAKE_CURRENT_SOURCE_DIR}" "${arg_PROJECT_DIR}")
  _hipify_tool_absolute(output_dir "${CMAKE_CURRENT_BINARY_DIR}" "${arg_OUTPUT_DIR}")
  _hipify_tool_absolute(include_dirs "${CMAKE_CURRENT_SOURCE_DIR}" ${arg_INCLUDE_DIRS})
  _hipify_tool_absolute(sources "${CMAKE_CURRENT_SOURCE_DIR}" ${arg_SOURCES})
  if(NOT IS_DIRECTORY "${project_dir}")
    message(FATAL_ERROR "${label}: PROJECT_DIR ${project_dir} is not a directory")
  endif()
  foreach(dir IN LISTS include_dirs)
    if(NOT IS_DIRECTORY "${dir}")
      message(FATAL_ERROR "${label}: INCLUDE_DIRS entry ${dir} is not a directory")
    endif()
  endforeach()
  set(seen "")
  foreach(source IN LISTS sources)
    if(IS_DIRECTORY "${source}" OR NOT EXISTS "${source}")
      message(FATAL_ERROR "${label}: source ${source} does not exist")
    endif()
    if(source IN_LIST seen)
      message(FATAL_ERROR "${label}: source ${source} is listed twice")
    endif()
    list(APPEND seen "${source}")
  endforeach()

  # One state dir per distinct call: sources list, plan script, depfile, stamp.
  string(SHA256 id "${project_dir}|${output_dir}|${include_dirs}|${arg_LAUNCH_SYNTAX}|${sources}")
  string(SUBSTRING "${id}" 0 16 id)
  get_property(done DIRECTORY PROPERTY _hipify_tool_owner_${id} SET)
  if(done)  # the same translation again in this directory: same outputs, one rule, one target
    get_property(owner DIRECTORY PROPERTY _hipify_tool_owner_${id})
    if(owner_name AND NOT owner_name STREQUAL owner)
      message(FATAL_ERROR "${label}: these sources are already translated in this directory by target "
                          "${owner}; give TARGET ${owner_name} to the first call, or use ${owner}")
    endif()
    get_target_property(outputs "${owner}" _hipify_tool_outputs)
    set(${outputs_var} "${outputs}" PARENT_SCOPE)
    set(${owner_var} "${owner}" PARENT_SCOPE)
    return()
  endif()
  if(owner_name)
    if(TARGET "${owner_name}")
      message(FATAL_ERROR "${label}: TARGET ${owner_name}: a target of that name already exists; choose another")
    endif()
    set(owner "${owner_name}")
  else()
    string(SHA256 unique "${CMAKE_CURRENT_BINARY_DIR}|${id}")
    string(SUBSTRING "${unique}" 0 8 unique)
    string(MAKE_C_IDENTIFIER "${name_hint}" hint)
    set(owner "hipify_tool_${hint}_${unique}")
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
  if(DEFINED arg_ROCM_PATH)
    _hipify_tool_absolute(rocm_path "${CMAKE_CURRENT_SOURCE_DIR}" "${arg_ROCM_PATH}")
    list(APPEND options --rocm-path "${rocm_path}")
  endif()
  list(APPEND options --sources-from "${sources_file}" --cmake-plan "${plan_file}")

  # Configure time: the exact outputs, from the tool itself (reads only; writes the plan script).
  execute_process(
    COMMAND ${command} plan ${options} -q
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${label}: hipify-tool plan failed (exit ${rc}):\n${err}")
  endif()
  unset(HIPIFY_TOOL_OUTPUTS)
  unset(HIPIFY_TOOL_ALL_OUTPUTS)
  include("${plan_file}")
  list(LENGTH sources n_sources)
  list(LENGTH HIPIFY_TOOL_OUTPUTS n_outputs)
  if(NOT n_sources EQUAL n_outputs)
    message(FATAL_ERROR "${label}: hipify-tool planned ${n_outputs} outputs for ${n_sources} "
                        "sources (${plan_file}); please report this")
  endif()
  file(COPY_FILE "${plan_file}" "${expected_file}" ONLY_IF_DIFFERENT)
  # The build rewrites the plan script only when the set of outputs changes: then CMake re-runs.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${plan_file}" "${sources_file}")

  # An output shared with an earlier call (a common header in one output root) stays that call's
  # byproduct: one rule per file. Both runs write it, under the tool's lock, atomically.
  set(byproducts "")
  foreach(output IN LISTS HIPIFY_TOOL_ALL_OUTPUTS)
    get_property(taken GLOBAL PROPERTY "_hipify_tool_output:${output}")
    if(NOT taken)
      set_property(GLOBAL PROPERTY "_hipify_tool_output:${output}" "${owner}")
      list(APPEND byproducts "${output}")
    endif()
  endforeach()

  set(verbosity -v)
  if(arg_QUIET)
    set(verbosity -q)
  endif()
  set(extra_depends "")
  if(EXISTS "${root}/hipify_tool/_version.py")  # a new tool version may translate differently
    list(APPEND extra_depends "${root}/hipify_tool/_version.py")
  endif()
  # Ninja: the outputs are byproducts of the translation itself (Ninja restats them, and any target
  # in any directory that reads one finds the rule). Other generators: byproducts of the owning
  # target's no-op command, so that CMake orders every same-directory target that lists or DEPENDS
  # on one after that target (Make cannot see a custom command's byproducts from another target).
  set(command_byproducts "")
  if(CMAKE_GENERATOR MATCHES "Ninja")
    set(command_byproducts BYPRODUCTS ${byproducts})
  endif()
  file(RELATIVE_PATH shown "${CMAKE_BINARY_DIR}" "${output_dir}")
  set(noun sources)
  if(n_sources EQUAL 1)
    set(noun source)
  endif()
  add_custom_command(
    OUTPUT "${stamp}"
    ${command_byproducts}
    COMMAND ${command} run ${options} --depfile "${depfile}" --stamp "${stamp}"
            --output-list "${state}/outputs.txt" ${verbosity}
    COMMAND "${CMAKE_COMMAND}" "-DHIPIFY_TOOL_PLAN=${plan_file}" "-DHIPIFY_TOOL_EXPECTED=${expected_file}"
            "-DHIPIFY_TOOL_STAMP=${stamp}" -P "${cmake_dir}/hipify_tool_check.cmake"
    DEPENDS ${sources} "${sources_file}" ${extra_depends}
    DEPFILE "${depfile}"
    COMMENT "Translating ${n_sources} CUDA ${noun} to HIP in ${shown}"
    VERBATIM)
  if(CMAKE_GENERATOR MATCHES "Ninja" OR NOT byproducts)
    add_custom_target("${owner}" DEPENDS "${stamp}")
  else()
    set(no_op "${CMAKE_COMMAND}" -E true)
    if(CMAKE_HOST_UNIX AND CMAKE_GENERATOR MATCHES "Makefiles")
      set(no_op true)  # the shell's builtin: no process to start
    endif()
    add_custom_target("${owner}" COMMAND ${no_op} BYPRODUCTS ${byproducts} DEPENDS "${stamp}" VERBATIM)
  endif()
  set_target_properties("${owner}" PROPERTIES
    _hipify_tool_outputs "${HIPIFY_TOOL_OUTPUTS}"
    _hipify_tool_all_outputs "${HIPIFY_TOOL_ALL_OUTPUTS}"
    _hipify_tool_label "${label}"
    _hipify_tool_named "${owner_name}")
  set_property(DIRECTORY PROPERTY _hipify_tool_owner_${id} "${owner}")
  set_property(GLOBAL APPEND PROPERTY _hipify_tool_owners "${owner}")
  get_property(deferred GLOBAL PROPERTY _hipify_tool_finish_deferred)
  if(NOT deferred)
    set_property(GLOBAL PROPERTY _hipify_tool_finish_deferred TRUE)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _hipify_tool_finish)
  endif()
  set(${outputs_var} "${HIPIFY_TOOL_OUTPUTS}" PARENT_SCOPE)
  set(${owner_var} "${owner}" PARENT_SCOPE)
endfunction()

function(hipify_sources out_var)
  set(keywords SOURCES PROJECT_DIR OUTPUT_DIR INCLUDE_DIRS LAUNCH_SYNTAX ROCM_PATH TARGET QUIET)
  if(out_var STREQUAL "" OR out_var IN_LIST keywords)
    message(FATAL_ERROR "hipify_sources(): the first argument must be the variable that receives the "
                        "translated sources, e.g. hipify_sources(HIP_SOURCES SOURCES ...)")
  endif()
  set(label "hipify_sources(${out_var})")
  cmake_parse_arguments(PARSE_ARGV 1 arg "QUIET" "PROJECT_DIR;OUTPUT_DIR;LAUNCH_SYNTAX;ROCM_PATH;TARGET"
                        "SOURCES;INCLUDE_DIRS")
  _hipify_tool_check_arguments("${label}")
  set(name "")
  if(DEFINED arg_TARGET)
    set(name "${arg_TARGET}")
    if(NOT name MATCHES "^[A-Za-z0-9_.+-]+$")
      message(FATAL_ERROR "${label}: TARGET '${name}' is not a valid target name")
    endif()
  endif()
  _hipify_tool_translate("${label}" outputs owner "${out_var}" "${name}")
  set(${out_var} "${outputs}" PARENT_SCOPE)
endfunction()

function(hipify_tool_target_sources target)
  set(label "hipify_tool_target_sources(${target})")
  if(NOT TARGET "${target}")
    message(FATAL_ERROR "${label}: ${target} is not a target; define it first (it may be in any directory)")
  endif()
  get_target_property(aliased "${target}" ALIASED_TARGET)
  if(aliased)
    set(target "${aliased}")
  endif()
  get_target_property(imported "${target}" IMPORTED)
  if(imported)
    message(FATAL_ERROR "${label}: ${target} is an imported target; its sources cannot be added here")
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 arg "QUIET;PRIVATE;PUBLIC;INTERFACE"
                        "PROJECT_DIR;OUTPUT_DIR;LAUNCH_SYNTAX;ROCM_PATH;LANGUAGE" "SOURCES;INCLUDE_DIRS")
  _hipify_tool_check_arguments("${label}")
  set(scope "")
  foreach(keyword IN ITEMS PRIVATE PUBLIC INTERFACE)
    if(arg_${keyword})
      list(APPEND scope ${keyword})
    endif()
  endforeach()
  list(LENGTH scope n_scopes)
  if(n_scopes GREATER 1)
    message(FATAL_ERROR "${label}: give one of PRIVATE, PUBLIC or INTERFACE, not ${scope}")
  elseif(n_scopes EQUAL 0)
    set(scope PRIVATE)
  endif()
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(DEFINED arg_LANGUAGE)
    set(language "${arg_LANGUAGE}")
    if(NOT language IN_LIST languages)
      message(FATAL_ERROR "${label}: LANGUAGE ${language} is not enabled: call enable_language(${language}) "
                          "before this call")
    endif()
  else()
    set(language HIP)
  endif()

  _hipify_tool_translate("${label}" outputs owner "${target}" "")
  set(hip_outputs "${outputs}")
  list(FILTER hip_outputs INCLUDE REGEX "\\.hip$")
  if(hip_outputs AND NOT DEFINED arg_LANGUAGE AND NOT HIP IN_LIST languages)
    message(FATAL_ERROR "${label}: HIP is not enabled, so the translated .hip sources would not be "
                        "compiled: call enable_language(HIP) before this call (CMake >= 3.21 with ROCm), "
                        "or give LANGUAGE <lang> to compile them as another enabled language")
  endif()

  _hipify_tool_absolute(output_dir "${CMAKE_CURRENT_BINARY_DIR}" "${arg_OUTPUT_DIR}")
  # The properties live in the target's directory, which may not be this one.
  set_source_files_properties(${outputs} TARGET_DIRECTORY "${target}" PROPERTIES GENERATED TRUE)
  if(hip_outputs)
    set_source_files_properties(${hip_outputs} TARGET_DIRECTORY "${target}" PROPERTIES LANGUAGE "${language}")
  endif()
  if(scope STREQUAL "PRIVATE")
    target_sources("${target}" PRIVATE ${outputs})
    target_include_directories("${target}" PRIVATE "${output_dir}")
  else()
    # Build-tree paths: an exported target must not carry them.
    set(interface_outputs "")
    foreach(output IN LISTS outputs)
      list(APPEND interface_outputs "$<BUILD_INTERFACE:${output}>")
    endforeach()
    if(scope STREQUAL "PUBLIC")
      target_sources("${target}" PRIVATE ${outputs})
      target_include_directories("${target}" PRIVATE "${output_dir}")
    endif()
    target_sources("${target}" INTERFACE ${interface_outputs})
    target_include_directories("${target}" INTERFACE "$<BUILD_INTERFACE:${output_dir}>")
  endif()
  add_dependencies("${target}" "${owner}")
endfunction()

# Every buildsystem target of a directory and the directories below it.
function(_hipify_tool_targets_below out_var dir)
  get_property(result DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    _hipify_tool_targets_below(below "${subdir}")
    list(APPEND result ${below})
  endforeach()
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# At the end of the top-level directory, when every target exists: each target (any directory)
# that lists translated files depends on the targets translating them (a Make build in another
# directory would otherwise race the translation or find no rule); a target that lists .hip
# files CMake will not compile, or a translation nothing uses, gets a warning.
function(_hipify_tool_finish)
  get_property(owners GLOBAL PROPERTY _hipify_tool_owners)
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  foreach(owner IN LISTS owners)  # "by:<file>": the targets translating <file>
    get_target_property(all_outputs "${owner}" _hipify_tool_all_outputs)
    foreach(output IN LISTS all_outputs)
      list(APPEND "by:${output}" "${owner}")
    endforeach()
  endforeach()
  _hipify_tool_targets_below(targets "${CMAKE_SOURCE_DIR}")
  set(used "")
  foreach(target IN LISTS targets)
    if(target IN_LIST owners)
      continue()
    endif()
    get_target_property(depends "${target}" MANUALLY_ADDED_DEPENDENCIES)
    foreach(dependency IN LISTS depends)
      if(dependency IN_LIST owners)
        list(APPEND used "${dependency}")
      endif()
    endforeach()
    get_target_property(sources "${target}" SOURCES)
    get_target_property(interface_sources "${target}" INTERFACE_SOURCES)
    get_target_property(source_dir "${target}" SOURCE_DIR)
    get_target_property(binary_dir "${target}" BINARY_DIR)
    get_target_property(type "${target}" TYPE)
    set(wanted "")
    set(uncompiled 0)
    foreach(source IN LISTS sources interface_sources)
      if(source MATCHES "^\\$<BUILD_INTERFACE:([^$<>]*)>$")
        set(source "${CMAKE_MATCH_1}")
      elseif(source MATCHES "\\$<" OR source MATCHES "NOTFOUND$")
        continue()
      endif()
      set(candidates "${source}")
      if(NOT IS_ABSOLUTE "${source}")
        cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${source_dir}" NORMALIZE OUTPUT_VARIABLE in_source)
        cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${binary_dir}" NORMALIZE OUTPUT_VARIABLE in_binary)
        set(candidates "${in_source}" "${in_binary}")
      endif()
      foreach(candidate IN LISTS candidates)
        set(key "by:${candidate}")
        if(DEFINED "${key}")
          list(APPEND wanted ${${key}})
          if(candidate MATCHES "\\.hip$" AND type MATCHES "LIBRARY$|EXECUTABLE" AND NOT type STREQUAL "INTERFACE_LIBRARY")
            get_source_file_property(language "${candidate}" TARGET_DIRECTORY "${target}" LANGUAGE)
            if(NOT language)
              set(language HIP)
            endif()
            if(NOT language IN_LIST languages)
              math(EXPR uncompiled "${uncompiled} + 1")
              set(missing_language "${language}")
            endif()
          endif()
          break()
        endif()
      endforeach()
    endforeach()
    list(REMOVE_DUPLICATES wanted)
    foreach(owner IN LISTS wanted)
      if(NOT owner IN_LIST depends)
        add_dependencies("${target}" "${owner}")
      endif()
      list(APPEND used "${owner}")
    endforeach()
    if(uncompiled GREATER 0)
      list(GET wanted 0 owner)
      get_target_property(label "${owner}" _hipify_tool_label)
      message(WARNING "${label}: target ${target} (${source_dir}) lists translated .hip sources (${uncompiled}) "
                      "that CMake will not compile, because ${missing_language} is not enabled. "
                      "Call enable_language(HIP) (CMake >= 3.21 with ROCm), or use "
                      "hipify_tool_target_sources(${target} ... LANGUAGE <lang>) to compile them as another language.")
    endif()
  endforeach()
  foreach(owner IN LISTS owners)
    get_target_property(named "${owner}" _hipify_tool_named)
    if(named OR owner IN_LIST used)
      continue()
    endif()
    get_target_property(label "${owner}" _hipify_tool_label)
    get_target_property(outputs "${owner}" _hipify_tool_outputs)
    get_target_property(owner_dir "${owner}" SOURCE_DIR)
    message(WARNING "${label} (${owner_dir}): no target lists the translated sources or depends on "
                    "their translation, so they are not built. Compile them with "
                    "add_library(<t> ...)/target_sources(<t> PRIVATE ...) in any directory, or call "
                    "hipify_tool_target_sources(<t> ...) instead. If a custom target or command DEPENDS on "
                    "them (which this check cannot see), give the call TARGET <name> to silence this warning.")
  endforeach()
endfunction()

cmake_policy(POP)
