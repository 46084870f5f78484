# xo_tls_tests: the TLS record layer (common/tls/) against an in-process
# OpenSSL client over memory BIOs, all six suites, and RFC 8448 vectors.
# No network; the certificate is made at run time in a temporary directory.
include(GoogleTest)

add_executable(xo_tls_tests ${CMAKE_CURRENT_LIST_DIR}/tls_test.cc)
target_link_libraries(xo_tls_tests PRIVATE xo_tls GTest::gtest_main)
xo_strict(xo_tls_tests)
gtest_discover_tests(xo_tls_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
