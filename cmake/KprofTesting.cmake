# kprof_test(NAME SOURCES... DEPS... LABELS... [TIMEOUT s] [LSAN_SUPPRESSIONS file]) — a GoogleTest
# binary registered with ctest. LSAN_SUPPRESSIONS replaces cmake/lsan.supp for that binary.
# Labels: unit (pure, fast), integration (real sockets/files/processes), privileged (needs root or
# CAP_BPF/CAP_PERFMON; skips with a message otherwise), e2e (real peers such as Prometheus).
include(GoogleTest)
enable_testing()

function(kprof_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;LSAN_SUPPRESSIONS" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT KPROF_TESTS)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kprof_options ${ARG_DEPS} GTest::gtest GTest::gmock
                                        GTest::gtest_main)
  # Tests find fixtures, bundled programs and tests/tools/node_modules from here.
  target_compile_definitions(${name} PRIVATE KPROF_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             KPROF_BINARY_DIR="${PROJECT_BINARY_DIR}")
  # Tests that sample the machine or start real servers measure behaviour that other tests
  # running beside them on two cores would disturb: they run one at a time.
  set(serial FALSE)
  if("privileged" IN_LIST ARG_LABELS OR "e2e" IN_LIST ARG_LABELS)
    set(serial TRUE)
  endif()
  if(NOT ARG_LSAN_SUPPRESSIONS)
    set(ARG_LSAN_SUPPRESSIONS ${PROJECT_SOURCE_DIR}/cmake/lsan.supp)
  endif()
  set(environment "LSAN_OPTIONS=suppressions=${ARG_LSAN_SUPPRESSIONS}")
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial}
    # A test that calls GTEST_SKIP must not count as passed: ctest reports it as skipped.
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]"
    # Third-party leaks at exit that are not ours (see the file); harmless without sanitizers.
               ENVIRONMENT "${environment}")
endfunction()

# kprof_fuzz_target(NAME SOURCES... DEPS... [SEEDS dir]) — a libFuzzer binary, built only with
# KPROF_FUZZ. scripts/fuzz.sh builds the `fuzzers` target and runs every binary listed in
# <build>/fuzz-targets.txt for a bounded time, starting from a copy of its seed folder.
function(kprof_fuzz_target name)
  cmake_parse_arguments(ARG "" "SEEDS" "SOURCES;DEPS" ${ARGN})
  if(NOT KPROF_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kprof_options ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  if(NOT ARG_SEEDS)
    set(ARG_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/testdata/fuzz-seeds)
  endif()
  set_property(GLOBAL APPEND PROPERTY KPROF_FUZZ_TARGETS ${name})
  set_property(GLOBAL APPEND PROPERTY KPROF_FUZZ_RUNS "$<TARGET_FILE:${name}> ${ARG_SEEDS}")
endfunction()

# Called once at the end of the top-level CMakeLists: the `fuzzers` target and the run list.
function(kprof_finish_fuzz_targets)
  if(NOT KPROF_FUZZ)
    return()
  endif()
  get_property(targets GLOBAL PROPERTY KPROF_FUZZ_TARGETS)
  get_property(runs GLOBAL PROPERTY KPROF_FUZZ_RUNS)
  add_custom_target(fuzzers DEPENDS ${targets})
  string(REPLACE ";" "\n" runs_text "${runs}")
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/fuzz-targets.txt CONTENT "${runs_text}\n")
endfunction()
