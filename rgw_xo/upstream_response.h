// Requests of the gateway's own on the relay's connection to radosgw, and
// reading radosgw's answers.
//
// Theory of operation: a Relay keeps one connection to radosgw per client
// connection (relay.h). Most of what goes over it is the client's request;
// the offload shaping (offload_shaping.h) sometimes sends one of its own on
// the same connection (a retry without the gateway's Range, the rest of a
// narrowed GET). Both read radosgw's answer the same way: a fresh Beast
// response parser per response, without a body limit (bodies are streamed,
// never buffered whole), with a bound on the header; informational (1xx)
// responses are skipped because any 100 Continue the client waits for was
// forwarded already. Every read and write is bounded by the link's timeout.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <optional>
#include <span>

namespace xo::gw {

using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;
using UpstreamRequest = boost::beast::http::request<boost::beast::http::buffer_body>;

/** struct UpstreamLink - the connection to radosgw, its read-ahead, and the bound on each operation. */
struct UpstreamLink {
    boost::beast::tcp_stream& stream;
    boost::beast::flat_buffer& buffer;
    std::chrono::steady_clock::duration timeout;
};

/** new_response_parser() - a fresh parser in @res; @head: the response answers a HEAD (no body follows). */
void new_response_parser(std::optional<ResponseParser>& res, bool head);

/** read_final_header() - read response headers into @res until a final (non-1xx) one arrives. */
boost::asio::awaitable<boost::system::error_code> read_final_header(UpstreamLink up, std::optional<ResponseParser>& res,
                                                                    bool head);

/**
 * send_and_read_header() - send @req's header (it has no body) and read the
 * final response header into a fresh parser in @res.
 */
boost::asio::awaitable<boost::system::error_code> send_and_read_header(UpstreamLink up, UpstreamRequest& req,
                                                                       std::optional<ResponseParser>& res, bool head);

/** discard_body() - read the (small) body of @res through @scratch and drop it. Return: false on a read error. */
boost::asio::awaitable<bool> discard_body(UpstreamLink up, ResponseParser& res, std::span<char> scratch);

} // namespace xo::gw
