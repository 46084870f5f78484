# xo_rgw_manifest_tests: the user.rgw.manifest decoder (common/rgw/rgw_manifest.*,
# common/rgw/ceph_decode.*) against golden xattrs captured from radosgw 16.2
# (qa/unit/fixtures/rgw_manifest/*.hex) and against damaged input. No cluster needed.
include(GoogleTest)

add_executable(xo_rgw_manifest_tests ${CMAKE_CURRENT_LIST_DIR}/rgw_manifest_test.cc)
target_link_libraries(xo_rgw_manifest_tests PRIVATE xo_rgw GTest::gtest_main)
target_compile_definitions(xo_rgw_manifest_tests PRIVATE
  XO_MANIFEST_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/fixtures/rgw_manifest")
xo_strict(xo_rgw_manifest_tests)
gtest_discover_tests(xo_rgw_manifest_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
