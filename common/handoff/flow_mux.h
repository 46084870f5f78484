// Theory of operation: several handoffs share one control channel, so replies
// must find the coroutine waiting for them. FlowMux is the channel's only
// reader: run() receives frames and files each message in the mailbox of its
// flow id. A coroutine handling a flow opens the flow's mailbox, sends its
// request and awaits next(flow, deadline); a message for a flow nobody has
// opened (an OFFER arriving at a responder, say) goes to the unclaimed queue,
// read with next_unclaimed(). Each flow has at most one waiter.
//
// Memory is bounded against a peer that floods: a mailbox holds at most
// per_flow_limit messages and the unclaimed queue unclaimed_limit; anything
// beyond is dropped with a warning and its flow times out on the sender's
// side, which the protocol already handles (the gateway relays instead).
// A side that never reads unclaimed messages (the gateway: a late reply to a
// flow it gave up on) sets unclaimed_limit to 0 to drop them at once.
//
// Waiting uses one timer per waiter set to its deadline; delivering a message
// or the channel's end cancels that timer to wake the waiter early. Like the
// channel, a mux lives on one single-threaded executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/handoff/control_channel.h"

namespace xo::handoff {

class FlowMux {
public:
    struct Limits {
        std::size_t per_flow = 16;
        std::size_t unclaimed = 256;
    };

    FlowMux(ControlChannel& channel, Limits limits);
    FlowMux(const FlowMux&) = delete;
    FlowMux& operator=(const FlowMux&) = delete;

    /**
     * run() - receive and route until the channel fails or is closed.
     * @stall_limit: the longest a frame may take once it has started.
     *
     * Return: always the error that ended the channel; every waiter is woken
     * and fails with it.
     */
    boost::asio::awaitable<Error> run(Clock::duration stall_limit);

    /** open_flow() - start collecting messages for @flow; error if already open. */
    Result<void> open_flow(std::uint64_t flow);

    /** close_flow() - stop collecting for @flow and drop what it had; wakes its waiter. */
    void close_flow(std::uint64_t flow);

    /**
     * next() - the next message of an open @flow, waiting until @deadline.
     *
     * Return: the message, or an error (deadline passed, flow not open or
     * closed meanwhile, another waiter already on it, channel ended).
     */
    boost::asio::awaitable<Result<handoff::Message>> next(std::uint64_t flow, Deadline deadline);

    /** next_unclaimed() - the next message of a flow nobody opened, by @deadline. */
    boost::asio::awaitable<Result<handoff::Message>> next_unclaimed(Deadline deadline);

    /** send() - ControlChannel::send() on the muxed channel. */
    boost::asio::awaitable<Result<void>> send(handoff::Message m, Deadline deadline)
    {
        return channel_.send(std::move(m), deadline);
    }

private:
    struct Mailbox {
        std::deque<handoff::Message> queue;
        boost::asio::steady_timer* waiter = nullptr;
    };

    void deliver(handoff::Message m);
    // A flow's mailbox, or the unclaimed queue for nullopt; null if not open.
    Mailbox* mailbox(std::optional<std::uint64_t> flow);
    std::string describe(std::optional<std::uint64_t> flow) const;
    boost::asio::awaitable<Result<handoff::Message>> wait(std::optional<std::uint64_t> flow, Deadline deadline);

    ControlChannel& channel_;
    Limits limits_;
    std::unordered_map<std::uint64_t, Mailbox> flows_;
    Mailbox unclaimed_;
    std::optional<Error> ended_;
};

} // namespace xo::handoff
