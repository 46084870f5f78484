// Theory of operation: what xo-responder plugs into the handoff engine's
// ConnectionHost (common/handoff/connection_host.h).
//
// The admission runs on OFFER, before any socket is restored, and answers
// within the gateway's READY deadline: decode the serve plan (the OFFER's app
// payload), verify its ticket for the very flow being offered (client and
// public endpoints as the TCP state names them) with the cluster key, then
// read and vet the head object (servable.h). A bad plan or ticket is refused
// as bad_ticket, an object radosgw would serve differently as unsupported,
// a cluster error as unspecified; the gateway relays those GETs itself. What
// the admission read travels to the application in HostedConnection::admitted.
//
// The application runs after GO with the client's socket: it streams the
// plan's range (the head bytes first, then RADOS reads pipelined ahead of
// the socket) and hands the connection back with the client bytes the
// gateway had read ahead; the responder reads nothing from the client, so
// its next request travels back in the socket's receive queue. An error
// after GO is returned as such: the host resets the connection at once,
// since the client has part of a response and no way to resynchronise.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <rados/librados.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "connection_host.h"
#include "responder_metrics.h"
#include "servable.h"

namespace xo::rsp {

class ResponderService {
public:
    /**
     * ResponderService() - serve plans from @rados.
     * @executor:   the io_context the ConnectionHost runs on.
     * @ticket_key: the cluster key's secret (PresharedKey::secret()).
     * @rados, @metrics: outlive the service.
     */
    ResponderService(boost::asio::any_io_executor executor, librados::Rados& rados, std::vector<std::uint8_t> ticket_key,
                     ReadSettings reads, std::chrono::seconds write_timeout, ResponderMetrics& metrics);

    /** admission() - the ConnectionHost admission hook; the service outlives it. */
    handoff::Admission admission();

    /** application() - the ConnectionHost application; the service outlives it. */
    handoff::Application application();

private:
    using Verdict = std::variant<std::any, handoff::Rejection>;

    /** admit() - the admission for one OFFER's @payload and @ticket on @flow (all owned by the frame). */
    boost::asio::awaitable<Verdict> admit(handoff::Bytes payload, handoff::Bytes ticket, handoff::OfferedFlow flow);

    /** serve() - the application: stream the admitted object to @conn's client. */
    boost::asio::awaitable<Result<handoff::HandBack>> serve(handoff::HostedConnection& conn);

    /** refuse() - count and log a refusal, and say it to the host. */
    Verdict refuse(handoff::RefuseReason reason, std::string text);

    boost::asio::any_io_executor executor_;
    librados::Rados& rados_;
    std::vector<std::uint8_t> ticket_key_;
    ReadSettings reads_;
    std::chrono::seconds write_timeout_;
    ResponderMetrics& metrics_;
};

} // namespace xo::rsp
