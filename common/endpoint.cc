#include "common/endpoint.h"

#include <sys/socket.h>

#include <charconv>

namespace xo {

std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text, std::string& error)
{
    std::string_view host, port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "expected [IPv6]:port";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = "expected IP:port";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "IPv6 addresses must be written as [addr]:port";
            return std::nullopt;
        }
    }

    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
        error = "bad port '" + std::string(port) + "'";
        return std::nullopt;
    }

    boost::system::error_code addr_ec;
    auto addr = boost::asio::ip::make_address(std::string(host), addr_ec);
    if (addr_ec) {
        error = "bad address '" + std::string(host) + "'";
        return std::nullopt;
    }
    return boost::asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(value));
}

std::string to_string(const boost::asio::ip::tcp::endpoint& ep)
{
    auto addr = ep.address();
    std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    return host + ":" + std::to_string(ep.port());
}

boost::system::error_code listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                    const boost::asio::ip::tcp::endpoint& ep, bool share_port)
{
    using boost::asio::ip::tcp;
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec)
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && share_port) {
        int one = 1;
        if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            ec.assign(errno, boost::system::system_category());
    }
    if (!ec)
        acceptor.bind(ep, ec);
    if (!ec)
        acceptor.listen(tcp::acceptor::max_listen_connections, ec);
    return ec;
}

} // namespace xo
