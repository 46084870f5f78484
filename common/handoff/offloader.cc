#include "offloader.h"

#include "log.h"
#include "socket_ops.h"
#include "stopwatch.h"
#include "tcp_state.h"
#include "wire.h"

namespace xo::handoff {

namespace {

using boost::asio::awaitable;

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

Bytes encode_state(const TcpState& state)
{
    WireWriter out;
    encode(state, out);
    return out.take();
}

} // namespace

Offloader::Offloader(bpf::FlowTable& flows, bpf::Mac gateway_mac, OffloadTimeouts timeouts)
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
    auto key = bpf::flow_key(ends->remote, ends->local);
    if (!key)
        co_return fall_back(key.error());
    auto entry = FlowEntry::create_blocked(flows_, *key);
    if (!entry)
        co_return fall_back(entry.error());
    times.block = clock.lap();

    auto state = save_tcp_state(fd);
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
    Offer offer{flow, encode_state(*state), std::move(request.read_ahead), std::move(request.app_payload),
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

    bpf::RedirectTarget target;
    target.responder = {link->address().data, ready->local_port};
    if (!ready->local_address.empty()) {
        auto addr = address_from_bytes(ready->local_address);
        if (!addr) {
            auto undone = co_await undo(addr.error());
            co_return undone;
        }
        target.responder.address(*addr);
    }
    target.responder_mac = link->address().mac;
    target.gateway_mac = gateway_mac_;
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
    co_return Offloaded{std::move(link), flow, ends->local, std::move(*mailbox), std::move(*entry), target, times};
}

awaitable<Result<std::optional<ReturnedConnection>>> Offloader::await_return(Offloaded flow)
{
    auto start = Clock::now();
    auto back = co_await take_back(flow, start);
    if (!back) {
        (void)flow.entry.remove();
        if (flow.link->alive()) {
            Message abort = Abort{flow.flow, back.error().message};
            auto told = co_await flow.link->mux().send(std::move(abort), deadline_in(timeouts_.reply));
            (void)told; // best effort: the channel may be failing too
        }
        Error why = with_context("return from " + flow.link->name(), back.error());
        co_return why;
    }
    co_return back;
}

awaitable<Result<std::optional<ReturnedConnection>>> Offloader::closed_at_responder(Offloaded& flow)
{
    if (auto r = flow.entry.redirect(flow.target); !r)
        co_return r.error();
    auto last = co_await flow.mailbox.next(deadline_in(timeouts_.closing));
    if (!last || !std::holds_alternative<Done>(*last))
        log::info("flow ", flow.flow, ": no final DONE from ", flow.link->name(), "; dropping the flow");
    if (auto r = flow.entry.remove(); !r)
        co_return r.error();
    co_return std::optional<ReturnedConnection>();
}

awaitable<Result<std::optional<ReturnedConnection>>> Offloader::take_back(Offloaded& flow, Clock::time_point start)
{
    auto first = co_await flow.mailbox.next(start + timeouts_.hold);
    if (first && std::holds_alternative<Done>(*first)) {
        auto closed = co_await closed_at_responder(flow);
        co_return closed;
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
    auto second = co_await flow.mailbox.next(deadline_in(timeouts_.reply));
    if (second && std::holds_alternative<Done>(*second)) {
        auto closed = co_await closed_at_responder(flow);
        co_return closed;
    }
    auto ret = expect<Return>(std::move(second), "RETURN");
    if (!ret)
        co_return ret.error();

    clock.lap();
    WireReader in(ret->tcp_state);
    auto state = decode_tcp_state(in);
    if (!state)
        co_return with_context("RETURN state", state.error());
    auto restored = restore_tcp_state(*state, to_tcp_endpoint(flow.public_endpoint));
    if (!restored)
        co_return with_context("restoring the returned socket", restored.error());
    if (auto r = flow.entry.remove(); !r)
        co_return r.error();
    if (auto r = leave_repair(restored->fd.get(), *state); !r)
        co_return with_context("returned socket", r.error());
    times.restore = clock.lap();
    times.total = Clock::now() - return_start;

    // DONE only lets the responder forget the flow early; losing it is harmless.
    Message done = Done{flow.flow};
    auto told = co_await flow.link->mux().send(std::move(done), deadline_in(timeouts_.reply));
    (void)told;
    co_return std::optional<ReturnedConnection>(ReturnedConnection{
        std::move(restored->fd), std::move(ret->read_ahead), std::move(ret->app_payload), times});
}

} // namespace xo::handoff
