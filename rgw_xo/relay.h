// One client request relayed to radosgw and its response relayed back.
//
// The Relay owns the connection to radosgw for one client connection and
// keeps it alive across requests. An exchange runs in four steps: send the
// request header (radosgw sees the client's header unchanged but for the
// client-address header, so SigV4 still verifies); send the body, after
// radosgw's 100 Continue when the client asked for one; read radosgw's
// response header (its status and headers are the truth for auth, ACLs,
// preconditions and ranges); then deliver the response body. The last step is
// where a GET will be offloaded: by then radosgw has authorized the request
// and the client has its headers. For a large object the gateway relays the
// first bytes and hands the connection to a responder for the rest
// (GetOffload); when the handoff does not happen the gateway relays the rest
// itself. What the gateway changes in requests and responses for that — its
// own Range, the 206 that becomes a 200, the requests it sends radosgw on
// its own — is the offload shaping's (offload_shaping.h); the relay moves
// the bytes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/handoff/offloader.h"
#include "rgw_xo/byte_range.h"
#include "rgw_xo/client_stream.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/offload_shaping.h"
#include "rgw_xo/relay_buffer.h"
#include "rgw_xo/request_head.h"
#include "rgw_xo/s3_error.h"
#include "rgw_xo/upstream_response.h"

namespace xo::gw {

/** The client side of an exchange: its stream, unread bytes, and identity. */
struct ClientSide {
    ClientStream& stream;
    boost::beast::flat_buffer& buffer; ///< read-ahead (plaintext)
    std::string_view address;    ///< client IP, passed to radosgw
    std::string_view request_id; ///< the gateway's id, for errors it answers itself
    const bool& draining;        ///< the gateway is shutting down: close after this request
};

/** The access-log outcome of an exchange whose response radosgw gave and the gateway relayed. */
inline constexpr std::string_view relayed_outcome = "relayed";

struct OffloadRecord {
    OffloadOutcome outcome = OffloadOutcome::none;
    std::string_view reason; ///< why relayed_ineligible, fallback (a short label)
    std::optional<handoff::HandoffTimes> handoff{}; ///< where the handoff's time went, when there was one
    std::uint64_t responder_bytes = 0; ///< body bytes a responder sent (the access log's share of bytes_sent)
};

struct ExchangeResult {
    unsigned status = 0;        ///< status the client got (0: none)
    std::uint64_t bytes_in = 0; ///< request body bytes from the client
    std::uint64_t bytes_out = 0;
    bool keep_alive = false;    ///< the client connection can take another request
    std::string_view outcome = relayed_outcome;
    OffloadRecord offload {};
};

class GetOffload;

class Relay {
public:
    /** Relay() - relay for one client connection; @offload is null when offload is off. */
    Relay(const GatewayConfig& config, const boost::asio::any_io_executor& executor, GetOffload* offload);

    /**
     * exchange() - relay the request whose header @req has parsed, and its response.
     *
     * Never throws for network or protocol errors: failures before the client
     * has seen a response become S3 errors (503 when radosgw is unreachable,
     * 502 when it answers nonsense); failures after that close the connection.
     */
    boost::asio::awaitable<ExchangeResult> exchange(ClientSide client, RequestParser& req);

    /** release_buffers() - between exchanges: give back the memory only an exchange needs. */
    void release_buffers()
    {
        scratch_.release();
        if (upstream_buf_.size() == 0)
            upstream_buf_.shrink_to_fit();
    }

private:
    struct Exchange;

    boost::asio::awaitable<bool> send_request(Exchange& x);
    boost::asio::awaitable<bool> await_continue(Exchange& x);
    boost::asio::awaitable<bool> receive_response_header(Exchange& x);
    boost::asio::awaitable<void> deliver_response(Exchange& x);
    boost::asio::awaitable<bool> undo_narrowing(Exchange& x);
    std::optional<Split> shape_response(Exchange& x);
    boost::asio::awaitable<void> offload_rest(Exchange& x, const Split& split);
    boost::asio::awaitable<bool> relay_rest(Exchange& x, const Split& split);
    boost::asio::awaitable<void> answer_error(Exchange& x, const S3Error& err);
    boost::asio::awaitable<void> answer_upstream_failure(Exchange& x, const boost::system::error_code& ec);

    boost::asio::awaitable<bool> ensure_upstream();
    boost::asio::awaitable<bool> upstream_readable_within(std::chrono::milliseconds timeout);
    UpstreamLink upstream_link() { return UpstreamLink{upstream_, upstream_buf_, config_.io_timeout}; }
    void close_upstream();

    const GatewayConfig& config_;
    GetOffload* offload_;
    boost::beast::tcp_stream upstream_;
    boost::beast::flat_buffer upstream_buf_;
    bool upstream_open_ = false;
    RelayBuffer scratch_; ///< the relay buffer (body_pump.h), held only during exchanges
};

} // namespace xo::gw
