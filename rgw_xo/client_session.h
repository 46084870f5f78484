// One client connection: on the HTTPS listener a TLS handshake first
// (within the header timeout: a client that is slow to say hello is a slow
// client), then reads requests one at a time (so pipelined requests
// are answered in order), hands each to the Relay, logs it, and decides
// whether the connection lives on. The access-log line and the metrics of an
// exchange are recorded in one place, right after it ends. Header reading is
// where the gateway's front-door limits live: the idle timeout between
// requests, the header timeout once a request has started (slow clients), the
// header size limit, and a 400 for anything that is not HTTP/1.x.
//
// Between requests a connection holds no buffer: the relay buffer and the
// read buffers are given back when it goes idle, and it waits for its next
// request's first byte without a read buffer (readable.h). An idle or
// slow-header connection therefore costs a few KiB, whatever
// --relay-buffer-bytes is; each holds a ConnectionLimit slot until it ends.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <string>

#include "rgw_xo/client_stream.h"
#include "rgw_xo/connection_limit.h"
#include "rgw_xo/relay.h"

namespace xo::gw {

class Worker;

class ClientSession {
public:
    /**
     * start() - serve @socket on @worker's thread until the connection ends, holding @slot.
     * @tls: the HTTPS listener's context (the connection starts with a handshake); null for HTTP.
     */
    static void start(Worker& worker, boost::asio::ip::tcp::socket socket, ConnectionLimit::Slot slot,
                      std::shared_ptr<const tls::ServerContext> tls);

    ClientSession(Worker& worker, boost::asio::ip::tcp::socket socket, ConnectionLimit::Slot slot,
                  std::shared_ptr<const tls::ServerContext> tls);
    ~ClientSession();
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    /** on_drain() - the gateway is shutting down: end now if idle. */
    void on_drain();

private:
    static boost::asio::awaitable<void> serve(std::unique_ptr<ClientSession> self);
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<bool> wait_for_request();
    boost::asio::awaitable<ExchangeResult> reject(boost::system::error_code ec, RequestParser& req,
                                                  const std::string& request_id);

    Worker& worker_;
    ConnectionLimit::Slot slot_;
    std::shared_ptr<const tls::ServerContext> tls_; ///< until the handshake ran
    ClientStream stream_;
    boost::beast::flat_buffer buffer_;
    Relay relay_;
    std::string client_ip_;
    std::string client_label_; ///< ip:port for the access log
    bool idle_ = false;
};

} // namespace xo::gw
