// Theory of operation: the responder side of a connection handoff.
//
// A ConnectionHost serves the control channels of authenticated gateways
// (TLS 1.3 PSK, control_tls.h). An OFFER beyond the connection limit is
// refused as busy, one whose TCP state names addresses the host may not use
// as bad_address (host_addresses.h: the rewrite's source must be a
// configured gateway address, the client a remote host); every other OFFER
// becomes one flow coroutine:
//   ask the admission whether the application will serve it (it may do
//   slow work here, e.g. read the object, since nothing is restored yet,
//   and keep what it learned for the application) — REFUSE with its reason
//   if not; restore the socket bound to our own address with a kernel-chosen port
//   (still in repair mode, silent); install the egress rewrite
//   (own ip:port' → gateway ip:port, keyed by the full 4-tuple); answer READY
//   with the port — or REFUSE with the reason when any of it fails;
//   on GO leave repair mode (the rewrite exists, so the window probe already
//   carries the gateway's address) and run the application with the socket,
//   the bytes the gateway read ahead and the opaque payload. If GO does not
//   come in time the restored socket is closed silently, the rewrite removed,
//   and the gateway told with a resumable ABORT: nothing was sent from here,
//   so it may take the connection back from the state it saved.
// While the application runs, a companion coroutine sends PROGRESS every
// progress_interval with the bytes the client has acknowledged (TCP_INFO),
// which the gateway uses to tell a long transfer from a stuck one; if the
// gateway ABORTs meanwhile, it shuts the socket down so the application's
// next write fails and the connection ends here too.
// When the application's coroutine finishes it says what to hand back, and
// the host returns the connection: wait (bounded) until the client has
// acknowledged what was sent; a last PROGRESS; RETURN_PREPARE; await the gateway's READY
// (its flow is blocked again); save the state; RETURN; close the socket in
// repair mode; remove the rewrite; await DONE. ABORT or a timeout before GO
// closes the restored socket silently. A client that closed its side while
// the responder held the connection (CLOSE_WAIT: it cannot be saved) is
// finished here instead, checked before RETURN_PREPARE and again once the
// gateway blocked the flow: DONE to the gateway (which redirects the flow to
// us again), FIN through the rewrite, wait (bounded) until the client
// acknowledged it, DONE again (the gateway removes its entry). DONE from the
// responder is our addition to the protocol: "the connection ends here".
// An application error, or a failure
// during the return, closes the connection with RST (through the rewrite,
// so the client sees it at once) and tells the gateway ABORT.
//
// Each flow's rewrite entry and mailbox are owned by the flow's coroutine,
// so they go on every path. hosted() counts connections currently held.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <any>
#include <memory>
#include <set>
#include <variant>

#include "common/handoff/control_channel.h"
#include "common/metrics.h"
#include "common/handoff/flow_mailbox.h"
#include "common/handoff/handoff_messages.h"
#include "common/handoff/host_addresses.h"
#include "common/handoff/steering.h"
#include "common/unique_fd.h"

namespace xo::handoff {

/** struct HostTimes - where one handoff's time went, on the responder. */
struct HostTimes {
    Clock::duration restore {}, rewrite {}, leave_repair {};
};

/** struct HostedConnection - a client connection handed to the application. */
struct HostedConnection {
    std::uint64_t flow = 0;
    UniqueFd socket;   ///< blocking, out of repair mode; the application keeps it open
    Bytes read_ahead;  ///< client bytes the gateway read but did not consume
    Bytes app_payload; ///< opaque, from the gateway
    Bytes ticket;      ///< what the gateway authorized for this flow
    HostTimes times;
    std::any admitted; ///< what the admission kept for the application
};

/** struct Rejection - an admission's no: the reason code and text sent in REFUSE. */
struct Rejection {
    RefuseReason reason = RefuseReason::unspecified;
    std::string text;
};

/** struct OfferedFlow - the connection an OFFER would move, for the admission. */
struct OfferedFlow {
    boost::asio::ip::tcp::endpoint client;
    boost::asio::ip::tcp::endpoint gateway; ///< the public endpoint the client connected to
};

/**
 * Admission - decides, before anything is restored, whether an OFFER is served.
 *
 * Return: anything the application will find in HostedConnection::admitted,
 * or the Rejection to refuse with.
 */
using Admission =
    std::function<boost::asio::awaitable<std::variant<std::any, Rejection>>(const Offer&, const OfferedFlow&)>;

/** admit_all() - the admission that accepts every OFFER. */
Admission admit_all();

/** struct HandBack - what the application returns with the connection. */
struct HandBack {
    Bytes read_ahead;  ///< client bytes read from the socket but not consumed
    Bytes app_payload; ///< opaque, for the gateway
};

/**
 * Application - serves one hosted connection.
 *
 * Return: what to hand back to the gateway with the connection, or an error
 * to close the connection instead.
 */
using Application = std::function<boost::asio::awaitable<Result<HandBack>>(HostedConnection&)>;

/** struct HostLimits - how long the responder waits, and how much it takes on. */
struct HostLimits {
    Clock::duration reply = std::chrono::seconds(2); ///< READY after RETURN_PREPARE, sends
    Clock::duration go = std::chrono::seconds(2);    ///< GO after READY
    Clock::duration drain = std::chrono::seconds(2); ///< client ACKs before a return
    /// PROGRESS while serving; well below the gateway's stall timeout (10 s by default).
    Clock::duration progress_interval = std::chrono::seconds(1);
    std::size_t max_connections = 4096;              ///< beyond this, OFFERs are refused as busy
};

/** What a responder's control listener counts. */
struct ControlCounters {
    metrics::Counter* accept_backoffs = nullptr; ///< pauses after a failed accept (accept_backoff.h)
    metrics::Counter* rejected = nullptr;        ///< peers that proved no key, or a withdrawn one
};

class ConnectionHost {
public:
    /**
     * ConnectionHost() - host handed-off connections.
     * @rewrites: the responder data plane's source rewrites (outlive the host).
     * @addresses: the address restored sockets bind to, and the gateway
     *             addresses their rewrites may name (host_addresses.h).
     * @app: runs each connection after GO.
     * @admit: vets each OFFER first.
     */
    ConnectionHost(SourceRewrites& rewrites, HostAddresses addresses, Application app,
                   HostLimits limits = {}, Admission admit = admit_all());

    /**
     * accept_gateways() - accept and serve gateway control channels forever.
     * @acceptor: listening on the control endpoint.
     * @tls: a server-role ControlTls.
     * @counters: where the control listener counts; any may be null.
     *
     * A connection that fails authentication is dropped; others go on. Out of
     * descriptors, accepting pauses instead of spinning.
     */
    boost::asio::awaitable<void> accept_gateways(boost::asio::ip::tcp::acceptor& acceptor,
                                                 std::shared_ptr<ControlTls> tls, ControlCounters counters = {});

    /** serve() - handle OFFERs on @channel until it ends, or its key is withdrawn (counted in @rejected). */
    boost::asio::awaitable<void> serve(std::unique_ptr<ControlChannel> channel, metrics::Counter* rejected);

    /** hosted() - connections restored here and not yet returned or closed. */
    std::size_t hosted() const { return hosted_; }

    /**
     * cut_all() - end every connection the application is serving, for a
     * shutdown: each is shut down and reset (its rewrite still exists, so the
     * client sees the RST at once) as its application fails. The data plane
     * must stay attached until hosted() is 0.
     */
    void cut_all();

private:
    struct Session;
    struct PreparedFlow;
    boost::asio::awaitable<std::variant<PreparedFlow, Refuse>> prepare(const Offer& offer);
    boost::asio::awaitable<void> host_flow(std::shared_ptr<Session> session, Offer offer);
    boost::asio::awaitable<Result<void>> finish_here(Session& session, std::uint64_t flow, int fd);
    struct Reporter;
    boost::asio::awaitable<void> report_progress(std::shared_ptr<Session> session, std::uint64_t flow, int fd,
                                                 std::shared_ptr<Reporter> reporter);
    boost::asio::awaitable<Result<void>> give_back(Session& session, std::uint64_t flow, UniqueFd& socket,
                                                   HandBack back, FlowMailbox& mailbox);

    SourceRewrites& rewrites_;
    HostAddresses addresses_;
    Application app_;
    HostLimits limits_;
    Admission admit_;
    std::size_t hosted_ = 0;
    std::set<int> serving_; ///< sockets the application holds now
};

} // namespace xo::handoff
