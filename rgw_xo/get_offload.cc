#include "rgw_xo/get_offload.h"

#include <boost/beast/core/buffers_to_string.hpp>

#include <algorithm>
#include <cerrno>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/handoff/serve_plan.h"
#include "common/handoff/socket_ops.h"
#include "common/tls/direction_state.h"

namespace xo::gw {

namespace {

using Kind = HandoffResult::Kind;

std::string unquoted(std::string_view etag)
{
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        etag = etag.substr(1, etag.size() - 2);
    return std::string(etag);
}

/** fallback_reason() - the metrics label of a handoff that did not happen. */
std::string_view fallback_reason(const handoff::Fallback& fallback)
{
    if (fallback.reason.code == E2BIG) // FlowTable::block(): no room for the flow's entry
        return "flow_table_full";
    if (fallback.distrusted)
        return "bad_ready";
    if (!fallback.refused)
        return "handoff";
    switch (*fallback.refused) {
    case handoff::RefuseReason::busy:
        return "refused_busy";
    case handoff::RefuseReason::bad_ticket:
        return "refused_bad_ticket";
    case handoff::RefuseReason::unsupported:
        return "refused_unsupported";
    case handoff::RefuseReason::bad_address:
        return "refused_bad_address";
    case handoff::RefuseReason::replayed:
        return "refused_replayed";
    default:
        return "refused_other";
    }
}

} // namespace

boost::asio::awaitable<HandoffResult> GetOffload::hand_off(ClientSide client, rgw::ObjectName name, std::string etag,
                                                           Split split)
{
    auto where = co_await service_.locate(std::move(name));
    if (!where) {
        log::info("offload: cannot locate: ", where.error().message);
        co_return HandoffResult{Kind::fallback, "locate"};
    }
    auto link = co_await links_.link(where->host);
    if (!link) {
        log::debug("offload: ", link.error().message);
        co_return HandoffResult{Kind::fallback, "no_responder"};
    }

    auto& socket = client.stream.socket();
    boost::system::error_code ec;
    auto local = socket.local_endpoint(ec);
    auto remote = socket.remote_endpoint(ec);
    if (ec)
        co_return HandoffResult{Kind::fallback, "socket"};
    handoff::ServePlan plan{where->pool, "", where->head.oid, where->head.locator, unquoted(etag), split.object_size,
                   split.offload_first, split.offload_length, {}};
    tls::Session* tls = client.stream.tls();
    if (tls) {
        // A TLS 1.3 key near its limit is rolled here (its KeyUpdate goes out
        // first), so the responder never has to; a TLS 1.2 one stays relayed.
        if (auto movable = tls->prepare_handoff(tls->pending_output()); !movable) {
            log::info("offload: TLS send state cannot move: ", movable.error().message);
            co_return HandoffResult{Kind::fallback, "tls_state"};
        }
        client.stream.expires_after(std::chrono::seconds(service_.config().stall_timeout));
        if (auto ec = co_await client.stream.flush())
            co_return HandoffResult{Kind::lost, "lost"};
        tls::SecretBytes state = tls::encode(tls->tx_state());
        plan.tls_tx.assign(state.begin(), state.end());
    }
    auto keys = service_.ticket_keys();
    if (!keys) {
        log::warn("offload: ", keys.error().message);
        co_return HandoffResult{Kind::fallback, "ticket_key"};
    }
    auto payload = handoff::encode_plan(plan);
    OPENSSL_cleanse(plan.tls_tx.data(), plan.tls_tx.size());
    // A ticket is checked once, when the responder admits the OFFER (serve_plan.h: clocks).
    auto ticket = handoff::make_ticket((*keys)->current(), handoff::FlowTuple{to_string(remote), to_string(local)}, payload,
                              std::chrono::system_clock::now() + handoff::ticket_lifetime);
    // Plain HTTP: the unread bytes travel (the responder puts them back into
    // the socket, and they come back with it); they stay in the buffer until
    // the point of no return, so a fallback finds the connection exactly as it
    // was. TLS: they are plaintext the client's records already gave, so they
    // stay here with the read state, and the responder gets none.
    auto unread = tls ? std::string() : boost::beast::buffers_to_string(client.buffer.data());
    handoff::OffloadRequest request{UniqueFd(), handoff::Bytes(unread.begin(), unread.end()),
                                    std::move(payload), std::move(ticket), split.offload_length};
    client.stream.expires_never();
    request.socket.reset(socket.release());

    auto outcome = co_await service_.offloader().offload(*link, std::move(request));
    if (auto* fallback = std::get_if<handoff::Fallback>(&outcome)) {
        log::info("offload of ", where->head.oid, " fell back: ", fallback->reason.message);
        if (!fallback->socket.valid())
            co_return HandoffResult{Kind::lost, "lost"};
        socket.assign(local.protocol(), fallback->socket.release());
        co_return HandoffResult{Kind::fallback, fallback_reason(*fallback)};
    }
    if (auto* lost = std::get_if<handoff::Lost>(&outcome)) {
        log::warn("offload of ", where->head.oid, ": connection lost: ", lost->reason.message);
        co_return HandoffResult{Kind::lost, "lost"};
    }
    auto& offloaded = std::get<handoff::Offloaded>(outcome);
    if (!tls)
        client.buffer.consume(client.buffer.size());
    const handoff::HandoffTimes times = offloaded.times;

    auto back = co_await service_.offloader().await_return(std::move(offloaded));
    if (!back) {
        log::info("offload of ", where->head.oid, ": ", back.error().message);
        co_return HandoffResult{Kind::lost, "lost", times};
    }
    // TLS: the acknowledged bytes are record bytes (header, tag, padding),
    // more than the body bytes they carry; capped at the range, a complete
    // transfer counts exactly and an aborted one within the record overhead.
    if (!back->connection)
        co_return HandoffResult{Kind::closed, {}, times,
                                tls ? std::min(back->responder_bytes, split.offload_length) : back->responder_bytes};
    auto& returned = *back->connection;
    socket.assign(local.protocol(), returned.socket.release());
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (tls) {
        tls->received(returned.read_ahead); // ciphertext that follows what the session holds
    } else {
        auto space = client.buffer.prepare(returned.read_ahead.size());
        std::memcpy(space.data(), returned.read_ahead.data(), returned.read_ahead.size());
        client.buffer.commit(returned.read_ahead.size());
    }
    if (returned.resumed)
        co_return HandoffResult{Kind::fallback, "late_go", times};
    if (handoff::is_unserved(returned.app_payload))
        co_return HandoffResult{Kind::fallback, "unserved", times};
    if (tls) {
        tls::WipeOnExit wipe_state{returned.app_payload};
        auto state = tls::decode_direction_state(returned.app_payload);
        auto resumed = state ? tls->resume_tx(std::move(*state)) : Result<void>(state.error());
        if (!resumed) {
            // The client's records went on past our sequence number: nothing we send could be read.
            log::warn("offload of ", where->head.oid, ": returned TLS state: ", resumed.error().message);
            boost::system::error_code ignored;
            socket.close(ignored);
            co_return HandoffResult{Kind::lost, "lost", times};
        }
    }
    // TLS: the client acknowledged records; the body bytes in them are the whole range.
    co_return HandoffResult{Kind::returned, {}, times, tls ? split.offload_length : back->responder_bytes};
}

} // namespace xo::gw
