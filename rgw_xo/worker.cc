#include "worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <sys/socket.h>

#include "client_session.h"
#include "endpoint.h"
#include "log.h"

namespace xo::gw {

using boost::asio::ip::tcp;
using boost::system::error_code;

Worker::Worker(const GatewayConfig& config, AccessLog& access_log, GatewayMetrics& metrics, unsigned index,
               OffloadService* offload)
    : config_(config), access_log_(access_log), metrics_(metrics), index_(index), acceptor_(ioc_)
{
    if (offload)
        offload_ = std::make_unique<GetOffload>(*offload);
    auto start = std::chrono::system_clock::now().time_since_epoch();
    char prefix[48];
    std::snprintf(prefix, sizeof prefix, "%llx-%x-",
                  static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(start).count()),
                  index_);
    id_prefix_ = prefix;
}

bool Worker::listen(std::string& error)
{
    if (auto ec = listen_on(acceptor_, config_.listen, true)) {
        error = "cannot listen on " + to_string(config_.listen) + ": " + ec.message();
        return false;
    }
    return true;
}

void Worker::run()
{
    boost::asio::co_spawn(ioc_, accept_loop(), [](std::exception_ptr e) {
        if (e)
            log::error("accept loop ended by an exception");
    });
    ioc_.run();
}

void Worker::drain()
{
    boost::asio::post(ioc_, [this] {
        draining_ = true;
        error_code ignored;
        acceptor_.close(ignored);
        for (ClientSession* s : sessions_)
            s->on_drain();
    });
}

void Worker::stop() { ioc_.stop(); }

std::string Worker::next_request_id()
{
    char counter[24];
    std::snprintf(counter, sizeof counter, "%llx", static_cast<unsigned long long>(++id_counter_));
    return id_prefix_ + counter;
}

boost::asio::awaitable<void> Worker::accept_loop()
{
    while (!draining_) {
        error_code ec;
        tcp::socket socket = co_await acceptor_.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) {
            if (draining_)
                break;
            // EMFILE and friends: keep serving the connections we have and
            // retry, rather than spinning or exiting.
            log::warn("accept failed: ", ec.message());
            boost::asio::steady_timer pause(ioc_, std::chrono::milliseconds(100));
            co_await pause.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            continue;
        }
        ClientSession::start(*this, std::move(socket));
    }
}

} // namespace xo::gw
