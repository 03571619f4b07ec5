# A host-only stand-in for enable_language(HIP), for the CMake tests (CMAKE_USER_MAKE_RULES_OVERRIDE_CXX):
# the C++ compiler compiles .hip files, as C++, against the stub HIP headers next to this file. A
# consumer then needs nothing a real HIP build would not: no LANGUAGE property, no extra flags.
list(APPEND CMAKE_CXX_SOURCE_FILE_EXTENSIONS hip)
set(CMAKE_CXX_COMPILE_OBJECT "<CMAKE_CXX_COMPILER> <DEFINES> <INCLUDES> <FLAGS> -x c++ -o <OBJECT> -c <SOURCE>")
