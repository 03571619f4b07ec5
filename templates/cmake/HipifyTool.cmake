# hipify_tool_sources() (alias hipify_sources()) and hipify_tool_target_sources(): translate CUDA
# sources to HIP at build time, with exact outputs and a depfile. docs/cmake.md has the details.
#
#   hipify_tool_sources(<out_var>
#                  SOURCES <file>...            CUDA/C++ sources, in the order the target lists them
#                  PROJECT_DIR <dir>            root of the sources (every source must be under it)
#                  OUTPUT_DIR <dir>             output root (may be shared by several calls)
#                  [<KEYWORD> <value>...]       every other option of the tool: INCLUDE_DIRS, LAUNCH_SYNTAX,
#                                               MAPS, EXTENSIONS, REPORT, REPORT_FILE, STRICT, ROCM_PATH, ...
#                  [TARGET <name>]              an INTERFACE library to link: the translated sources,
#                                               OUTPUT_DIR on its include path, USE_ROCM, the translation
#                  [NO_USE_ROCM]                TARGET's consumers do not get USE_ROCM
#                  [QUIET])                     no summary line in the build log
#
#   hipify_tool_target_sources(<target> [PRIVATE|PUBLIC|INTERFACE]
#                  SOURCES ... PROJECT_DIR ... OUTPUT_DIR ... [<KEYWORD> <value>...]
#                  [LANGUAGE <lang>]            language of the .hip outputs (default HIP)
#                  [NO_USE_ROCM]                do not add USE_ROCM to <target>'s compile definitions
#                  [QUIET])
#
# The option keywords are not listed here: _hipify_tool_keyword_table() (hipify_toolKeywords.cmake,
# generated from the tool's option model, hipify_tool/options.py) names them, their flags, which take
# values, which the configure-time plan needs and which make up a call's identity.
#
# hipify_tool_sources() sets <out_var> to one translated file per input, in order (a C++ file that
# needs no translation comes back as its copy in the output root). An internal custom target owns the
# translation rule: targets in the same directory that list the files (as sources or DEPENDS) get it
# by themselves; anywhere else, link the TARGET library (or add_dependencies() on it).
# hipify_tool_target_sources() does it all for one target, as target_sources() would.
#
# How it stays exact and incremental:
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

# Parses the arguments of the public command calling it (from argument <first> on) into arg_*: the
# option keywords of the table plus the command's own, then checks what every command checks.
macro(_hipify_tool_parse label first own_no_value own_one_value)
  _hipify_tool_keyword_table()
  cmake_parse_arguments(PARSE_ARGV ${first} arg "${_hipify_tool_no_value};${own_no_value}"
                        "${_hipify_tool_one_value};${own_one_value}" "${_hipify_tool_multi_value}")
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
  foreach(_hipify_tool_kw IN LISTS _hipify_tool_one_value _hipify_tool_multi_value)
    foreach(_hipify_tool_item IN LISTS arg_${_hipify_tool_kw})
      if(_hipify_tool_item MATCHES "\\$<")
        message(FATAL_ERROR "${label}: generator expressions are not supported in ${_hipify_tool_kw}: "
                            "${_hipify_tool_item} (the outputs are planned at configure time; use a plain path)")
      endif()
    endforeach()
  endforeach()
endmacro()

# The translation, shared by the public commands; reads the caller's arg_* variables. Sets
# <outputs_var> (one output per input), <owner_var> (the custom target that translates, named after
# <name_hint>) and <dir_var> (the absolute output root).
function(_hipify_tool_translate label outputs_var owner_var dir_var name_hint)
  get_property(command GLOBAL PROPERTY _hipify_tool_command)
  get_property(cmake_dir GLOBAL PROPERTY _hipify_tool_cmake_dir)
  get_property(root GLOBAL PROPERTY _hipify_tool_root)
  if(NOT command)
    message(FATAL_ERROR "${label}: call find_package(hipify_tool CONFIG REQUIRED) first")
  endif()

  # Every option keyword given, as flags: those the configure-time plan needs, all of them for the
  # build-time run, and the call's identity. Files among the values the run reads are rule inputs.
  set(identity "")
  set(plan_args "")
  set(run_args "")
  set(file_depends "")
  foreach(kw IN LISTS _hipify_tool_no_value _hipify_tool_one_value _hipify_tool_multi_value)
    set(flag "${_hipify_tool_flag_${kw}}")
    if(kw IN_LIST _hipify_tool_no_value)
      if(NOT arg_${kw})
        continue()
      endif()
      set(values ON)
      set(args "${flag}")
    elseif(NOT DEFINED arg_${kw})
      continue()
    else()
      set(values "${arg_${kw}}")
      if(kw IN_LIST _hipify_tool_source_paths)
        _hipify_tool_absolute(values "${CMAKE_CURRENT_SOURCE_DIR}" ${values})
      elseif(kw IN_LIST _hipify_tool_binary_paths)
        _hipify_tool_absolute(values "${CMAKE_CURRENT_BINARY_DIR}" ${values})
      endif()
      set(args "")
      foreach(value IN LISTS values)
        if(DEFINED _hipify_tool_choices_${kw} AND NOT value IN_LIST _hipify_tool_choices_${kw})
          list(JOIN _hipify_tool_choices_${kw} ", " expected)
          message(FATAL_ERROR "${label}: ${kw}: expected one of ${expected}, got '${value}'")
        endif()
        if(flag)  # SOURCES has none: they go to the tool in a list file
          list(APPEND args "${flag}=${value}")
        endif()
        if(kw IN_LIST _hipify_tool_source_paths AND NOT kw STREQUAL "SOURCES" AND NOT IS_DIRECTORY "${value}"
           AND EXISTS "${value}")
          list(APPEND file_depends "${value}")
        endif()
      endforeach()
    endif()
    set(given_${kw} "${values}")
    if(kw IN_LIST _hipify_tool_identity)
      string(APPEND identity "${kw}=${values}|")
    endif()
    if(kw IN_LIST _hipify_tool_configure)
      list(APPEND plan_args ${args})
    endif()
    list(APPEND run_args ${args})
  endforeach()

  set(output_dir "${given_OUTPUT_DIR}")
  set(sources "${given_SOURCES}")
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

  # One state dir and one rule per distinct call in a directory: sources list, plan script, depfile, stamp.
  string(SHA256 id "${identity}")
  string(SUBSTRING "${id}" 0 16 id)
  get_property(done DIRECTORY PROPERTY _hipify_tool_owner_${id} SET)
  if(done)  # the same translation again in this directory: same outputs, one rule
    get_property(owner DIRECTORY PROPERTY _hipify_tool_owner_${id})
    get_target_property(outputs "${owner}" _hipify_tool_outputs)
    set(${outputs_var} "${outputs}" PARENT_SCOPE)
    set(${owner_var} "${owner}" PARENT_SCOPE)
    set(${dir_var} "${output_dir}" PARENT_SCOPE)
    return()
  endif()
  string(SHA256 unique "${CMAKE_CURRENT_BINARY_DIR}|${id}")
  string(SUBSTRING "${unique}" 0 8 unique)
  string(MAKE_C_IDENTIFIER "${name_hint}" hint)
  set(owner "hipify_tool_${hint}_${unique}")

  set(state "${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/hipify_tool/${id}")
  set(sources_file "${state}/sources.txt")
  set(plan_file "${state}/plan.cmake")
  set(expected_file "${state}/configured.cmake")
  set(depfile "${state}/hipify.d")
  set(stamp "${state}/hipify.stamp")
  # Rewritten only when it changes (it is an input of the rule); @ is escaped from file(CONFIGURE).
  list(JOIN sources "\n" text)
  string(REPLACE "@" "@_hipify_tool_at@" text "${text}")
  set(_hipify_tool_at "@")
  file(CONFIGURE OUTPUT "${sources_file}" CONTENT "${text}\n" @ONLY)

  # --no-config: every option comes from this call, never from a [tool.hipify-tool] table that
  # happens to sit in the project (it could change the sources or the outputs behind CMake's back).
  set(common --no-config "--sources-from=${sources_file}" "--cmake-plan=${plan_file}")

  # Configure time: the exact outputs, from the tool itself (reads only; writes the plan script).
  execute_process(
    COMMAND ${command} plan ${common} ${plan_args} -q
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${label}: hipify-tool plan failed (exit ${rc}):\n${err}")
  endif()
  unset(HIPIFY_TOOL_OUTPUTS)
  unset(HIPIFY_TOOL_ALL_OUTPUTS)
  include("${plan_file}")
  list(LENGTH sources n_sources)
  list(LENGTH HIPIFY_TOOL_OUTPUTS n_outputs)
  if(n_outputs LESS n_sources)
    message(FATAL_ERROR "${label}: hipify-tool planned ${n_outputs} outputs for ${n_sources} "
                        "sources (${plan_file}); please report this")
  endif()
  file(COPY_FILE "${plan_file}" "${expected_file}" ONLY_IF_DIFFERENT)
  # The build rewrites the plan script only when the set of outputs changes: then CMake re-runs.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${plan_file}")

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
  if(EXISTS "${root}/hipify_tool/_version.py")  # a new tool version may translate differently
    list(APPEND file_depends "${root}/hipify_tool/_version.py")
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
    COMMAND ${command} run ${common} ${run_args} "--depfile=${depfile}" "--stamp=${stamp}"
            "--output-list=${state}/outputs.txt" ${verbosity}
    COMMAND "${CMAKE_COMMAND}" "-DHIPIFY_TOOL_PLAN=${plan_file}" "-DHIPIFY_TOOL_EXPECTED=${expected_file}"
            "-DHIPIFY_TOOL_STAMP=${stamp}" -P "${cmake_dir}/hipify_tool_check.cmake"
    DEPENDS ${sources} "${sources_file}" ${file_depends}
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
  set_target_properties("${owner}" PROPERTIES _hipify_tool_outputs "${HIPIFY_TOOL_OUTPUTS}")
  set_property(DIRECTORY PROPERTY _hipify_tool_owner_${id} "${owner}")
  set(${outputs_var} "${HIPIFY_TOOL_OUTPUTS}" PARENT_SCOPE)
  set(${owner_var} "${owner}" PARENT_SCOPE)
  set(${dir_var} "${output_dir}" PARENT_SCOPE)
endfunction()

# hipify_tool_sources() and its alias hipify_sources(): the same command under two names.
macro(_hipify_tool_sources name)
  _hipify_tool_keyword_table()
  set(_hipify_tool_own_no_value QUIET NO_USE_ROCM)
  set(_hipify_tool_own_one_value TARGET)
  set(_hipify_tool_all_keywords ${_hipify_tool_no_value} ${_hipify_tool_one_value} ${_hipify_tool_multi_value}
                                ${_hipify_tool_own_no_value} ${_hipify_tool_own_one_value})
  if(out_var STREQUAL "" OR out_var IN_LIST _hipify_tool_all_keywords)
    message(FATAL_ERROR "${name}(): the first argument must be the variable that receives the "
                        "translated sources, e.g. ${name}(HIP_SOURCES SOURCES ...)")
  endif()
  _hipify_tool_parse("${name}(${out_var})" 1 "${_hipify_tool_own_no_value}" "${_hipify_tool_own_one_value}")
  if(DEFINED arg_TARGET)
    if(NOT arg_TARGET MATCHES "^[A-Za-z0-9_.+-]+$")
      message(FATAL_ERROR "${name}(${out_var}): TARGET '${arg_TARGET}' is not a valid target name")
    endif()
    if(TARGET "${arg_TARGET}")
      message(FATAL_ERROR "${name}(${out_var}): TARGET ${arg_TARGET}: a target of that name already exists; "
                          "choose another")
    endif()
  endif()
  _hipify_tool_translate("${name}(${out_var})" _hipify_tool_outputs _hipify_tool_owner _hipify_tool_dir "${out_var}")
  if(DEFINED arg_TARGET)
    # What a consumer in any directory links: the sources it compiles, the output root on its include
    # path, USE_ROCM, and (add_dependencies() on an INTERFACE library is followed by every target that
    # links it) the translation before its compiles. Build-tree paths only: an exported target has none.
    add_library("${arg_TARGET}" INTERFACE)
    set(_hipify_tool_interface "")
    foreach(_hipify_tool_output IN LISTS _hipify_tool_outputs)
      list(APPEND _hipify_tool_interface "$<BUILD_INTERFACE:${_hipify_tool_output}>")
    endforeach()
    target_sources("${arg_TARGET}" INTERFACE ${_hipify_tool_interface})
    target_include_directories("${arg_TARGET}" INTERFACE "$<BUILD_INTERFACE:${_hipify_tool_dir}>")
    if(NOT arg_NO_USE_ROCM)
      target_compile_definitions("${arg_TARGET}" INTERFACE "$<BUILD_INTERFACE:USE_ROCM>")
    endif()
    add_dependencies("${arg_TARGET}" "${_hipify_tool_owner}")
  endif()
  set(${out_var} "${_hipify_tool_outputs}" PARENT_SCOPE)
endmacro()

function(hipify_tool_sources out_var)
  _hipify_tool_sources(hipify_tool_sources)
endfunction()

# The name of the first releases, kept as an alias (documented).
function(hipify_sources out_var)
  _hipify_tool_sources(hipify_sources)
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
  _hipify_tool_parse("${label}" 1 "QUIET;NO_USE_ROCM;PRIVATE;PUBLIC;INTERFACE" "LANGUAGE")
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

  _hipify_tool_translate("${label}" outputs owner output_dir "${target}")
  set(hip_outputs "${outputs}")
  list(FILTER hip_outputs INCLUDE REGEX "\\.hip$")
  if(hip_outputs AND NOT DEFINED arg_LANGUAGE AND NOT HIP IN_LIST languages)
    message(FATAL_ERROR "${label}: HIP is not enabled, so the translated .hip sources would not be "
                        "compiled: call enable_language(HIP) before this call (CMake >= 3.25 with a ROCm "
                        "install, >= 3.27 with Debian's HIP packages), or give LANGUAGE <lang> to compile "
                        "them as another enabled language")
  endif()

  # The properties live in the target's directory, which may not be this one.
  set_source_files_properties(${outputs} TARGET_DIRECTORY "${target}" PROPERTIES GENERATED TRUE)
  if(hip_outputs)
    set_source_files_properties(${hip_outputs} TARGET_DIRECTORY "${target}" PROPERTIES LANGUAGE "${language}")
  endif()
  # ROCm builds define USE_ROCM (PyTorch's do, and code shared with CUDA tests it), for every file of
  # the target, with the call's scope.
  set(use_rocm USE_ROCM)
  if(arg_NO_USE_ROCM)
    set(use_rocm "")
  endif()
  if(scope STREQUAL "PRIVATE")
    target_sources("${target}" PRIVATE ${outputs})
    target_include_directories("${target}" PRIVATE "${output_dir}")
    if(use_rocm)
      target_compile_definitions("${target}" PRIVATE ${use_rocm})
    endif()
  else()
    # Build-tree paths: an exported target must not carry them.
    set(interface_outputs "")
    foreach(output IN LISTS outputs)
      list(APPEND interface_outputs "$<BUILD_INTERFACE:${output}>")
    endforeach()
    if(scope STREQUAL "PUBLIC")
      target_sources("${target}" PRIVATE ${outputs})
      target_include_directories("${target}" PRIVATE "${output_dir}")
      if(use_rocm)
        target_compile_definitions("${target}" PRIVATE ${use_rocm})
      endif()
    endif()
    target_sources("${target}" INTERFACE ${interface_outputs})
    target_include_directories("${target}" INTERFACE "$<BUILD_INTERFACE:${output_dir}>")
    if(use_rocm)
      target_compile_definitions("${target}" INTERFACE "$<BUILD_INTERFACE:USE_ROCM>")
    endif()
  endif()
  add_dependencies("${target}" "${owner}")
endfunction()

cmake_policy(POP)
