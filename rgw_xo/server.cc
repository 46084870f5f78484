#include "rgw_xo/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <thread>

#include "common/endpoint.h"
#include "common/log.h"

namespace xo::gw {

Server::Server(const GatewayConfig& config, AccessLog& access_log, GatewayMetrics& metrics, OffloadService* offload,
               TlsCertificates* certificates)
    : config_(config), certificates_(certificates), limit_(config.max_connections)
{
    metrics.set_max_connections(config.max_connections);
    for (unsigned i = 0; i < config.threads; ++i)
        workers_.push_back(std::make_unique<Worker>(config, access_log, metrics, limit_, i, offload, certificates));
    if (config.metrics_listen)
        metrics_endpoint_ = std::make_unique<MetricsEndpoint>(workers_.front()->executor(), metrics.registry(),
                                                              &metrics.metrics_accept_backoffs());
}

bool Server::listen(std::string& error)
{
    for (auto& w : workers_) {
        if (!w->listen(error))
            return false;
    }
    return !metrics_endpoint_ || metrics_endpoint_->listen(*config_.metrics_listen, error);
}

void Server::run()
{
    if (metrics_endpoint_) {
        metrics_endpoint_->start();
        log::info("serving metrics on http://", to_string(*config_.metrics_listen), "/metrics");
    }
    std::vector<std::thread> threads;
    for (auto& w : workers_)
        threads.emplace_back([worker = w.get()] { worker->run(); });
    if (certificates_ && config_.ssl_endpoint)
        log::info("xo-gateway listening for HTTPS on ", to_string(*config_.ssl_endpoint));
    log::info("xo-gateway listening on ", to_string(config_.listen), ", relaying to radosgw at ",
              to_string(config_.upstream), " with ", workers_.size(), " threads, up to ", limit_.max(),
              " connections");

    // Signals and the shutdown deadline are handled on this thread; a joiner
    // ends it once every worker has run out of work.
    boost::asio::io_context control;
    boost::asio::signal_set signals(control, SIGINT, SIGTERM);
    boost::asio::steady_timer deadline(control);
    auto stop_workers = [this] {
        for (auto& w : workers_)
            w->stop();
    };
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signo) {
            if (ec)
                return;
            if (!draining_) {
                draining_ = true;
                log::info("signal ", signo, ": draining, up to ", config_.shutdown_timeout.count(), " s");
                for (auto& w : workers_)
                    w->drain();
                if (metrics_endpoint_)
                    metrics_endpoint_->close();
                deadline.expires_after(config_.shutdown_timeout);
                deadline.async_wait([&](const boost::system::error_code& timer_ec) {
                    if (timer_ec)
                        return;
                    log::warn("shutdown timeout: abandoning in-flight requests");
                    stop_workers();
                });
            } else {
                log::warn("second signal: stopping now");
                stop_workers();
            }
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    boost::asio::signal_set hangups(control, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec,
                                                                               int) {
        if (ec)
            return;
        if (!certificates_)
            log::info("SIGHUP: no HTTPS certificate to reload");
        else if (auto reloaded = certificates_->reload(); !reloaded)
            log::error("SIGHUP: keeping the current certificate: ", reloaded.error().message);
        else
            log::info("SIGHUP: certificate reloaded from ", config_.ssl_certificate);
        hangups.async_wait(on_hangup);
    };
    hangups.async_wait(on_hangup);

    std::thread joiner([&] {
        for (auto& t : threads)
            t.join();
        boost::asio::post(control, [&] {
            deadline.cancel();
            signals.cancel();
            hangups.cancel();
        });
    });
    control.run();
    joiner.join();
    log::info("xo-gateway stopped");
}

} // namespace xo::gw
