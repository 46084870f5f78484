# xo_locator_tests: the Locator's pure parts (common/rgw/rgw_oid.*, bucket
# entrypoint decoding, monitor-text parsing). No cluster needed.
include(GoogleTest)

add_executable(xo_locator_tests ${CMAKE_CURRENT_LIST_DIR}/locator_test.cc)
target_link_libraries(xo_locator_tests PRIVATE xo_locator GTest::gtest_main Threads::Threads)
xo_strict(xo_locator_tests)
gtest_discover_tests(xo_locator_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
