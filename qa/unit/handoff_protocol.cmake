# xo_protocol_tests: the handoff protocol (messages, key files, the TLS PSK
# control channel, flow multiplexing). Channel tests use 127.0.0.1 ephemeral
# ports and bound every wait; ctest's timeout is a second line of defence.
add_executable(xo_protocol_tests handoff_protocol_test.cc control_tls_test.cc)
target_link_libraries(xo_protocol_tests PRIVATE xo_handoff GTest::gtest_main Threads::Threads)
xo_strict(xo_protocol_tests)
gtest_discover_tests(xo_protocol_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
