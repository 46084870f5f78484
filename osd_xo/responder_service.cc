#include "osd_xo/responder_service.h"

#include <boost/asio/ip/tcp.hpp>

#include <optional>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/handoff/serve_plan.h"
#include "common/handoff/socket_ops.h"
#include "osd_xo/socket_sink.h"
#include "common/tls/direction_state.h"
#include "osd_xo/tls_sink.h"

namespace xo::rsp {

namespace asio = boost::asio;
using handoff::RefuseReason;

namespace {

/** seconds() - @d as Prometheus wants durations. */
double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

} // namespace

ResponderService::ResponderService(asio::any_io_executor executor, librados::Rados& rados, TicketKeys ticket_keys,
                                   ReadSettings reads, std::chrono::seconds write_timeout, ResponderMetrics& metrics,
                                   std::size_t replay_entries)
    : executor_(std::move(executor)), rados_(rados), ticket_keys_(std::move(ticket_keys)),
      replays_(replay_entries, handoff::ticket_max_validity), reads_(reads), write_timeout_(write_timeout), metrics_(metrics)
{
}

handoff::Admission ResponderService::admission()
{
    // The host passes a temporary OfferedFlow by reference: copy what the
    // coroutine needs into its own frame before the first suspension.
    return [this](const handoff::Offer& offer, const handoff::OfferedFlow& flow) {
        return admit(offer.app_payload, offer.ticket, flow);
    };
}

handoff::Application ResponderService::application()
{
    return [this](handoff::HostedConnection& conn) { return serve(conn); };
}

ResponderService::Verdict ResponderService::refuse(RefuseReason reason, std::string text)
{
    switch (reason) {
    case RefuseReason::bad_ticket: metrics_.refused_bad_ticket.add(); break;
    case RefuseReason::replayed: metrics_.refused_replayed.add(); break;
    case RefuseReason::busy: metrics_.refused_replay_cache_full.add(); break; // the admission's only busy
    case RefuseReason::unsupported: metrics_.refused_unsupported.add(); break;
    default: metrics_.refused_error.add(); break;
    }
    log::info("refusing offer: ", text);
    return handoff::Rejection{reason, std::move(text)};
}

std::optional<ResponderService::Verdict> ResponderService::check_ticket(std::span<const std::uint8_t> ticket,
                                                                       const handoff::FlowTuple& tuple,
                                                                       std::span<const std::uint8_t> payload)
{
    auto keys = ticket_keys_();
    if (!keys)
        return refuse(RefuseReason::bad_ticket, "no ticket keys: " + keys.error().message);
    auto mac = handoff::verify_ticket(**keys, ticket, tuple, payload);
    if (!mac)
        return refuse(RefuseReason::bad_ticket, "ticket for " + tuple.client + ": " + mac.error().message);
    switch (replays_.admit(*mac)) {
    case ReplayCache::Seen::fresh:
        return std::nullopt;
    case ReplayCache::Seen::replayed:
        return refuse(RefuseReason::replayed, "ticket for " + tuple.client + " was used before");
    case ReplayCache::Seen::full:
        break;
    }
    return refuse(RefuseReason::busy, "ticket replay cache full (" + std::to_string(replays_.size()) +
                                          " tickets of the last " +
                                          std::to_string(handoff::ticket_max_validity.count()) + " s)");
}

asio::awaitable<ResponderService::Verdict> ResponderService::admit(handoff::Bytes payload, handoff::Bytes ticket,
                                                                   handoff::OfferedFlow flow)
{
    auto plan = handoff::decode_plan(payload);
    tls::WipeOnExit wipe_payload{payload};
    if (!plan)
        co_return refuse(RefuseReason::bad_ticket, "bad serve plan: " + plan.error().message);
    tls::WipeOnExit wipe_state{plan->tls_tx};
    if (!plan->tls_tx.empty()) {
        auto state = tls::decode_direction_state(plan->tls_tx);
        auto sealer = state ? tls::Sealer::make(std::move(*state)) : Result<tls::Sealer>(state.error());
        if (!sealer)
            co_return refuse(RefuseReason::unsupported, "TLS state: " + sealer.error().message);
    }
    handoff::FlowTuple tuple{to_string(flow.client), to_string(flow.gateway)};
    if (auto no = check_ticket(ticket, tuple, payload))
        co_return std::move(*no);
    auto started = std::chrono::steady_clock::now();
    // Called apart from the co_await: GCC 12 destroys some temporaries of a
    // co_await expression twice.
    auto preparing = prepare_object(executor_, rados_, std::move(*plan), reads_);
    Prepared prepared = co_await std::move(preparing);
    metrics_.head_read_seconds.observe(seconds(std::chrono::steady_clock::now() - started));
    if (auto* no = std::get_if<Refusal>(&prepared))
        co_return refuse(no->reason, std::move(no->text));
    auto object = std::get<std::shared_ptr<ServableObject>>(std::move(prepared));
    co_return std::any(std::move(object));
}

asio::awaitable<Result<handoff::HandBack>> ResponderService::serve(handoff::HostedConnection& conn)
{
    auto* admitted = std::any_cast<std::shared_ptr<ServableObject>>(&conn.admitted);
    if (!admitted || !*admitted)
        co_return Error{"flow " + std::to_string(conn.flow) + " was not admitted by this service", EINVAL};
    std::shared_ptr<ServableObject> object = std::move(*admitted);
    // HTTPS: records sealed with the connection's send state (checked at admission).
    std::optional<tls::Sealer> sealer;
    if (!object->plan.tls_tx.empty()) {
        tls::WipeOnExit wipe{object->plan.tls_tx};
        auto state = tls::decode_direction_state(object->plan.tls_tx);
        auto made = state ? tls::Sealer::make(std::move(*state)) : Result<tls::Sealer>(state.error());
        if (!made)
            co_return made.error();
        sealer.emplace(std::move(*made));
    }
    auto ends = handoff::socket_endpoints(conn.socket.get());
    if (!ends)
        co_return ends.error();
    asio::ip::tcp::socket socket(executor_);
    boost::system::error_code ec;
    socket.assign(ends->local.protocol(), conn.socket.get(), ec);
    if (ec)
        co_return Error{"adopting the client socket: " + ec.message(), ec.value()};
    conn.socket.release(); // the asio socket owns it until it is handed back below

    // Object bytes are counted where they are still object bytes: before sealing.
    SocketSink sink(socket, write_timeout_, sealer ? nullptr : &metrics_.sent_body_bytes);
    std::optional<TlsSink> tls_sink;
    if (sealer)
        tls_sink.emplace(std::move(*sealer), sink, &metrics_.sent_body_bytes);

    metrics_.connections.add(1);
    auto started = std::chrono::steady_clock::now();
    auto streaming = stream_object(executor_, object, tls_sink ? static_cast<ByteSink&>(*tls_sink) : sink, reads_);
    Result<void> sent = co_await std::move(streaming);
    metrics_.connections.add(-1);
    conn.socket.reset(socket.release(ec));
    if (!sent && sink.written() == 0) {
        // The client has seen none of the plan: give the connection back for the gateway to relay it.
        metrics_.unserved.add();
        log::warn("flow ", conn.flow, ": ", object->plan.oid, ": nothing sent, returning it: ", sent.error().message);
        co_return handoff::HandBack{std::move(conn.read_ahead), handoff::unserved_payload()};
    }
    if (!sent) {
        metrics_.failed.add();
        metrics_.stream_errors.add();
        log::warn("flow ", conn.flow, ": ", object->plan.oid, " after ", sink.written(), " bytes: ", sent.error().message);
        co_return sent.error();
    }
    metrics_.served.add();
    metrics_.stream_seconds.observe(seconds(std::chrono::steady_clock::now() - started));
    log::debug("flow ", conn.flow, ": sent ", sink.written(), " bytes of ", object->plan.oid);
    handoff::Bytes report; // HTTPS: where the send state stands now
    if (tls_sink) {
        auto state = tls::encode(tls_sink->state());
        report.assign(state.begin(), state.end());
    }
    co_return handoff::HandBack{std::move(conn.read_ahead), std::move(report)};
}

} // namespace xo::rsp
