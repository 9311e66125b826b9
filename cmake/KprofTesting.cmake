# kprof_test(NAME SOURCES... DEPS... LABELS...) — a GoogleTest binary registered with ctest.
# Labels: unit (pure, fast), integration (real sockets/files/processes), privileged (needs root or
# CAP_BPF/CAP_PERFMON; skips with a message otherwise), e2e (real peers such as Prometheus).
include(GoogleTest)
enable_testing()

function(kprof_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kprof_options ${ARG_DEPS} GTest::gtest GTest::gmock
                                        GTest::gtest_main)
  # Tests find fixtures, bundled programs and tests/tools/node_modules from here.
  target_compile_definitions(${name} PRIVATE KPROF_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             KPROF_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    # A test that calls GTEST_SKIP must not count as passed: ctest reports it as skipped.
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()

# kprof_fuzz_target(NAME SOURCES... DEPS...) — a libFuzzer binary, built only with KPROF_FUZZ.
function(kprof_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT KPROF_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kprof_options ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
