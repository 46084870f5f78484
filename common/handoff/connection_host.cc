#include "common/handoff/connection_host.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/accept_backoff.h"
#include "common/handoff/flow_mux.h"
#include "common/log.h"
#include "common/handoff/map_entries.h"
#include "common/handoff/socket_ops.h"
#include "common/handoff/stopwatch.h"
#include "common/tcp/tcp_state.h"
#include "common/wire.h"

#include <netinet/tcp.h>
#include <sys/socket.h>

namespace xo::handoff {

namespace {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

constexpr auto frame_stall_limit = std::chrono::seconds(5);
constexpr auto handshake_limit = std::chrono::seconds(5);
constexpr auto drain_poll = std::chrono::milliseconds(1);

/** sleep_for() - suspend the coroutine for @d. */
awaitable<void> sleep_for(Clock::duration d)
{
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(use_awaitable, ec));
}

/** wait_for_acks() - until @fd's send queue is acknowledged or @deadline passes. */
awaitable<void> wait_for_acks(int fd, Deadline deadline)
{
    while (Clock::now() < deadline) {
        auto queued = unacked_bytes(fd);
        if (!queued || *queued == 0)
            co_return;
        co_await sleep_for(drain_poll);
    }
}

/**
 * reset_and_abort() - end @flow after GO: close @socket with RST (it leaves
 * through the rewrite, which still exists, so the client sees it at once)
 * and tell the gateway ABORT with @why (best effort).
 */
awaitable<void> reset_and_abort(FlowMux& mux, std::uint64_t flow, UniqueFd& socket, const Error& why,
                                Clock::duration reply)
{
    (void)reset_on_close(socket.get());
    socket.reset();
    Message abort = Abort{flow, why.message};
    auto told = co_await mux.send(std::move(abort), deadline_in(reply));
    (void)told;
}

/** refusal() - a Refuse for @flow, logged. */
Refuse refusal(std::uint64_t flow, RefuseReason reason, const Error& why)
{
    log::warn("flow ", flow, ": refusing: ", why.message);
    return Refuse{flow, reason, why.message};
}

} // namespace

/** struct Session - one gateway's channel and its reader, shared by its flows. */
struct ConnectionHost::Session {
    explicit Session(std::unique_ptr<ControlChannel> ch) : channel(std::move(ch)), mux(*channel, FlowMux::Limits{}) {}
    std::unique_ptr<ControlChannel> channel;
    FlowMux mux;
};

/** struct Reporter - the link between a hosted flow and its PROGRESS coroutine. */
struct ConnectionHost::Reporter {
    explicit Reporter(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
    void stop()
    {
        stopped = true;
        timer.cancel();
    }
    boost::asio::steady_timer timer;
    bool stopped = false;
};

Admission admit_all()
{
    return [](const Offer&, const OfferedFlow&) -> awaitable<std::variant<std::any, Rejection>> {
        co_return std::any();
    };
}

ConnectionHost::ConnectionHost(SourceRewrites& rewrites, HostAddresses addresses, Application app,
                               HostLimits limits, Admission admit)
    : rewrites_(rewrites), addresses_(std::move(addresses)), app_(std::move(app)), limits_(limits),
      admit_(std::move(admit))
{
}

awaitable<void> ConnectionHost::accept_gateways(boost::asio::ip::tcp::acceptor& acceptor,
                                                std::shared_ptr<ControlTls> tls, ControlCounters counters)
{
    auto executor = co_await boost::asio::this_coro::executor;
    AcceptBackoff backoff(executor, "control listener", counters.accept_backoffs);
    while (acceptor.is_open()) {
        boost::system::error_code ec;
        auto socket = co_await acceptor.async_accept(boost::asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (ec == boost::asio::error::operation_aborted || !acceptor.is_open())
                co_return;
            co_await backoff.after_failure(ec);
            continue;
        }
        backoff.accepted();
        auto authenticate = [this, tls, counters](boost::asio::ip::tcp::socket s) -> awaitable<void> {
            auto channel = co_await accept_channel(tls, std::move(s), deadline_in(handshake_limit));
            if (!channel) {
                log::warn("gateway rejected: ", channel.error().message);
                if (counters.rejected)
                    counters.rejected->add();
                co_return;
            }
            log::info("gateway connected from ", (*channel)->peer(), " with key ", (*channel)->key_id());
            co_await serve(std::move(*channel), counters.rejected);
        };
        boost::asio::co_spawn(executor, authenticate(std::move(socket)), boost::asio::detached);
    }
}

awaitable<void> ConnectionHost::serve(std::unique_ptr<ControlChannel> channel, metrics::Counter* rejected)
{
    auto session = std::make_shared<Session>(std::move(channel));
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(
        executor, [session]() -> awaitable<void> { co_await session->mux.run(frame_stall_limit); },
        boost::asio::detached);
    while (true) {
        auto m = co_await session->mux.next_unclaimed(never);
        if (!m) {
            log::info("gateway ", session->channel->peer(), ": channel ended: ", m.error().message);
            co_return;
        }
        auto* offer = std::get_if<Offer>(&*m);
        if (!offer) {
            log::debug("flow ", flow_id(*m), ": ignoring stray ", type_name(type_of(*m)));
            continue;
        }
        // A rotation may have withdrawn the key this channel proved: its
        // gateway reconnects with the key it holds now, and the flow falls back.
        if (auto held = session->channel->key_still_held(); !held) {
            log::warn("gateway ", session->channel->peer(), ": closing the channel: ", held.error().message);
            session->channel->close(held.error().message);
            if (rejected)
                rejected->add();
            co_return;
        }
        boost::asio::co_spawn(executor, host_flow(session, std::move(*offer)), boost::asio::detached);
    }
}

/** HostedSlot - one unit of a host's connection count, given back on destruction. */
class HostedSlot {
public:
    explicit HostedSlot(std::size_t& count) : count_(&count) { ++count; }
    HostedSlot(HostedSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
    HostedSlot& operator=(HostedSlot&&) = delete;
    ~HostedSlot()
    {
        if (count_)
            --*count_;
    }

private:
    std::size_t* count_;
};

/** struct PreparedFlow - an offered connection restored (in repair mode) with its rewrite. */
struct ConnectionHost::PreparedFlow {
    tcp::TcpState state;
    tcp::RestoredSocket restored;
    HostedSlot slot;
    RewriteEntry rewrite;
    HostTimes times;
    std::any admitted;
};

awaitable<std::variant<ConnectionHost::PreparedFlow, Refuse>> ConnectionHost::prepare(const Offer& offer)
{
    std::uint64_t flow = offer.flow_id;
    // hosted_ counts restored sockets from restore to close, so the limit
    // bounds sockets and rewrite entries alike.
    if (hosted_ >= limits_.max_connections)
        co_return refusal(flow, RefuseReason::busy,
                       Error{"at the limit of " + std::to_string(limits_.max_connections) + " connections"});
    WireReader in(offer.tcp_state);
    auto state = tcp::decode_tcp_state(in);
    if (!state)
        co_return refusal(flow, RefuseReason::restore_failed, state.error());
    if (auto vetted = vet_offered_addresses(*state, addresses_); !vetted) {
        if (addresses_.refused)
            addresses_.refused->add();
        co_return refusal(flow, RefuseReason::bad_address, vetted.error());
    }
    HostedSlot slot(hosted_); // held while the admission works, so the limit counts it
    auto client = to_asio_endpoint(state->remote, state->family);
    auto verdict = co_await admit_(offer, OfferedFlow{client, to_asio_endpoint(state->local, state->family)});
    if (auto* no = std::get_if<Rejection>(&verdict))
        co_return refusal(flow, no->reason, Error{no->text});
    std::any admitted = std::move(std::get<std::any>(verdict));
    Stopwatch clock;
    HostTimes times;
    auto restored = tcp::restore_tcp_state(*state, to_tcp_endpoint({addresses_.own, 0}));
    if (!restored)
        co_return refusal(flow, RefuseReason::restore_failed, restored.error());
    times.restore = clock.lap();
    auto rewrite = RewriteEntry::insert(rewrites_, Flow{{addresses_.own, restored->local_port}, client},
                                        to_asio_endpoint(state->local, state->family));
    if (!rewrite)
        co_return refusal(flow, RefuseReason::restore_failed, rewrite.error());
    times.rewrite = clock.lap();
    co_return PreparedFlow{std::move(*state), std::move(*restored), std::move(slot), std::move(*rewrite), times,
                           std::move(admitted)};
}

awaitable<void> ConnectionHost::host_flow(std::shared_ptr<Session> session, Offer offer)
{
    std::uint64_t flow = offer.flow_id;
    auto& mux = session->mux;
    auto mailbox = FlowMailbox::open(mux, flow);
    auto refuse = [&](Refuse refused) -> awaitable<void> {
        Message refuse_message = std::move(refused);
        auto told = co_await mux.send(std::move(refuse_message), deadline_in(limits_.reply));
        (void)told; // the gateway times out on its own
    };
    if (!mailbox) {
        co_await refuse(refusal(flow, RefuseReason::duplicate_flow, mailbox.error()));
        co_return;
    }
    auto prepared = co_await prepare(offer);
    if (auto* refused = std::get_if<Refuse>(&prepared)) {
        co_await refuse(std::move(*refused));
        co_return;
    }
    auto& [state, restored, slot, rewrite, times, admitted] = std::get<PreparedFlow>(prepared);
    Stopwatch clock;

    Ready ready{flow, address_bytes(addresses_.own), restored.local_port};
    Message ready_message = std::move(ready);
    auto sent = co_await mux.send(std::move(ready_message), deadline_in(limits_.reply));
    if (!sent)
        co_return; // the socket closes in repair mode: silent
    auto go = co_await mailbox->next(deadline_in(limits_.go));
    if (!go || !std::holds_alternative<Go>(*go)) {
        std::string why = "no GO (" + (go ? std::string(type_name(type_of(*go))) : go.error().message) + ")";
        log::info("flow ", flow, ": ", why);
        if (go && std::holds_alternative<Abort>(*go))
            co_return; // the gateway gave up first and kept the connection
        // Silent close (repair mode) and no rewrite before the gateway hears of
        // it, so a GO already on its way cannot make us send anything.
        restored.fd.reset();
        (void)rewrite.remove();
        Message abort = Abort{flow, why, true};
        auto told = co_await mux.send(std::move(abort), deadline_in(limits_.reply));
        (void)told; // a gateway that does not hear it loses the connection on its own stall timeout
        co_return;
    }
    clock.lap();
    if (auto r = tcp::leave_repair(restored.fd.get(), state); !r) {
        log::warn("flow ", flow, ": ", r.error().message);
        co_await reset_and_abort(mux, flow, restored.fd, r.error(), limits_.reply);
        co_return;
    }

    times.leave_repair = clock.lap();

    HostedConnection conn{flow, std::move(restored.fd), std::move(offer.read_ahead), std::move(offer.app_payload),
                          std::move(offer.ticket), times, std::move(admitted)};
    auto reporter = std::make_shared<Reporter>(co_await boost::asio::this_coro::executor);
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          report_progress(session, flow, conn.socket.get(), reporter), boost::asio::detached);
    serving_.insert(conn.socket.get());
    auto back = co_await app_(conn);
    serving_.erase(conn.socket.get());
    reporter->stop(); // before anything closes the socket it reads
    // (co_await stays out of conditional expressions: GCC 12 miscompiles them.)
    Result<void> returned;
    if (back)
        returned = co_await give_back(*session, flow, conn.socket, std::move(*back), *mailbox);
    else
        returned = back.error();
    if (!returned) {
        log::warn("flow ", flow, ": closing the connection: ", returned.error().message);
        co_await reset_and_abort(mux, flow, conn.socket, returned.error(), limits_.reply);
    }
    conn.socket.reset();
}

awaitable<void> ConnectionHost::report_progress(std::shared_ptr<Session> session, std::uint64_t flow, int fd,
                                                std::shared_ptr<Reporter> reporter)
{
    // @fd belongs to the application until stop(): it is only used while not stopped.
    while (!reporter->stopped) {
        auto acked = acked_bytes(fd);
        if (!acked)
            co_return;
        Message progress = Progress{flow, *acked};
        auto sent = co_await session->mux.send(std::move(progress), deadline_in(limits_.reply));
        if (!sent || reporter->stopped)
            co_return;
        // Only a non-blocking look: the flow's coroutine reads its mailbox again after stop().
        auto m = co_await session->mux.next(flow, Clock::now());
        if (m && std::holds_alternative<Abort>(*m)) {
            log::info("flow ", flow, ": the gateway aborted: ", std::get<Abort>(*m).text);
            ::shutdown(fd, SHUT_RDWR); // the application's next write fails; the host resets
            co_return;
        }
        reporter->timer.expires_after(limits_.progress_interval);
        boost::system::error_code ignored;
        co_await reporter->timer.async_wait(boost::asio::redirect_error(use_awaitable, ignored));
    }
}

void ConnectionHost::cut_all()
{
    for (int fd : serving_) {
        (void)reset_on_close(fd);
        ::shutdown(fd, SHUT_RDWR); // the application's next write fails; the host resets and aborts
    }
}

awaitable<Result<void>> ConnectionHost::finish_here(Session& session, std::uint64_t flow, int fd)
{
    Message closing = Done{flow};
    auto announced = co_await session.mux.send(std::move(closing), deadline_in(limits_.reply));
    if (!announced)
        co_return announced.error();
    if (::shutdown(fd, SHUT_WR) != 0)
        co_return Error::from_errno("shutdown");
    auto deadline = deadline_in(limits_.drain);
    while (true) {
        auto tcp = tcp_state_of(fd);
        if (!tcp)
            co_return tcp.error();
        if (*tcp == TCP_CLOSE)
            break;
        if (Clock::now() >= deadline)
            co_return Error{"the client did not acknowledge our FIN"};
        co_await sleep_for(drain_poll);
    }
    Message done = Done{flow};
    auto told = co_await session.mux.send(std::move(done), deadline_in(limits_.reply));
    if (!told)
        log::warn("flow ", flow, ": telling the gateway the connection closed: ", told.error().message);
    co_return Result<void>();
}

awaitable<Result<void>> ConnectionHost::give_back(Session& session, std::uint64_t flow, UniqueFd& socket,
                                                  HandBack back, FlowMailbox& mailbox)
{
    int fd = socket.get();
    co_await wait_for_acks(fd, deadline_in(limits_.drain));
    if (auto acked = acked_bytes(fd); acked) {
        Message last = Progress{flow, *acked}; // what the gateway counts as sent from here
        auto sent = co_await session.mux.send(std::move(last), deadline_in(limits_.reply));
        if (!sent)
            co_return sent.error();
    }
    auto tcp = tcp_state_of(fd);
    if (!tcp)
        co_return tcp.error();
    if (*tcp == TCP_CLOSE_WAIT) {
        auto finished = co_await finish_here(session, flow, fd);
        co_return finished;
    }
    Message prepare = ReturnPrepare{flow};
    auto prepared = co_await session.mux.send(std::move(prepare), deadline_in(limits_.reply));
    if (!prepared)
        co_return prepared.error();
    auto ready = co_await mailbox.next(deadline_in(limits_.reply));
    if (!ready)
        co_return with_context("waiting for READY to return", ready.error());
    if (!std::holds_alternative<Ready>(*ready))
        co_return Error{std::string("expected READY, got ") + std::string(type_name(type_of(*ready)))};
    // The client's FIN may have arrived before the gateway blocked the flow.
    tcp = tcp_state_of(fd);
    if (!tcp)
        co_return tcp.error();
    if (*tcp == TCP_CLOSE_WAIT) {
        auto finished = co_await finish_here(session, flow, fd);
        co_return finished;
    }
    auto state = tcp::save_tcp_state(fd);
    if (!state)
        co_return state.error();
    WireWriter out;
    encode(*state, out);
    Message ret = Return{flow, out.take(), std::move(back.read_ahead), std::move(back.app_payload)};
    auto sent = co_await session.mux.send(std::move(ret), deadline_in(limits_.reply));
    if (!sent) {
        (void)cancel_repair(fd);
        co_return sent.error();
    }
    socket.reset(); // in repair mode: silent
    co_return Result<void>();
}

} // namespace xo::handoff
