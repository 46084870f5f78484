# xo_tcp_state_tests: the TCP_REPAIR save/restore module (common/tcp/tcp_state.*).
# The kernel tests need CAP_NET_ADMIN and create a private network namespace
# per test (anonymous, so it disappears with the test's sockets even if the
# process dies); without the capability they report SKIPPED.
include(GoogleTest)

add_executable(xo_tcp_state_tests ${CMAKE_CURRENT_LIST_DIR}/tcp_state_test.cc)
target_link_libraries(xo_tcp_state_tests PRIVATE xo_tcp xo_handoff GTest::gtest_main Threads::Threads)
xo_strict(xo_tcp_state_tests)
gtest_discover_tests(xo_tcp_state_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 120 LABELS unit)
