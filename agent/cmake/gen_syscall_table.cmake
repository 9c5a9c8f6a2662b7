# Turns the kernel's syscall numbering header into a C++ table body.
# Invoked at build time: cmake -DINPUT=<unistd_64.h> -DOUTPUT=<file.inc> -P gen_syscall_table.cmake
# Each line of the output is `{nr, "name"},`; syscall_names.cc includes it.
if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "gen_syscall_table.cmake needs -DINPUT=... and -DOUTPUT=...")
endif()
file(STRINGS "${INPUT}" lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+")
if(NOT lines)
  message(FATAL_ERROR "no '#define __NR_x N' lines in ${INPUT}")
endif()
set(body "// Generated from ${INPUT} by gen_syscall_table.cmake. Do not edit.\n")
foreach(line IN LISTS lines)
  string(REGEX MATCH "^#define __NR_([a-z0-9_]+) ([0-9]+)" _ "${line}")
  string(APPEND body "{${CMAKE_MATCH_2}, \"${CMAKE_MATCH_1}\"},\n")
endforeach()
# Write only on change so dependents are not rebuilt needlessly.
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL body)
  file(WRITE "${OUTPUT}" "${body}")
endif()
