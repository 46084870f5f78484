#include "common/handoff/responder_link.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/endpoint.h"
#include "common/log.h"

namespace xo::handoff {

namespace {
// The longest a control frame may take once its first byte has arrived.
constexpr auto frame_stall_limit = std::chrono::seconds(5);
} // namespace

ResponderLink::ResponderLink(std::unique_ptr<ControlChannel> channel, Address address)
    : channel_(std::move(channel)),
      // Late replies to flows the gateway gave up on are dropped at once.
      mux_(std::make_unique<FlowMux>(*channel_, FlowMux::Limits{.per_flow = 4, .unclaimed = 0})),
      address_(std::move(address)),
      name_(to_string(address_.control))
{
}

boost::asio::awaitable<Result<std::shared_ptr<ResponderLink>>>
ResponderLink::connect(std::shared_ptr<ControlTls> tls, Address to, Deadline deadline)
{
    auto channel = co_await connect_channel(std::move(tls), to.control, deadline);
    if (!channel)
        co_return with_context("responder " + to_string(to.control), channel.error());
    std::shared_ptr<ResponderLink> link(new ResponderLink(std::move(*channel), std::move(to)));
    // The reader's reference is a parameter, copied into its frame here: co_spawn
    // only starts the body later, by which time the caller may have dropped the link.
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, read_until_closed(link),
                          boost::asio::detached);
    co_return link;
}

void ResponderLink::close(const std::string& reason)
{
    channel_->close(reason);
}

boost::asio::awaitable<void> ResponderLink::read_until_closed(std::shared_ptr<ResponderLink> self)
{
    Error why = co_await self->mux_->run(frame_stall_limit);
    self->ended_ = true;
    self->channel_->close(why.message);
    log::warn("responder ", self->name_, ": control channel ended: ", why.message);
}

} // namespace xo::handoff
