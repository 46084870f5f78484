# xo_ktls_tests: the kernel's TLS send path (TCP_ULP "tls" + TLS_TX) sealing
# records that the project's record layer opens. SKIPPED where the kernel has
# no kTLS (this development kernel); qa/vm/kernel-matrix.sh runs it on
# Debian's kernel. The responder's probe is compiled in from its source so
# the binary needs no librados (it is copied into the matrix's initramfs).
include(GoogleTest)

add_executable(xo_ktls_tests ${CMAKE_CURRENT_LIST_DIR}/ktls_test.cc ${PROJECT_SOURCE_DIR}/osd_xo/ktls_probe.cc)
target_include_directories(xo_ktls_tests PRIVATE ${PROJECT_SOURCE_DIR}/osd_xo)
target_link_libraries(xo_ktls_tests PRIVATE xo_tls xo_common GTest::gtest_main)
xo_strict(xo_ktls_tests)
gtest_discover_tests(xo_ktls_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
