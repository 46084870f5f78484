// Theory of operation: the few facts about a network device the data plane
// needs — its index (attach points are per ifindex) and its MAC (redirected
// frames must leave with the gateway NIC's own source MAC, or bridges and
// switches relearn the client's MAC on the wrong port).
#pragma once

#include <string>

#include "bpf/flow_key.h"
#include "common/result.h"

namespace xo::bpf {

/** ifindex_of() - index of device @ifname in the current network namespace. */
Result<int> ifindex_of(const std::string& ifname);

/** mac_of() - hardware address of Ethernet device @ifname. */
Result<Mac> mac_of(const std::string& ifname);

} // namespace xo::bpf
