// Theory of operation: closing a client connection so that the last
// response reaches the client. Closing a socket with unread bytes makes the
// kernel send RST, and an RST that overtakes our response destroys it in the
// client's receive queue. So the gateway sends FIN first, then reads and
// drops what the client still sends — bounded in bytes and time, so a client
// that keeps sending cannot hold the connection — and only then closes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace xo::gw {

/** close_gracefully() - FIN, drain what the client still sends (1 MiB, 2 s at most), close @stream. */
boost::asio::awaitable<void> close_gracefully(boost::beast::tcp_stream& stream);

} // namespace xo::gw
