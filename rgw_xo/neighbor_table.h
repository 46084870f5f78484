// The MAC address a redirected frame must carry to reach a responder.
//
// Theory of operation: the gateway's eBPF program rewrites the Ethernet
// header of a client's frames and sends them out of the public NIC towards
// the responder's host, bypassing the gateway's IP stack — so it needs the
// responder's MAC, which the kernel already knows once anything (the control
// channel's TCP connection) has talked to that address. The kernel's
// neighbour table is read over rtnetlink with libnl-route, the library the
// iproute2 world uses, rather than by parsing /proc.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>

#include "bpf/flow_key.h"
#include "common/result.h"

namespace xo::gw {

/**
 * neighbor_mac() - the link-layer address of @address on @ifname.
 *
 * Return: the MAC of a usable (reachable, stale, delayed, probing or
 * permanent) neighbour entry, or an error when there is none.
 */
Result<Mac> neighbor_mac(const std::string& ifname, const boost::asio::ip::address& address);

} // namespace xo::gw
