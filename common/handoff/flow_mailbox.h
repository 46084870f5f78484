// Theory of operation: a handoff's claim on its flow id in a FlowMux. While
// the mailbox is open, messages for the flow wait for its coroutine; once
// it closes, late ones are dropped (gateway) or taken for new OFFERs
// (responder). The mailbox closes when its owner is destroyed, on every
// path, so a finished or failed handoff never leaves a flow id claimed.
// The mux must outlive the mailbox.
#pragma once

#include <cstdint>
#include <utility>

#include "common/handoff/flow_mux.h"

namespace xo::handoff {

class FlowMailbox {
public:
    FlowMailbox() = default;
    FlowMailbox(FlowMailbox&& other) noexcept
        : mux_(std::exchange(other.mux_, nullptr)), flow_(other.flow_) {}
    FlowMailbox& operator=(FlowMailbox&&) = delete;
    FlowMailbox(const FlowMailbox&) = delete;
    FlowMailbox& operator=(const FlowMailbox&) = delete;
    ~FlowMailbox()
    {
        if (mux_)
            mux_->close_flow(flow_);
    }

    /** open() - claim @flow on @mux; error if it is already claimed. */
    static Result<FlowMailbox> open(FlowMux& mux, std::uint64_t flow)
    {
        if (auto r = mux.open_flow(flow); !r)
            return r.error();
        FlowMailbox box;
        box.mux_ = &mux;
        box.flow_ = flow;
        return box;
    }

    /** next() - the flow's next message by @deadline. */
    boost::asio::awaitable<Result<Message>> next(Deadline deadline) { return mux_->next(flow_, deadline); }

    std::uint64_t flow() const { return flow_; }

private:
    FlowMux* mux_ = nullptr;
    std::uint64_t flow_ = 0;
};

} // namespace xo::handoff
