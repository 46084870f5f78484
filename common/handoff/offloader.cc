#include "common/handoff/offloader.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/handoff/socket_ops.h"
#include "common/handoff/stopwatch.h"
#include "common/tcp/tcp_state.h"
#include "common/wire.h"

namespace xo::handoff {

namespace {

using boost::asio::awaitable;

/// Past the client's rate limit on answering out-of-window segments (tcp_invalid_ratelimit).
constexpr auto probe_spacing = std::chrono::milliseconds(600);
constexpr int probe_attempts = 3;
constexpr auto probe_answer_wait = std::chrono::milliseconds(100);
constexpr auto probe_poll = std::chrono::milliseconds(2);
/// Ahead of any timestamp the responder can have sent since the save (clocks tick in ms).
constexpr std::uint32_t probe_clock_margin_ms = 1000;

/** sleep_for() - suspend the coroutine for @d. */
awaitable<void> sleep_for(Clock::duration d)
{
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    boost::system::error_code ignored;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

/** expect() - @m as a @T, or an error naming what arrived instead. */
template <typename T>
Result<T> expect(Result<Message> m, const char* what)
{
    if (!m)
        return with_context(std::string("waiting for ") + what, m.error());
    if (auto* wanted = std::get_if<T>(&*m))
        return std::move(*wanted);
    if (auto* refuse = std::get_if<Refuse>(&*m))
        return Error{std::string("refused (reason ") + std::to_string(static_cast<int>(refuse->reason)) + "): " +
                     refuse->text};
    if (auto* abort = std::get_if<Abort>(&*m))
        return Error{"aborted by responder: " + abort->text};
    return Error{std::string("expected ") + what + ", got " + std::string(type_name(type_of(*m)))};
}

/** check_ready() - whether @ready names a socket of the responder at @responder (an empty address means it). */
Result<void> check_ready(const Ready& ready, const boost::asio::ip::address& responder)
{
    if (ready.local_port == 0)
        return Error{"READY names port 0", EPROTO};
    if (ready.local_address.empty())
        return {};
    auto addr = address_from_bytes(ready.local_address);
    if (!addr)
        return with_context("READY", addr.error());
    if (*addr != responder)
        return Error{"READY names " + addr->to_string() + ", not the responder's own " + responder.to_string() +
                         ": refusing to redirect the client there",
                     EPROTO};
    return {};
}

/** check_returned() - whether a RETURN's @state is the connection of @offered's client. */
Result<void> check_returned(const tcp::TcpState& state, const tcp::TcpState& offered)
{
    if (state.family == offered.family && state.remote == offered.remote)
        return {};
    return Error{"RETURN names client " + to_string(to_asio_endpoint(state.remote, state.family)) + ", not " +
                     to_string(to_asio_endpoint(offered.remote, offered.family)) + ": refusing to restore it",
                 EPROTO};
}

Bytes encode_state(const tcp::TcpState& state)
{
    WireWriter out;
    encode(state, out);
    return out.take();
}

} // namespace

Offloader::Offloader(FlowSteering& flows, Mac gateway_mac, OffloadTimeouts timeouts)
    : flows_(flows), gateway_mac_(gateway_mac), timeouts_(timeouts)
{
}

awaitable<OffloadOutcome> Offloader::offload(std::shared_ptr<ResponderLink> link, OffloadRequest request)
{
    Stopwatch clock;
    auto start = Clock::now();
    HandoffTimes times;
    int fd = request.socket.get();
    auto fall_back = [&](Error why) -> OffloadOutcome {
        return Fallback{std::move(request.socket), with_context("offload to " + link->name(), std::move(why)), {}};
    };

    if (!link->alive())
        co_return fall_back(Error{"control channel is down"});
    auto ends = socket_endpoints(fd);
    if (!ends)
        co_return fall_back(ends.error());
    auto entry = FlowEntry::create_blocked(flows_, Flow{ends->remote, ends->local});
    if (!entry)
        co_return fall_back(entry.error());
    times.block = clock.lap();

    auto state = tcp::save_tcp_state(fd);
    if (!state)
        co_return fall_back(state.error()); // save left repair mode; the entry goes with `entry`
    times.save = clock.lap();

    // From here the socket is in repair mode: undo() gives it back.
    auto mailbox = FlowMailbox::open(link->mux(), link->next_flow_id());
    auto undo = [&](Error why) -> awaitable<OffloadOutcome> {
        if (mailbox) {
            Message abort = Abort{mailbox->flow(), why.message};
            auto told = co_await link->mux().send(std::move(abort), deadline_in(timeouts_.reply));
            (void)told; // best effort: the responder also gives up when GO does not come
        }
        (void)entry->remove(); // before repair off, so the window probe's answer reaches us
        if (auto r = cancel_repair(fd); !r) {
            request.socket.reset();
            co_return Fallback{UniqueFd(), with_context(why.message + "; socket lost", r.error()), {}};
        }
        co_return fall_back(std::move(why));
    };
    if (!mailbox) {
        auto undone = co_await undo(mailbox.error());
        co_return undone;
    }

    std::uint64_t flow = mailbox->flow();
    // The read-ahead is copied, not moved: resuming after a late GO needs it.
    Offer offer{flow, encode_state(*state), request.read_ahead, std::move(request.app_payload),
                std::move(request.ticket)};
    Message offer_message = std::move(offer);
    auto sent = co_await link->mux().send(std::move(offer_message), deadline_in(timeouts_.reply));
    if (!sent) {
        auto undone = co_await undo(sent.error());
        co_return undone;
    }
    auto answer = co_await mailbox->next(deadline_in(timeouts_.reply));
    std::optional<RefuseReason> refused;
    if (answer && std::holds_alternative<Refuse>(*answer))
        refused = std::get<Refuse>(*answer).reason;
    auto ready = expect<Ready>(std::move(answer), "READY");
    times.rpc = clock.lap();
    if (!ready) {
        auto undone = co_await undo(ready.error());
        if (auto* fallback = std::get_if<Fallback>(&undone))
            fallback->refused = refused;
        co_return undone;
    }

    // The client's packets go where READY says: only to the responder we chose.
    if (auto trusted = check_ready(*ready, link->address().data); !trusted) {
        auto undone = co_await undo(trusted.error());
        if (auto* fallback = std::get_if<Fallback>(&undone))
            fallback->distrusted = true;
        co_return undone;
    }
    RedirectTarget target;
    target.responder = {link->address().data, ready->local_port};
    target.responder_mac = link->address().mac;
    target.gateway_mac = gateway_mac_;
    target.bytes_to_send = request.bytes_to_send;
    if (auto r = entry->redirect(target); !r) {
        auto undone = co_await undo(r.error());
        co_return undone;
    }
    times.redirect = clock.lap();

    request.socket.reset(); // still in repair mode: silent
    times.close = clock.lap();

    Message go = Go{flow};
    auto go_sent = co_await link->mux().send(std::move(go), deadline_in(timeouts_.reply));
    if (!go_sent)
        co_return Lost{with_context("sending GO to " + link->name(), go_sent.error())};
    times.total = Clock::now() - start;
    std::size_t offered_queue = state->send_queue.size();
    co_return Offloaded{std::move(link),     flow,          ends->local,
                        std::move(*mailbox), std::move(*entry), target,
                        times,               std::move(*state), start,
                        std::move(request.read_ahead), offered_queue};
}

awaitable<Result<FlowEnd>> Offloader::await_return(Offloaded flow)
{
    auto end = co_await take_back(flow);
    if (end)
        co_return end;
    if (flow.link->alive()) {
        Message abort = Abort{flow.flow, end.error().message};
        auto told = co_await flow.link->mux().send(std::move(abort), deadline_in(timeouts_.reply));
        (void)told; // best effort: the channel may be failing too
    }
    co_await reset_client(flow); // removes the flow entry
    Error why = with_context("flow from " + flow.link->name(), end.error());
    co_return why;
}

awaitable<Result<Message>> Offloader::next_decision(Offloaded& flow, Clock::duration patience)
{
    auto deadline = Clock::now() + patience;
    while (true) {
        auto m = co_await flow.mailbox.next(deadline);
        if (!m && Clock::now() >= deadline)
            co_return Error{"no progress for " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(patience).count()) +
                                " ms (" + std::to_string(flow.acked) + " bytes acknowledged)",
                            ETIMEDOUT};
        auto* progress = m ? std::get_if<Progress>(&*m) : nullptr;
        if (!progress)
            co_return m;
        if (!flow.started || progress->acked > flow.acked)
            deadline = Clock::now() + patience;
        if (!flow.started) {
            // The responder left repair mode: the saved queues can never be resumed from.
            flow.started = true;
            flow.saved.send_queue = {};
            flow.saved.recv_queue = {};
            flow.saved.unsent_len = 0;
            flow.read_ahead = {};
        }
        flow.acked = std::max(flow.acked, progress->acked);
    }
}

FlowEnd Offloader::ended(const Offloaded& flow, std::optional<ReturnedConnection> connection) const
{
    // The first offered_queue bytes acknowledged were the gateway's own, sent before the handoff.
    std::uint64_t own = std::min<std::uint64_t>(flow.acked, flow.offered_queue);
    return FlowEnd{std::move(connection), flow.acked - own};
}

awaitable<Result<FlowEnd>> Offloader::closed_at_responder(Offloaded& flow)
{
    if (auto r = flow.entry.redirect(flow.target); !r)
        co_return r.error();
    auto last = co_await next_decision(flow, timeouts_.closing);
    if (!last || !std::holds_alternative<Done>(*last))
        log::info("flow ", flow.flow, ": no final DONE from ", flow.link->name(), "; dropping the flow");
    if (auto r = flow.entry.remove(); !r)
        co_return r.error();
    co_return ended(flow, std::nullopt);
}

Result<FlowEnd> Offloader::resume(Offloaded& flow)
{
    Stopwatch clock;
    ReturnTimes times;
    if (auto r = flow.entry.block(); !r)
        return r.error();
    times.block = clock.lap();
    auto restored = tcp::restore_tcp_state(flow.saved, to_tcp_endpoint(flow.public_endpoint));
    if (!restored)
        return with_context("resuming from the saved state", restored.error());
    if (auto r = flow.entry.remove(); !r)
        return r.error();
    if (auto r = tcp::leave_repair(restored->fd.get(), flow.saved); !r)
        return with_context("resumed socket", r.error());
    times.restore = clock.lap();
    times.total = times.block + times.restore;
    return ended(flow, ReturnedConnection{std::move(restored->fd), std::move(flow.read_ahead), {}, times, true});
}

namespace {

/** advanced() - @state with its TCP clock moved on by the time since @saved_at (and a margin). */
tcp::TcpState advanced(tcp::TcpState state, Clock::time_point saved_at)
{
    auto since = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - saved_at);
    state.timestamp += static_cast<std::uint32_t>(since.count()) + probe_clock_margin_ms;
    return state;
}

/** send_probe() - one window probe from the connection @state describes; its socket closes silently. */
void send_probe(const tcp::TcpState& state, const tcp::TcpEndpoint& local, std::uint64_t flow)
{
    auto restored = tcp::restore_tcp_state(state, local);
    if (!restored) {
        log::info("flow ", flow, ": cannot probe the client: ", restored.error().message);
        return;
    }
    if (auto r = tcp::leave_repair(restored->fd.get(), state); !r)
        log::info("flow ", flow, ": probing the client: ", r.error().message);
    if (auto r = enter_repair(restored->fd.get()); !r)
        (void)reset_on_close(restored->fd.get());
}

} // namespace

awaitable<void> Offloader::reset_client(Offloaded& flow)
{
    // Only the sequence numbers, options and clock matter: nothing is sent but a probe and an RST.
    tcp::TcpState state = flow.saved;
    state.send_queue = {};
    state.recv_queue = {};
    state.unsent_len = 0;
    auto local = to_tcp_endpoint(flow.public_endpoint);
    std::optional<FlowCounters> seen;
    if (auto r = flow.entry.block(); !r) {
        log::info("flow ", flow.flow, ": cannot reset the client: ", r.error().message);
        co_return;
    }
    for (int attempt = 0; attempt < probe_attempts && !seen; ++attempt) {
        if (attempt > 0)
            co_await sleep_for(probe_spacing);
        send_probe(advanced(state, flow.saved_at), local, flow.flow);
        for (auto until = Clock::now() + probe_answer_wait; Clock::now() < until;) {
            co_await sleep_for(probe_poll);
            if (auto c = flow.entry.counters(); c && c->packets > 0) {
                co_await sleep_for(probe_poll); // the latest of a burst
                auto latest = flow.entry.counters();
                seen = latest ? *latest : *c;
                break;
            }
        }
    }
    if (!seen) {
        log::info("flow ", flow.flow, ": the client did not answer a probe; it is left to its own timeouts");
        (void)flow.entry.remove();
        co_return;
    }
    state.send_seq = seen->last_ack;
    state.recv_seq = seen->last_seq;
    auto at = advanced(state, flow.saved_at);
    auto restored = tcp::restore_tcp_state(at, local);
    (void)flow.entry.remove();
    if (!restored) {
        log::info("flow ", flow.flow, ": cannot reset the client: ", restored.error().message);
        co_return;
    }
    if (auto r = tcp::leave_repair(restored->fd.get(), at); !r)
        log::info("flow ", flow.flow, ": resetting the client: ", r.error().message);
    (void)reset_on_close(restored->fd.get()); // the RST carries the client's own position: it is accepted
}

awaitable<Result<FlowEnd>> Offloader::take_back(Offloaded& flow)
{
    auto first = co_await next_decision(flow, timeouts_.stall);
    if (first && std::holds_alternative<Done>(*first)) {
        auto closed = co_await closed_at_responder(flow);
        co_return closed;
    }
    if (first && !flow.started) {
        if (auto* abort = std::get_if<Abort>(&*first); abort && abort->resumable) {
            log::info("flow ", flow.flow, ": ", flow.link->name(), " did not start (", abort->text, "); resuming");
            co_return resume(flow);
        }
    }
    auto prepare = expect<ReturnPrepare>(std::move(first), "RETURN_PREPARE");
    if (!prepare)
        co_return prepare.error();

    Stopwatch clock;
    ReturnTimes times;
    auto return_start = Clock::now();
    if (auto r = flow.entry.block(); !r)
        co_return r.error();
    times.block = clock.lap();
    Message ready = Ready{flow.flow, {}, 0};
    auto sent = co_await flow.link->mux().send(std::move(ready), deadline_in(timeouts_.reply));
    if (!sent)
        co_return sent.error();
    auto second = co_await next_decision(flow, timeouts_.reply);
    if (second && std::holds_alternative<Done>(*second)) {
        auto closed = co_await closed_at_responder(flow);
        co_return closed;
    }
    auto ret = expect<Return>(std::move(second), "RETURN");
    if (!ret)
        co_return ret.error();

    clock.lap();
    WireReader in(ret->tcp_state);
    auto state = tcp::decode_tcp_state(in);
    if (!state)
        co_return with_context("RETURN state", state.error());
    // Restored only towards the client the flow was offered for; anything else
    // loses the flow: the caller resets the real client from the saved state.
    if (auto same = check_returned(*state, flow.saved); !same)
        co_return same.error();
    auto restored = tcp::restore_tcp_state(*state, to_tcp_endpoint(flow.public_endpoint));
    if (!restored)
        co_return with_context("restoring the returned socket", restored.error());
    if (auto r = flow.entry.remove(); !r)
        co_return r.error();
    if (auto r = tcp::leave_repair(restored->fd.get(), *state); !r)
        co_return with_context("returned socket", r.error());
    times.restore = clock.lap();
    times.total = Clock::now() - return_start;

    // DONE only lets the responder forget the flow early; losing it is harmless.
    Message done = Done{flow.flow};
    auto told = co_await flow.link->mux().send(std::move(done), deadline_in(timeouts_.reply));
    (void)told;
    co_return ended(flow, ReturnedConnection{std::move(restored->fd), std::move(ret->read_ahead),
                                             std::move(ret->app_payload), times});
}

} // namespace xo::handoff
