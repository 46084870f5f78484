#include "qa/handoff/pattern_writer.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <vector>

#include "qa/handoff/pattern.h"

namespace xo::testbed {

namespace {
constexpr std::size_t chunk_size = 256 * 1024;
} // namespace

boost::asio::awaitable<Result<void>> write_pattern(boost::asio::ip::tcp::socket& socket, Request request)
{
    std::vector<std::uint8_t> chunk(std::min<std::uint64_t>(chunk_size, request.bytes));
    for (std::uint64_t offset = 0; offset < request.bytes;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), request.bytes - offset));
        fill_pattern(request.seed, offset, std::span(chunk).first(n));
        boost::system::error_code ec;
        co_await boost::asio::async_write(socket, boost::asio::buffer(chunk.data(), n),
                                          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec)
            co_return Error{"writing the response: " + ec.message(), ec.value()};
        offset += n;
    }
    co_return Result<void>();
}

} // namespace xo::testbed
