# xo_metrics_tests: the Prometheus registry (common/metrics.*) and the
# gateway's series (rgw_xo/gateway_metrics.*). No network, no cluster.
include(GoogleTest)

add_executable(xo_metrics_tests ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cc)
target_link_libraries(xo_metrics_tests PRIVATE xo_gateway xo_common GTest::gtest_main Threads::Threads)
xo_strict(xo_metrics_tests)
gtest_discover_tests(xo_metrics_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
