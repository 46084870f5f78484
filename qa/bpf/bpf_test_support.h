// Theory of operation: shared plumbing for the data plane tests. Programs run
// through BPF_PROG_TEST_RUN (no interface involved); each test uses its own
// pin instance "xot-<pid>-<name>" whose pins are removed in TearDown even when
// the test fails. A kernel or environment that cannot load BPF skips the test
// with a reason instead of failing it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "bpf/flow_key.h"
#include "qa/bpf/packet_builder.h"

namespace xo::test {

/** struct TestRun - what one BPF_PROG_TEST_RUN returned. */
struct TestRun {
    int err = 0;             ///< 0, or -errno of the syscall
    std::uint32_t retval = 0; ///< program verdict
    Bytes out;               ///< packet after the program
};

/** test_run() - run program @prog_fd once on @frame. */
TestRun test_run(int prog_fd, const Bytes& frame);

/** instance_name() - "xot-<pid>-@what", unique to this test process. */
std::string instance_name(const std::string& what);

/** endpoint() - literal address and port (test input). */
xo::Endpoint endpoint(const std::string& addr, std::uint16_t port);

/** key_of() - the map key of the packets @spec describes. */
xo_flow_key key_of(const FrameSpec& spec);

/** payload_of() - bytes after the L4 header of a TCP frame. */
Bytes payload_of(const Bytes& frame);

/** to_mac() - test MAC to the library's type. */
xo::Mac to_mac(const MacAddr& mac);

} // namespace xo::test
