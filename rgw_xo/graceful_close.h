// Theory of operation: closing a client connection so that the last
// response reaches the client. Closing a socket with unread bytes makes the
// kernel send RST, and an RST that overtakes our response destroys it in the
// client's receive queue. So the gateway sends FIN first, then reads and
// drops what the client still sends — bounded in bytes and time, so a client
// that keeps sending cannot hold the connection — and only then closes.
// A TLS connection says close_notify before its FIN (RFC 8446 §6.1).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "rgw_xo/client_stream.h"

namespace xo::gw {

/** close_gracefully() - [close_notify,] FIN, drain what the client still sends (1 MiB, 2 s at most), close @stream. */
boost::asio::awaitable<void> close_gracefully(ClientStream& client);

} // namespace xo::gw
