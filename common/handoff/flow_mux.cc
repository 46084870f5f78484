#include "common/handoff/flow_mux.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"

namespace xo::handoff {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;

FlowMux::FlowMux(ControlChannel& channel, Limits limits) : channel_(channel), limits_(limits) {}

FlowMux::Mailbox* FlowMux::mailbox(std::optional<std::uint64_t> flow)
{
    if (!flow)
        return &unclaimed_;
    auto it = flows_.find(*flow);
    return it == flows_.end() ? nullptr : &it->second;
}

std::string FlowMux::describe(std::optional<std::uint64_t> flow) const
{
    return flow ? "flow " + std::to_string(*flow) : std::string("unclaimed messages");
}

boost::asio::awaitable<Error> FlowMux::run(Clock::duration stall_limit)
{
    while (true) {
        auto m = co_await channel_.recv(never, stall_limit);
        if (!m) {
            ended_ = m.error();
            break;
        }
        deliver(std::move(*m));
    }
    // Wake everyone: their next look finds ended_.
    for (auto& [flow, box] : flows_)
        if (box.waiter)
            box.waiter->cancel();
    if (unclaimed_.waiter)
        unclaimed_.waiter->cancel();
    co_return *ended_;
}

void FlowMux::deliver(handoff::Message m)
{
    std::uint64_t flow = handoff::flow_id(m);
    auto it = flows_.find(flow);
    Mailbox& box = it != flows_.end() ? it->second : unclaimed_;
    std::size_t limit = it != flows_.end() ? limits_.per_flow : limits_.unclaimed;
    if (box.queue.size() >= limit) {
        // A PROGRESS racing the end of its flow is expected; anything else dropped is worth a warning.
        auto level = std::holds_alternative<handoff::Progress>(m) ? log::Level::debug : log::Level::warn;
        log::emit(level, "control channel to ", channel_.peer(), ": dropped ", handoff::type_name(handoff::type_of(m)),
                " for flow ", flow, " (", box.queue.size(), " messages already waiting)");
        return;
    }
    box.queue.push_back(std::move(m));
    if (box.waiter)
        box.waiter->cancel();
}

Result<void> FlowMux::open_flow(std::uint64_t flow)
{
    if (!flows_.try_emplace(flow).second)
        return Error{"flow " + std::to_string(flow) + " is already open on this channel", EEXIST};
    return {};
}

void FlowMux::close_flow(std::uint64_t flow)
{
    auto it = flows_.find(flow);
    if (it == flows_.end())
        return;
    if (it->second.waiter)
        it->second.waiter->cancel();
    flows_.erase(it);
}

boost::asio::awaitable<Result<handoff::Message>> FlowMux::wait(std::optional<std::uint64_t> flow, Deadline deadline)
{
    while (true) {
        Mailbox* box = mailbox(flow);
        if (!box)
            co_return Error{describe(flow) + " is not open", ENOENT};
        if (!box->queue.empty()) {
            handoff::Message m = std::move(box->queue.front());
            box->queue.pop_front();
            co_return m;
        }
        if (ended_)
            co_return with_context(describe(flow), *ended_);
        if (box->waiter)
            co_return Error{describe(flow) + " already has a waiter", EBUSY};
        if (Clock::now() >= deadline)
            co_return Error{describe(flow) + ": deadline passed waiting for a message", ETIMEDOUT};

        boost::asio::steady_timer timer(channel_.get_executor(), deadline);
        box->waiter = &timer;
        boost::system::error_code ec;
        co_await timer.async_wait(redirect_error(use_awaitable, ec));
        // The mailbox may have been closed (and its storage freed) meanwhile.
        if (Mailbox* again = mailbox(flow); again && again->waiter == &timer)
            again->waiter = nullptr;
    }
}

boost::asio::awaitable<Result<handoff::Message>> FlowMux::next(std::uint64_t flow, Deadline deadline)
{
    return wait(flow, deadline);
}

boost::asio::awaitable<Result<handoff::Message>> FlowMux::next_unclaimed(Deadline deadline)
{
    return wait(std::nullopt, deadline);
}

} // namespace xo::handoff
