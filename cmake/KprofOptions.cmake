# Warnings and sanitizers applied to every kprof target through kprof_options.
add_library(kprof_options INTERFACE)
target_compile_options(kprof_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough
  # Designated initializers that leave defaulted members out are the point of default members.
  -Wno-missing-field-initializers)
# Everything includes from the repository root: "common/pprof/profile_builder.hpp".
target_include_directories(kprof_options INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})

if(KPROF_SANITIZE)
  set(kprof_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined
                       -fno-omit-frame-pointer)
  target_compile_options(kprof_options INTERFACE ${kprof_sanitizers})
  target_link_options(kprof_options INTERFACE ${kprof_sanitizers})
endif()

if(KPROF_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KPROF_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Instrument the libraries for coverage; fuzz targets add -fsanitize=fuzzer at link time.
  target_compile_options(kprof_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                 -fno-omit-frame-pointer)
  target_link_options(kprof_options INTERFACE -fsanitize=address,undefined)
endif()

# kprof_library(NAME SOURCES... [DEPS...]) — one static library per component.
function(kprof_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC kprof_options ${ARG_DEPS})
endfunction()
