#include "rgw_xo/responder_links.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "rgw_xo/neighbor_table.h"

namespace xo::gw {

namespace {

constexpr auto connect_limit = std::chrono::milliseconds(500);
constexpr auto retry_after = std::chrono::seconds(1);
constexpr auto connect_poll = std::chrono::milliseconds(2);

} // namespace

boost::asio::awaitable<Result<std::shared_ptr<handoff::ResponderLink>>> ResponderLinks::link(std::string host)
{
    Slot& slot = slots_[host]; // std::map: references stay valid across the awaits below
    if (slot.link && slot.link->alive())
        co_return slot.link;
    if (slot.connecting) {
        // Another request of this worker is connecting: wait for it (bounded) rather than relay.
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
        for (auto until = Clock::now() + connect_limit; slot.connecting && Clock::now() < until;) {
            pause.expires_after(connect_poll);
            boost::system::error_code ignored;
            co_await pause.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
        }
        if (slot.link && slot.link->alive())
            co_return slot.link;
        co_return Error{"responder " + host + ": connecting"};
    }
    if (Clock::now() - slot.last_attempt < retry_after)
        co_return Error{"responder " + host + ": down, retrying later"};

    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    if (ec)
        co_return Error{"responder host " + host + ": " + ec.message()};
    slot.connecting = true;
    slot.last_attempt = Clock::now();
    slot.link.reset();
    handoff::ResponderLink::Address to;
    to.control = {address, port_};
    to.data = address;
    auto link = co_await handoff::ResponderLink::connect(tls_, to, deadline_in(connect_limit));
    slot.connecting = false;
    if (!link)
        co_return with_context("responder " + host, link.error());
    auto mac = neighbor_mac(ifname_, address);
    if (!mac) {
        // Only the link's reader still holds it: closing the channel ends the reader and frees the link.
        (*link)->close(mac.error().message);
        co_return with_context("responder " + host, mac.error());
    }
    (*link)->set_mac(*mac);
    log::info("offload: connected to responder ", host);
    slot.link = std::move(*link);
    co_return slot.link;
}

void ResponderLinks::close_all(const std::string& reason)
{
    for (auto& [host, slot] : slots_)
        if (slot.link)
            slot.link->close(reason);
}

} // namespace xo::gw
