// Theory of operation: waiting for a peer to say something without reading
// it. A kept-alive client connection waits this way for its next request,
// so that an idle connection holds no read buffer (the buffer is made once
// bytes are there); the relay waits this way for radosgw's 100 Continue, so
// that a timeout leaves the stream intact. The wait is the socket's own
// readiness wait raced against a timer that cancels it; a timer that fires
// after the wait ended touches nothing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>

namespace xo::gw {

/**
 * readable_within() - wait until @socket has something to read (bytes, EOF
 * or an error) or @timeout passes; nothing is consumed.
 *
 * Return: no error when readable; boost::asio::error::timed_out on timeout;
 * otherwise the wait's own error (operation_aborted when the socket's
 * operations were cancelled, e.g. by a draining gateway).
 */
boost::asio::awaitable<boost::system::error_code> readable_within(boost::asio::ip::tcp::socket& socket,
                                                                  std::chrono::steady_clock::duration timeout);

} // namespace xo::gw
