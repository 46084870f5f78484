# xo_handoff_trust_tests: the handoff engine refusing what a peer says about
# addresses (host_addresses.h, Offloader's READY and RETURN checks), with
# crafted messages over real authenticated control channels on 127.0.0.1.
# The gateway-side tests need CAP_NET_ADMIN (TCP_REPAIR) and create a private
# network namespace per test; without them they report SKIPPED.
include(GoogleTest)

add_executable(xo_handoff_trust_tests ${CMAKE_CURRENT_LIST_DIR}/handoff_trust_test.cc)
target_link_libraries(xo_handoff_trust_tests PRIVATE xo_handoff GTest::gtest_main Threads::Threads)
xo_strict(xo_handoff_trust_tests)
target_compile_options(xo_handoff_trust_tests PRIVATE -Wno-mismatched-new-delete)
gtest_discover_tests(xo_handoff_trust_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
