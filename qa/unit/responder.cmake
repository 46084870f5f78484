# xo_responder_tests: xo-responder's pure parts (osd_xo/): the vet rules over
# xattr maps, byte-range slicing of manifest extents, which head bytes count,
# the pipelined streamer with a fake reader completing out of order, the
# socket sink's stall timeout on loopback, the command line, and the
# admission's ticket checks (with a never-connected cluster handle), tickets
# and their key file rotation, and the replay cache. No
# cluster needed.
include(GoogleTest)

add_executable(xo_responder_tests
  ${CMAKE_CURRENT_LIST_DIR}/responder_vet_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_slicer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_head_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_stream_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_sink_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_config_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_admission_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/responder_ticket_test.cc)
target_link_libraries(xo_responder_tests PRIVATE xo_responder_service GTest::gtest_main Threads::Threads)
target_compile_definitions(xo_responder_tests PRIVATE
  XO_MANIFEST_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/fixtures/rgw_manifest")
xo_strict(xo_responder_tests)
target_compile_options(xo_responder_tests PRIVATE -Wno-mismatched-new-delete)
gtest_discover_tests(xo_responder_tests
  DISCOVERY_TIMEOUT 30
  PROPERTIES TIMEOUT 60 LABELS unit)
