#include "qa/handoff/gateway_service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iostream>

#include "common/log.h"
#include "qa/handoff/pattern_writer.h"

namespace xo::testbed {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace xo::handoff;

void print_counters(const GatewayCounters& c)
{
    std::cout << "counters requests=" << c.requests << " offloads=" << c.offloads << " fallbacks=" << c.fallbacks
              << " lost=" << c.lost << " returns=" << c.returns << " return_errors=" << c.return_errors
              << " closed_at_responder=" << c.closed_at_responder << std::endl;
}

awaitable<void> Gateway::connect(std::size_t index)
{
    auto& slot = responders[index];
    if (slot.connecting)
        co_return;
    slot.connecting = true;
    slot.last_attempt = Clock::now();
    auto link = co_await ResponderLink::connect(tls_, slot.address, deadline_in(std::chrono::seconds(2)));
    slot.connecting = false;
    if (!link) {
        log::warn(link.error().message);
        co_return;
    }
    log::info("connected to responder ", (*link)->name());
    slot.link = std::move(*link);
}

awaitable<void> Gateway::serve(tcp::socket socket)
{
    Bytes pending;
    std::uint8_t buf[4096];
    while (true) {
        auto nl = std::find(pending.begin(), pending.end(), '\n');
        if (nl == pending.end()) {
            if (pending.size() > 1024)
                co_return; // not a testbed client
            boost::system::error_code ec;
            std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return; // EOF or error: the socket closes normally
            pending.insert(pending.end(), buf, buf + n);
            continue;
        }
        std::string line(pending.begin(), nl);
        pending.erase(pending.begin(), nl + 1);
        auto request = parse_request(line);
        if (!request) {
            log::warn("bad request line: ", line);
            co_return;
        }
        ++counters.requests;
        if (!co_await handle(socket, pending, *request, line))
            co_return;
    }
}

awaitable<bool> Gateway::handle(tcp::socket& socket, Bytes& pending, Request request, std::string line)
{
    std::shared_ptr<ResponderLink> link;
    if (!responders.empty()) {
        std::size_t index = request.seed % responders.size();
        auto& slot = responders[index];
        if ((!slot.link || !slot.link->alive()) && Clock::now() - slot.last_attempt > std::chrono::seconds(1))
            asio::co_spawn(ioc_, connect(index), asio::detached);
        link = slot.link;
    }
    if (link) {
        auto protocol = socket.local_endpoint().protocol();
        OffloadRequest offer{UniqueFd(socket.release()), pending, Bytes(line.begin(), line.end()), Bytes{'t'},
                             request.bytes};
        auto outcome = co_await offloader_.offload(link, std::move(offer));
        if (auto* done = std::get_if<Offloaded>(&outcome)) {
            ++counters.offloads;
            stats.add("gw_block", done->times.block);
            stats.add("gw_save", done->times.save);
            stats.add("gw_control_rpc", done->times.rpc);
            stats.add("gw_redirect_insert", done->times.redirect);
            stats.add("gw_close", done->times.close);
            stats.add("handoff", done->times.total);
            auto back = co_await offloader_.await_return(std::move(*done));
            if (!back) {
                ++counters.return_errors;
                log::warn(back.error().message);
                co_return false;
            }
            if (!back->connection) {
                ++counters.closed_at_responder;
                co_return false;
            }
            auto& returned = *back->connection;
            ++counters.returns;
            stats.add("return", returned.times.total);
            stats.add("return_restore", returned.times.restore);
            socket = tcp::socket(ioc_);
            socket.assign(protocol, returned.socket.release());
            pending = std::move(returned.read_ahead);
            co_return true;
        }
        if (auto* lost = std::get_if<Lost>(&outcome)) {
            ++counters.lost;
            log::warn(lost->reason.message);
            co_return false;
        }
        auto& fallback = std::get<Fallback>(outcome);
        ++counters.fallbacks;
        log::info("serving locally: ", fallback.reason.message);
        if (!fallback.socket.valid())
            co_return false;
        socket = tcp::socket(ioc_);
        socket.assign(protocol, fallback.socket.release());
    }
    auto written = co_await write_pattern(socket, request);
    co_return written.ok();
}

awaitable<void> accept_clients(tcp::acceptor& acceptor, Gateway& gateway)
{
    while (acceptor.is_open()) {
        boost::system::error_code ec;
        auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (!ec)
            asio::co_spawn(acceptor.get_executor(), gateway.serve(std::move(socket)), asio::detached);
    }
}

awaitable<void> connect_responders(Gateway& gateway)
{
    for (std::size_t i = 0; i < gateway.responders.size(); ++i)
        co_await gateway.connect(i);
}

} // namespace xo::testbed
