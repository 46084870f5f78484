#include "common/handoff/socket_ops.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>

namespace xo::handoff {

namespace {

TcpAsioEndpoint from_sockaddr(const sockaddr_storage& ss)
{
    if (ss.ss_family == AF_INET6) {
        const auto& s6 = reinterpret_cast<const sockaddr_in6&>(ss);
        boost::asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &s6.sin6_addr, b.size());
        return {boost::asio::ip::address_v6(b, s6.sin6_scope_id), ntohs(s6.sin6_port)};
    }
    const auto& s4 = reinterpret_cast<const sockaddr_in&>(ss);
    return {boost::asio::ip::address_v4(ntohl(s4.sin_addr.s_addr)), ntohs(s4.sin_port)};
}

} // namespace

Result<SocketEndpoints> socket_endpoints(int fd)
{
    sockaddr_storage local {}, remote {};
    socklen_t len = sizeof(local);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0)
        return Error::from_errno("getsockname");
    len = sizeof(remote);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &len) != 0)
        return Error::from_errno("getpeername");
    return SocketEndpoints{from_sockaddr(local), from_sockaddr(remote)};
}

std::vector<std::uint8_t> address_bytes(const boost::asio::ip::address& addr)
{
    if (addr.is_v4()) {
        auto b = addr.to_v4().to_bytes();
        return {b.begin(), b.end()};
    }
    auto b = addr.to_v6().to_bytes();
    return {b.begin(), b.end()};
}

Result<boost::asio::ip::address> address_from_bytes(std::span<const std::uint8_t> bytes)
{
    if (bytes.size() == 4) {
        boost::asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), bytes.data(), 4);
        return boost::asio::ip::address(boost::asio::ip::address_v4(b));
    }
    if (bytes.size() == 16) {
        boost::asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), bytes.data(), 16);
        return boost::asio::ip::address(boost::asio::ip::address_v6(b));
    }
    return Error{"address of " + std::to_string(bytes.size()) + " bytes"};
}

tcp::TcpEndpoint to_tcp_endpoint(const TcpAsioEndpoint& ep)
{
    tcp::TcpEndpoint out;
    auto bytes = address_bytes(ep.address());
    std::memcpy(out.addr.data(), bytes.data(), bytes.size());
    out.port = ep.port();
    return out;
}

TcpAsioEndpoint to_asio_endpoint(const tcp::TcpEndpoint& ep, int family)
{
    auto addr = address_from_bytes(std::span(ep.addr).first(family == AF_INET6 ? 16 : 4));
    return {*addr, ep.port};
}

Result<void> cancel_repair(int fd)
{
    return tcp::repair_off(fd, true);
}

Result<std::size_t> unacked_bytes(int fd)
{
    int queued = 0;
    if (::ioctl(fd, SIOCOUTQ, &queued) != 0)
        return Error::from_errno("SIOCOUTQ");
    return static_cast<std::size_t>(queued);
}

Result<int> tcp_state_of(int fd)
{
    tcp_info info {};
    socklen_t len = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return Error::from_errno("TCP_INFO");
    return static_cast<int>(info.tcpi_state);
}

Result<void> enter_repair(int fd)
{
    int on = TCP_REPAIR_ON;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) != 0)
        return Error::from_errno("TCP_REPAIR on");
    return {};
}

Result<void> reset_on_close(int fd)
{
    linger lg {1, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
        return Error::from_errno("SO_LINGER");
    return {};
}

} // namespace xo::handoff
