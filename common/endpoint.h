// Endpoints as operators write them: "198.18.0.2:80", "[2001:db8::1]:80",
// "localhost" is deliberately not accepted — daemons bind and connect to
// literal addresses so that startup never waits on a resolver. Endpoint and
// Mac are the one type of each every library uses.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xo {

using Endpoint = boost::asio::ip::tcp::endpoint;
using Mac = std::array<std::uint8_t, 6>;

/**
 * parse_endpoint() - parse "IPv4:port" or "[IPv6]:port".
 * @text: the endpoint as written.
 * @error: set to a reason when parsing fails.
 *
 * Return: the endpoint, or nullopt with @error set.
 */
std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text, std::string& error);

/** to_string() - endpoint as "a.b.c.d:port" or "[v6]:port". */
std::string to_string(const boost::asio::ip::tcp::endpoint& ep);

/**
 * listen_on() - open, bind and listen @acceptor on @ep (SO_REUSEADDR, and
 * SO_REUSEPORT when @share_port, so several acceptors split the connections).
 *
 * Return: the error of the step that failed, without throwing.
 */
boost::system::error_code listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                    const boost::asio::ip::tcp::endpoint& ep, bool share_port = false);

} // namespace xo
