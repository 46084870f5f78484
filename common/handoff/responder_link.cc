#include "responder_link.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "endpoint.h"
#include "log.h"

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
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, link->read_until_closed(),
                          boost::asio::detached);
    co_return link;
}

boost::asio::awaitable<void> ResponderLink::read_until_closed()
{
    auto self = shared_from_this();
    Error why = co_await mux_->run(frame_stall_limit);
    ended_ = true;
    channel_->close(why.message);
    log::warn("responder ", name_, ": control channel ended: ", why.message);
}

} // namespace xo::handoff
