// libFuzzer target for what the gateway does with a client's bytes before
// radosgw sees them (rgw_xo/request_head.h).
//
// Theory of operation: the input is a client's byte stream, cut into the
// reads a socket would deliver. It runs the gateway's path on them, request
// after request as on a kept-alive connection: Beast's request parser under
// the gateway's limits (limit_request_head) reads the head (with the
// synchronous read_header, which runs the same parse loop as the
// asynchronous one ClientSession uses) and check_request_head() vets it;
// then comes either the gateway's 400 (the S3 error document, which echoes
// the target) or prepare_request() and the head as radosgw receives it; a
// chunked body is decoded by the parser and
// re-framed by the serializer in pump_framed()'s read-write loop, through
// its own buffer steps (lend_scratch, take_scratch), and a Content-Length
// body is passed on as raw bytes, as pump_exact() does. Beyond no crash, no
// overread, no leak and no unbounded allocation, it checks:
//   - a head that fails is either a syntax error (answered 400, the target
//     escaped in the document) or an input that ended early;
//   - the head sent upstream parses again, as the same method, target,
//     version and keep-alive, and with the body framing the gateway read the
//     body with and its serializer writes (the gateway cannot be used to make
//     radosgw see a different request: no request smuggling), and it carries
//     exactly one client-address header, the gateway's;
//   - a narrowed GET asks radosgw for exactly the first threshold bytes of
//     the client's range;
//   - a re-framed chunked body decodes upstream to the bytes the client sent.
// The first input byte picks the read size, the header limit, the offload
// threshold and the relay buffer size, so short and long reads, both limits
// and bodies split over many buffers are explored.
//
// Build and run as handoff_decode_fuzz.cc describes, with the target
// xo_http_request_fuzz; seeds are real requests (qa/fuzz/regressions/).
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rgw_xo/framed_body.h"
#include "rgw_xo/request_head.h"
#include "rgw_xo/s3_error.h"

namespace {

namespace http = boost::beast::http;
using boost::system::error_code;

constexpr std::string_view addr_header = "X-XO-Client-Addr";
constexpr std::string_view client_address = "198.18.0.100";
constexpr int max_requests = 8; // per input: pipelined requests on one connection

/** A client socket: the input, at most @chunk bytes per read, then EOF. */
class ClientBytes {
public:
    ClientBytes(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

    template <class Buffers>
    std::size_t read_some(const Buffers& buffers, error_code& ec)
    {
        if (rest_.empty()) {
            ec = boost::asio::error::eof;
            return 0;
        }
        auto n = boost::asio::buffer_copy(buffers, boost::asio::buffer(rest_.data(), std::min(rest_.size(), chunk_)));
        rest_.remove_prefix(n);
        ec = {};
        return n;
    }
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers)
    {
        error_code ec;
        return read_some(buffers, ec);
    }
    std::string_view take(std::size_t n)
    {
        auto taken = rest_.substr(0, n);
        rest_.remove_prefix(taken.size());
        return taken;
    }

private:
    std::string_view rest_;
    std::size_t chunk_;
};

/** radosgw's socket: collects what the gateway writes. */
struct Upstream {
    std::string bytes;
    template <class Buffers>
    std::size_t write_some(const Buffers& buffers, error_code& ec)
    {
        ec = {};
        std::size_t n = 0;
        for (auto b : boost::beast::buffers_range_ref(buffers)) {
            bytes.append(static_cast<const char*>(b.data()), b.size());
            n += b.size();
        }
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& buffers)
    {
        error_code ec;
        return write_some(buffers, ec);
    }
};

void check(bool ok)
{
    if (!ok)
        std::abort();
}

/** The gateway's 400 for a head that is not HTTP: the target must stay inside its element. */
void check_rejection(const error_code& ec, const xo::gw::RequestParser& req)
{
    const auto& err = ec == http::error::header_limit ? xo::gw::errors::header_too_large : xo::gw::errors::bad_request;
    std::string_view target = req.is_header_done() ? req.get().target() : std::string_view();
    auto res = xo::gw::make_error_response(err, target, "req-1");
    const std::string& body = res.body();
    auto open = body.find("<Resource>");
    if (open == std::string::npos) {
        check(target.empty());
        return;
    }
    auto inside = std::string_view(body).substr(open + 10);
    check(inside.find('<') == inside.find("</Resource>")); // nothing in the target opened an element
}

/** The head radosgw receives, parsed again: the same request as the one the gateway parsed. */
void check_forwarded_head(const std::string& wire, const xo::gw::RequestParser& sent_parser)
{
    http::request_parser<http::empty_body> again;
    again.header_limit(static_cast<std::uint32_t>(wire.size()));
    again.body_limit(std::numeric_limits<std::uint64_t>::max());
    again.eager(false);
    error_code ec;
    again.put(boost::asio::buffer(wire), ec);
    check(!ec && again.is_header_done());
    const auto& m = again.get();
    const auto& sent = sent_parser.get();
    check(m.method_string() == sent.method_string() && m.target() == sent.target() && m.version() == sent.version());
    check(m.keep_alive() == sent.keep_alive());
    // The framing the gateway read the body with, the one the serializer
    // writes it with, and the one radosgw will read it with: all the same.
    check(again.chunked() == sent_parser.chunked() && sent.chunked() == sent_parser.chunked());
    check(again.content_length() == sent_parser.content_length());
    check(std::distance(m.begin(), m.end()) == std::distance(sent.begin(), sent.end()));
    check(m.count(addr_header) == 1 && m[addr_header] == client_address);
}

/** pump_framed()'s loop, synchronously; the upstream copy must decode to the same bytes. */
bool relay_chunked_body(ClientBytes& client, boost::beast::flat_buffer& buffer, xo::gw::RequestParser& req,
                        http::request_serializer<http::buffer_body>& writer, Upstream& upstream, std::size_t scratch_size)
{
    std::vector<char> scratch(scratch_size);
    std::string decoded;
    auto& body = req.get().body();
    while (!writer.is_done()) {
        if (!req.is_done()) {
            xo::gw::lend_scratch(body, scratch);
            error_code ec;
            http::read(client, buffer, req, ec);
            if (ec == http::error::need_buffer)
                ec = {};
            if (ec) {
                check(xo::gw::is_http_syntax_error(ec) || ec == http::error::partial_message);
                return false;
            }
            decoded.append(scratch.data(), xo::gw::take_scratch(body, scratch, req.is_done()));
        } else {
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        error_code ec;
        http::write(upstream, writer, ec);
        if (ec == http::error::need_buffer)
            ec = {};
        check(!ec);
    }

    http::request_parser<http::string_body> again;
    again.header_limit(static_cast<std::uint32_t>(upstream.bytes.size()));
    again.body_limit(std::numeric_limits<std::uint64_t>::max());
    again.eager(true);
    error_code ec;
    auto wire = boost::asio::buffer(upstream.bytes);
    while (!again.is_done()) {
        auto used = again.put(wire, ec);
        if (ec || used == 0)
            break;
        wire += used;
    }
    check(!ec && again.is_done() && wire.size() == 0 && again.get().body() == decoded);
    return true;
}

/** One request on the connection. Return: whether the connection takes another. */
bool one_request(ClientBytes& client, boost::beast::flat_buffer& buffer, std::uint8_t knobs)
{
    const std::size_t header_limit = knobs & 0x10 ? 1024 : 64 * 1024;
    const std::optional<std::uint64_t> threshold =
        knobs & 0x20 ? std::nullopt : std::optional<std::uint64_t>(knobs & 0x40 ? 1 : 1024 * 1024);
    const std::size_t scratch_size = knobs & 0x80 ? 7 : 64 * 1024;

    xo::gw::RequestParser req;
    xo::gw::limit_request_head(req, header_limit);
    error_code ec;
    http::read_header(client, buffer, req, ec);
    if (!ec)
        ec = xo::gw::check_request_head(req);
    if (ec) {
        if (xo::gw::is_http_syntax_error(ec))
            check_rejection(ec, req);
        else
            check(ec == http::error::end_of_stream || ec == http::error::partial_message);
        return false;
    }

    auto& head = req.get();
    auto prepared = xo::gw::prepare_request(head, addr_header, client_address, threshold);
    if (prepared.narrowed) {
        auto range = xo::gw::parse_range_request(head[http::field::range]);
        check(prepared.object && range && range->first == prepared.narrowed->first && range->last &&
              *range->last - range->first <= *threshold - 1);
    }

    Upstream upstream;
    http::request_serializer<http::buffer_body> writer(head);
    http::write_header(upstream, writer, ec);
    check(!ec);
    check_forwarded_head(upstream.bytes, req);

    if (!req.is_done()) {
        if (auto length = req.content_length()) {
            std::size_t from_buffer = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), *length));
            buffer.consume(from_buffer);
            std::uint64_t rest = *length - from_buffer;
            if (client.take(static_cast<std::size_t>(std::min<std::uint64_t>(rest, SIZE_MAX))).size() != rest)
                return false; // the client hung up inside its body
        } else if (!relay_chunked_body(client, buffer, req, writer, upstream, scratch_size)) {
            return false;
        }
    }
    return head.keep_alive();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t knobs = data[0];
    const std::size_t chunk = (knobs & 0x0f) == 0 ? 16 * 1024 : (knobs & 0x0f) * 3;
    ClientBytes client(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), chunk);
    boost::beast::flat_buffer buffer;
    for (int i = 0; i < max_requests && one_request(client, buffer, knobs); ++i) {
    }
    return 0;
}
