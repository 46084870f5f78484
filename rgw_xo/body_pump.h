// Moving HTTP bodies between the client and radosgw without holding them.
//
// Bodies framed by Content-Length — every GET response radosgw sends, and
// PUTs from every S3 SDK including aws-chunked uploads, whose signature frames
// live inside the body — are moved as raw bytes through one reusable buffer:
// no parsing, one copy, and an exact byte count, which is what a later handoff
// of the connection needs to know. Chunked bodies go through Beast's parser
// and serializer, which decode and re-frame them. Either way memory use is one
// buffer per connection, whatever the body's size.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <span>

#include "rgw_xo/framed_body.h"

namespace xo::gw {

/** Which end of a pump failed, if any. */
enum class PumpFault { none, source, sink };

struct PumpResult {
    std::uint64_t bytes = 0;
    PumpFault fault = PumpFault::none;
    boost::system::error_code error;
};

/**
 * pump_exact() - copy exactly @length body bytes from @from to @to.
 * @from_buf: bytes already read from @from (after the header); used first
 *            and consumed, anything past @length stays for the next message.
 * @scratch: the relay buffer.
 * @io_timeout: deadline for each read and each write (progress, not total).
 */
template <typename From, typename To>
boost::asio::awaitable<PumpResult> pump_exact(From& from, boost::beast::flat_buffer& from_buf, To& to,
                                              std::uint64_t length, std::span<char> scratch,
                                              std::chrono::seconds io_timeout);

/**
 * pump_framed() - relay a body whose length the header does not give
 * (chunked, or until EOF) by letting Beast decode it from @parser and
 * re-encode it through @serializer, which must already have written the header.
 */
template <bool isRequest, typename From, typename To>
boost::asio::awaitable<PumpResult>
pump_framed(From& from, boost::beast::flat_buffer& from_buf,
            boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, To& to,
            boost::beast::http::serializer<isRequest, boost::beast::http::buffer_body>& serializer,
            std::span<char> scratch, std::chrono::seconds io_timeout)
{
    namespace http = boost::beast::http;
    using boost::asio::redirect_error;
    using boost::asio::use_awaitable;

    PumpResult result;
    auto& body = parser.get().body();
    while (!serializer.is_done()) {
        if (!parser.is_done()) {
            lend_scratch(body, scratch);
            from.expires_after(io_timeout);
            co_await http::async_read(from, from_buf, parser, redirect_error(use_awaitable, result.error));
            if (result.error == http::error::need_buffer)
                result.error = {};
            if (result.error) {
                result.fault = PumpFault::source;
                co_return result;
            }
            take_scratch(body, scratch, parser.is_done());
        } else {
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        result.bytes += body.size;
        to.expires_after(io_timeout);
        co_await http::async_write(to, serializer, redirect_error(use_awaitable, result.error));
        if (result.error == http::error::need_buffer)
            result.error = {};
        if (result.error) {
            result.fault = PumpFault::sink;
            co_return result;
        }
    }
    co_return result;
}

} // namespace xo::gw
