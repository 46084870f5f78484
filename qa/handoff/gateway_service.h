// Theory of operation: the test bed gateway's service. Each client
// connection is a coroutine reading request lines "GET <bytes> <seed>\n";
// each request's connection goes to responder (seed mod number of
// responders) through the Offloader and comes back with any bytes of the
// next request the client already sent, or — when the handoff falls back —
// the gateway streams the response itself. Responders whose control channel
// died are reconnected lazily (ResponderSlot). Counters and step timings are
// kept for the daemon to print.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/handoff/offloader.h"
#include "qa/handoff/request.h"
#include "qa/handoff/step_stats.h"

namespace xo::testbed {


/** struct GatewayCounters - what happened to the requests so far. */
struct GatewayCounters {
    std::uint64_t requests = 0, offloads = 0, fallbacks = 0, lost = 0, returns = 0, return_errors = 0;
    std::uint64_t closed_at_responder = 0;
};

/** print_counters() - one "counters ..." line on stdout. */
void print_counters(const GatewayCounters& c);

/**
 * struct ResponderSlot - one configured responder and its current link. A
 * link found dead is replaced by a new connection, at most once per second;
 * meanwhile its requests are served by the gateway.
 */
struct ResponderSlot {
    handoff::ResponderLink::Address address;
    std::shared_ptr<handoff::ResponderLink> link;
    Clock::time_point last_attempt {};
    bool connecting = false;
};

/** Gateway - the service: client sessions and the responders they hand off to. */
class Gateway {
public:
    Gateway(boost::asio::io_context& ioc, handoff::Offloader& offloader, std::shared_ptr<handoff::ControlTls> tls)
        : ioc_(ioc), offloader_(offloader), tls_(std::move(tls)) {}

    std::vector<ResponderSlot> responders;
    GatewayCounters counters;
    StepStats stats;

    /** serve() - read and answer requests on one client connection until it ends. */
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    /** connect() - (re)open the link of responder @index; waits at most 2 s. */
    boost::asio::awaitable<void> connect(std::size_t index);

private:
    /** handle() - serve one request; false when the connection is gone. */
    boost::asio::awaitable<bool> handle(boost::asio::ip::tcp::socket& socket, handoff::Bytes& pending, Request request,
                                        std::string line);

    boost::asio::io_context& ioc_;
    handoff::Offloader& offloader_;
    std::shared_ptr<handoff::ControlTls> tls_;
};

/** accept_clients() - accept client connections on @acceptor and serve each. */
boost::asio::awaitable<void> accept_clients(boost::asio::ip::tcp::acceptor& acceptor, Gateway& gateway);

/** connect_responders() - open every responder's link once, in order. */
boost::asio::awaitable<void> connect_responders(Gateway& gateway);

} // namespace xo::testbed
