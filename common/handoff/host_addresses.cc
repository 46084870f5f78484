#include "common/handoff/host_addresses.h"

#include <algorithm>

#include "common/handoff/socket_ops.h"

namespace xo::handoff {

namespace {

bool is_gateway(const boost::asio::ip::address& a, const HostAddresses& addresses)
{
    return std::find(addresses.gateways.begin(), addresses.gateways.end(), a) != addresses.gateways.end();
}

} // namespace

Result<void> vet_offered_addresses(const tcp::TcpState& state, const HostAddresses& addresses)
{
    int own_family = addresses.own.is_v4() ? AF_INET : AF_INET6;
    if (state.family != own_family)
        return Error{"the offered connection is of another address family than this responder's " +
                     addresses.own.to_string()};
    auto public_end = to_asio_endpoint(state.local, state.family);
    auto client = to_asio_endpoint(state.remote, state.family);
    if (!is_gateway(public_end.address(), addresses))
        return Error{"public address " + public_end.address().to_string() +
                     " is not a gateway address this responder serves for"};
    if (public_end.port() == 0 || client.port() == 0)
        return Error{"the offered connection has port 0"};
    auto c = client.address();
    if (c.is_v6() && c.to_v6().is_v4_mapped()) // the IPv4 host it stands for is what the checks mean
        c = c.to_v6().to_v4();
    if (c.is_unspecified() || c.is_loopback() || c.is_multicast() || c == addresses.own || is_gateway(c, addresses))
        return Error{"client address " + c.to_string() + " is not a remote host"};
    return {};
}

} // namespace xo::handoff
