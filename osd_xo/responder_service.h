// Theory of operation: what xo-responder plugs into the handoff engine's
// ConnectionHost (common/handoff/connection_host.h).
//
// The admission runs on OFFER, before any socket is restored, and answers
// within the gateway's READY deadline: decode the serve plan (the OFFER's app
// payload), verify its ticket for the very flow being offered (client and
// public endpoints as the TCP state names them) with the ticket keys (any
// key of the --ticket-key file, read again when the file changes), record it
// in the replay cache (ticket_replay.h: a ticket is used once), then read and
// vet the head object (servable.h). A bad plan or ticket is refused as
// bad_ticket, a ticket seen before as replayed, a full replay cache as busy,
// an object radosgw would serve differently as unsupported, a cluster error
// as unspecified; the gateway relays those GETs itself. What
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
#include <functional>
#include <optional>
#include <span>
#include <memory>
#include <vector>

#include "common/handoff/connection_host.h"
#include "common/handoff/psk.h"
#include "common/handoff/serve_plan.h"
#include "osd_xo/responder_metrics.h"
#include "osd_xo/servable.h"
#include "osd_xo/ticket_replay.h"

namespace xo::rsp {

/** TicketKeys - the ticket keys accepted now (e.g. KeyringFile::keys(), which follows the file). */
using TicketKeys = std::function<Result<std::shared_ptr<const handoff::Keyring>>()>;

/// Tickets remembered at most (ticket_replay.h): over ticket_max_validity (14 s), 4,600 offloads a second.
inline constexpr std::size_t replay_cache_entries = 65536;

class ResponderService {
public:
    /**
     * ResponderService() - serve plans from @rados.
     * @executor:    the io_context the ConnectionHost runs on.
     * @ticket_keys: asked for the accepted ticket keys at each OFFER.
     * @rados, @metrics: outlive the service.
     * @replay_entries: the replay cache's capacity.
     */
    ResponderService(boost::asio::any_io_executor executor, librados::Rados& rados, TicketKeys ticket_keys,
                     ReadSettings reads, std::chrono::seconds write_timeout, ResponderMetrics& metrics,
                     std::size_t replay_entries = replay_cache_entries);

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

    /** check_ticket() - verify @ticket for @payload on @tuple and use it up; a refusal if not. */
    std::optional<Verdict> check_ticket(std::span<const std::uint8_t> ticket, const handoff::FlowTuple& tuple,
                                        std::span<const std::uint8_t> payload);

    boost::asio::any_io_executor executor_;
    librados::Rados& rados_;
    TicketKeys ticket_keys_;
    ReplayCache replays_;
    ReadSettings reads_;
    std::chrono::seconds write_timeout_;
    ResponderMetrics& metrics_;
};

} // namespace xo::rsp
