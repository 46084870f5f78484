// Theory of operation: translation between socket endpoints as the daemons
// see them (Boost.Asio) and the wire-format keys and addresses of the BPF
// maps (flow_maps.h). A dual-stack IPv6 socket reports IPv4 peers as
// v4-mapped addresses (::ffff:a.b.c.d) although the packets are IPv4 on the
// wire, so such addresses are stored as IPv4.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstdint>

#include "common/endpoint.h"
#include "common/handoff/steering.h"
#include "bpf/flow_maps.h"
#include "common/result.h"

namespace xo::bpf {

/** struct WireAddress - an address as the maps hold it. */
struct WireAddress {
    std::uint8_t family = 0;        ///< XO_FAMILY_IPV4 or XO_FAMILY_IPV6
    std::array<__be32, 4> words {}; ///< network order; IPv4 in words[0]
};

/** wire_address() - @addr in map format (v4-mapped IPv6 becomes IPv4). */
WireAddress wire_address(const boost::asio::ip::address& addr);

/**
 * flow_key() - the key of packets travelling from @src to @dst.
 * @src: source address and port of the packets.
 * @dst: destination address and port.
 *
 * Return: the key, or an error if the two families differ.
 */
Result<xo_flow_key> flow_key(const Endpoint& src, const Endpoint& dst);

/** flow_key() - the key of @flow's packets. */
inline Result<xo_flow_key> flow_key(const handoff::Flow& flow)
{
    return flow_key(flow.src, flow.dst);
}

} // namespace xo::bpf
