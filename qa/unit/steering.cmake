# xo_steering_tests: hybrid steering's queue (common/steering/) against fake
# eBPF and rule backends — slow, failing, gated, random — and the flower mode
# words. Pure logic: no kernel, no privileges, a few seconds.
include(GoogleTest)

add_executable(xo_steering_tests
  ${CMAKE_CURRENT_LIST_DIR}/hybrid_steering_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/flower_mode_test.cc)
target_link_libraries(xo_steering_tests PRIVATE xo_steering xo_flower GTest::gtest_main Threads::Threads)
xo_strict(xo_steering_tests)
gtest_discover_tests(xo_steering_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 120 LABELS unit)
