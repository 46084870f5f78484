// Theory of operation: both testbed daemons answer a request the same way —
// the gateway when it serves a request itself, a responder for a handed-off
// connection — by streaming the request's pattern (pattern.h) onto the
// client's socket in fixed-size chunks, so a 64 MiB response needs 256 KiB.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "qa/handoff/request.h"
#include "common/result.h"

namespace xo::testbed {

/** write_pattern() - send @request's whole response on @socket. */
boost::asio::awaitable<Result<void>> write_pattern(boost::asio::ip::tcp::socket& socket, Request request);

} // namespace xo::testbed
