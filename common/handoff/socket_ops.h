// Theory of operation: the few socket facts and actions the handoff engine
// needs around TCP_REPAIR that tcp_state.h does not cover. A connection is
// identified on the data plane by its two endpoints, read from the kernel
// (getsockname/getpeername) rather than trusted from callers. A save that is
// abandoned before the socket was closed (the responder refused, the
// control channel failed) must give the socket back to normal operation
// without touching its queues: cancel_repair() only turns repair mode off.
// Before a connection goes back to the gateway the responder waits until the
// client has acknowledged what was sent, so little state travels and few
// client ACKs hit the gateway's BLOCK entry: unacked_bytes() reads that.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/tcp/tcp_state.h"

namespace xo::handoff {

using TcpAsioEndpoint = boost::asio::ip::tcp::endpoint;

/** struct SocketEndpoints - both ends of a connected TCP socket. */
struct SocketEndpoints {
    TcpAsioEndpoint local;
    TcpAsioEndpoint remote;
};

/** socket_endpoints() - the local and peer endpoints of connected socket @fd. */
Result<SocketEndpoints> socket_endpoints(int fd);

/** to_tcp_endpoint() - @ep as tcp_state.h spells an endpoint. */
tcp::TcpEndpoint to_tcp_endpoint(const TcpAsioEndpoint& ep);

/** to_asio_endpoint() - @ep of address family @family (AF_INET/AF_INET6) for Asio. */
TcpAsioEndpoint to_asio_endpoint(const tcp::TcpEndpoint& ep, int family);

/** address_bytes() - @addr in network order: 4 bytes for IPv4, 16 for IPv6. */
std::vector<std::uint8_t> address_bytes(const boost::asio::ip::address& addr);

/** address_from_bytes() - inverse of address_bytes(); error for other lengths. */
Result<boost::asio::ip::address> address_from_bytes(std::span<const std::uint8_t> bytes);

/**
 * cancel_repair() - turn TCP_REPAIR off on a socket whose move was abandoned.
 * @fd: a socket save_tcp_state() left in repair mode.
 *
 * The queues stay as they are; a window probe tells the peer to resend
 * whatever was dropped while the flow was blocked.
 */
Result<void> cancel_repair(int fd);

/** unacked_bytes() - bytes in @fd's send queue not yet acknowledged (SIOCOUTQ). */
Result<std::size_t> unacked_bytes(int fd);

/** tcp_state_of() - @fd's TCP state (TCP_ESTABLISHED, TCP_CLOSE_WAIT, ... from TCP_INFO). */
Result<int> tcp_state_of(int fd);

/** acked_bytes() - bytes of @fd's stream the peer acknowledged since the socket was created or restored. */
Result<std::uint64_t> acked_bytes(int fd);

/** enter_repair() - put @fd into TCP_REPAIR mode: from now on closing it sends nothing. */
Result<void> enter_repair(int fd);

/** reset_on_close() - make the next close of @fd send RST at once (SO_LINGER 0). */
Result<void> reset_on_close(int fd);

} // namespace xo::handoff
