// Theory of operation: which addresses a responder lets a gateway's OFFER
// make it use. The control channel authenticates the gateway, but a gateway
// (compromised, buggy, or holding a key it should not) must still not be
// able to point a responder's sockets and rewrites anywhere it likes, so
// nothing the OFFER's TCP state says about addresses is taken on trust:
//   - the restored socket's local address is always the responder's own
//     (ConnectionHost binds it; the OFFER's local endpoint is never bound);
//   - the OFFER's local endpoint becomes the source the egress rewrite puts
//     on the client's packets, so it must be one of the gateway public
//     addresses this responder was configured to serve for (--gateway-address);
//     otherwise the responder would send with any source address it is told;
//   - the client must be a remote host: not unspecified, loopback or
//     multicast, not the responder's own address and not a gateway address,
//     or a crafted OFFER could make the responder open a connection to a
//     local service and send it the state's queued bytes;
//   - the family must be the responder's own, and neither port may be 0.
// An OFFER that fails any of these is refused as bad_address before the
// admission runs and before anything is restored; the gateway keeps the
// connection and relays (fallback).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "common/tcp/tcp_state.h"

namespace xo::handoff {

/** struct HostAddresses - the responder's own address and the gateway addresses it serves for. */
struct HostAddresses {
    boost::asio::ip::address own;                   ///< restored sockets bind here
    std::vector<boost::asio::ip::address> gateways; ///< public addresses a rewrite may use as source
    metrics::Counter* refused = nullptr;            ///< counts OFFERs refused as bad_address; may be null
};

/**
 * vet_offered_addresses() - whether @state's endpoints may be restored here.
 *
 * Return: success, or an error naming the address refused and why.
 */
Result<void> vet_offered_addresses(const tcp::TcpState& state, const HostAddresses& addresses);

} // namespace xo::handoff
