// A veth pair for tests and benchmarks of the TC flower backend, made over
// rtnetlink (libnl-route) in the caller's network namespace, which the
// caller creates and which removes the pair when it goes. Both ends are set
// up only after the pair exists (a veth cannot open before its peer is
// linked: ENOTCONN), the first end with an address in 198.18.0.0/24.
#pragma once

#include <string>

#include "bpf/flower/netlink_socket.h"
#include "common/result.h"

namespace xo::test {

/** add_veth_pair() - @name and @peer, both up, @name with @cidr (e.g. "198.18.0.1/24"). */
Result<void> add_veth_pair(flower::NetlinkSocket& sock, const std::string& name, const std::string& peer,
                           const std::string& cidr);

} // namespace xo::test
