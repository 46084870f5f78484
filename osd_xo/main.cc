// xo-responder: serves handed-off S3 GETs on an OSD host. See docs/architecture.md.
//
// Theory of operation: one thread, one io_context. A ConnectionHost accepts
// gateway control channels on --control (TLS 1.3 PSK from --key), restores
// offered connections on --address and installs their egress rewrites
// (only with a --gateway-address as source)
// through the data plane attached to --ifname (maps pinned under
// --instance). Before it serves, and then every --sweep-interval on a thread
// of its own, the rewrite table is swept of entries whose owner is dead (a
// killed predecessor's: its sockets died with it). ResponderService decides each OFFER (ticket
// under a key of --ticket-key, used once; head object)
// and streams the admitted ones from RADOS, whose completions are posted
// back to this thread. Startup failures — key, cluster (bounded by
// --cluster-timeout), data plane, sockets — end the process with status 1;
// after that, failures cost one connection, never the process. SIGTERM or
// SIGINT stops serving (connections still held are cut), detaches the data
// plane and removes its pins; the exit status is then 0.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>

#include "osd_xo/cluster.h"
#include "common/handoff/connection_host.h"
#include "common/core_dumps.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/metrics_endpoint.h"
#include "common/open_files.h"
#include "common/periodic_thread.h"
#include "common/handoff/psk.h"
#include "osd_xo/responder_config.h"
#include "bpf/responder_data_plane.h"
#include "osd_xo/ktls_probe.h"
#include "osd_xo/responder_metrics.h"
#include "osd_xo/responder_service.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace xo;

/// How long SIGTERM waits for cut connections to be reset before detaching the data plane.
constexpr auto kCutTimeout = std::chrono::seconds(2);
/** sweep_rewrites() - one sweep of @plane's rewrite table, reported to @metrics. */
void sweep_rewrites(bpf::ResponderDataPlane& plane, rsp::ResponderMetrics& metrics)
{
    auto swept = plane.rewrites().sweep();
    if (!swept) {
        log::warn(swept.error().message);
        return;
    }
    if (swept->dead)
        log::info("rewrite table: removed ", swept->dead, " entries of dead responders; ", swept->entries, " left");
    metrics.rewrite_entries.set(static_cast<std::int64_t>(swept->entries));
    metrics.rewrites_swept.add(swept->dead);
}

/** serve() - run until SIGTERM/SIGINT with everything set up; false on a setup failure. */
bool serve(asio::io_context& ioc, const rsp::ResponderConfig& config, librados::Rados& rados,
           bpf::ResponderDataPlane& plane, std::shared_ptr<handoff::ControlTls> tls, rsp::TicketKeys ticket_keys)
{
    metrics::Registry registry;
    rsp::ResponderMetrics metrics(registry);
    sweep_rewrites(plane, metrics); // before any gateway can offer
    auto ktls = rsp::kernel_tls_available();
    metrics.ktls_available.set(ktls ? 1 : 0);
    log::info("HTTPS handoffs: records sealed in user space",
              ktls ? " (the kernel offers kTLS)" : "; no kTLS: " + ktls.error().message);
    PeriodicThread sweeper(config.sweep_interval, [&] { sweep_rewrites(plane, metrics); });
    rsp::ResponderService service(ioc.get_executor(), rados, std::move(ticket_keys), config.reads,
                                  config.write_timeout, metrics);
    handoff::HostLimits limits;
    limits.max_connections = config.max_connections;
    limits.go = config.go_timeout;
    handoff::HostAddresses addresses{config.address, config.gateway_addresses, &metrics.refused_bad_address};
    handoff::ConnectionHost host(plane.rewrites(), std::move(addresses), service.application(), limits,
                                 service.admission());
    tcp::acceptor acceptor(ioc);
    if (auto ec = listen_on(acceptor, config.control))
        return log::error("control endpoint ", to_string(config.control), ": ", ec.message()), false;
    std::unique_ptr<MetricsEndpoint> scrapes;
    if (config.metrics_listen) {
        scrapes = std::make_unique<MetricsEndpoint>(ioc.get_executor(), registry, &metrics.metrics_accept_backoffs);
        std::string why;
        if (!scrapes->listen(*config.metrics_listen, why))
            return log::error("--metrics-listen: ", why), false;
        scrapes->start();
        log::info("serving metrics on http://", to_string(*config.metrics_listen), "/metrics");
    }
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    // Connections still held are cut while their rewrites exist (the clients
    // see RSTs, not silence); then the loop stops and the data plane goes.
    asio::steady_timer poll(ioc);
    std::chrono::steady_clock::time_point give_up;
    std::function<void()> stop_when_cut = [&] {
        if (host.hosted() == 0 || std::chrono::steady_clock::now() >= give_up)
            return ioc.stop();
        poll.expires_after(std::chrono::milliseconds(10));
        poll.async_wait([&](const boost::system::error_code&) { stop_when_cut(); });
    };
    signals.async_wait([&](const boost::system::error_code&, int signal) {
        log::info("signal ", signal, ": stopping");
        if (scrapes)
            scrapes->close();
        boost::system::error_code ignored;
        acceptor.close(ignored);
        host.cut_all();
        give_up = std::chrono::steady_clock::now() + kCutTimeout;
        stop_when_cut();
    });
    asio::co_spawn(ioc, host.accept_gateways(acceptor, std::move(tls),
                                             {&metrics.control_accept_backoffs, &metrics.control_rejected}),
                   asio::detached);
    log::info("responder control on ", to_string(config.control), ", restoring on ", config.address, ", egress ",
              config.ifname, ", pipeline ", config.reads.pipeline_depth, " x ", config.reads.read_bytes, " bytes");
    ioc.run();
    if (host.hosted())
        log::warn(host.hosted(), " connections were still held at shutdown");
    return true;
}

/**
 * log_open_files_limit() - raise RLIMIT_NOFILE and say whether it covers
 * @max_connections restored sockets; a shortage costs OFFERs, refused as
 * restore_failed and relayed by the gateway, not the process.
 */
void log_open_files_limit(std::size_t max_connections)
{
    // Besides the restored sockets: control channels, librados' connections, the metrics endpoint.
    constexpr std::uint64_t reserve = 256;
    std::uint64_t files = raise_open_files_limit();
    log::info("open files limit ", files);
    if (files < max_connections + reserve)
        log::warn("the open files limit ", files, " is below --max-connections ", max_connections, " + ", reserve,
                  ": OFFERs beyond it will be refused");
}

int run(const rsp::ResponderConfig& config)
{
    // Outlives the cluster handle: librados completions still draining at
    // shutdown post to it, and posting to a stopped io_context is harmless.
    asio::io_context ioc;
    // Read once here so that a wrong file fails the start, not the first handshake.
    if (auto channel = handoff::Keyring::load(config.channel_key); !channel)
        return log::error(channel.error().message), 1;
    // Tickets have keys of their own; the file is read again whenever it changes (rotation).
    auto ticket_file = std::make_shared<handoff::KeyringFile>(config.ticket_key);
    if (auto keys = ticket_file->keys(); !keys)
        return log::error(keys.error().message), 1;
    rsp::TicketKeys ticket_keys = [ticket_file] { return ticket_file->keys(); };
    auto tls = handoff::ControlTls::make(handoff::ControlTls::Role::server, handoff::key_file_source(config.channel_key));
    if (!tls)
        return log::error(tls.error().message), 1;
    auto rados = rsp::connect_cluster(config.cluster);
    if (!rados)
        return log::error(rados.error().message), 1;
    auto plane = bpf::ResponderDataPlane::open({config.instance});
    if (!plane)
        return log::error(plane.error().message), 1;
    bool served = false;
    if (auto attached = (*plane)->attach(config.ifname); !attached)
        log::error(attached.error().message);
    else
        served = serve(ioc, config, **rados, **plane, std::move(*tls), std::move(ticket_keys));
    // Detach first (the object's destructor), then the pins: nothing of this
    // instance stays in the kernel after we exit.
    plane->reset();
    if (auto removed = bpf::ResponderDataPlane::remove(config.instance); !removed)
        log::warn(removed.error().message);
    rados->reset();
    return served ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    rsp::ParseResult parsed = rsp::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!parsed.config) {
        (parsed.error ? std::cerr : std::cout) << parsed.message << (parsed.error ? "\n" : "");
        return parsed.error ? 2 : 0;
    }
    log::set_level(parsed.config->log_level);
    // Before any key is read: channel, ticket and TLS session keys must never reach a core file.
    if (auto forbidden = forbid_core_dumps(); !forbidden)
        return log::error(forbidden.error().message), 1;
    // A client that vanishes must cost an error value, never the process.
    std::signal(SIGPIPE, SIG_IGN);
    log_open_files_limit(parsed.config->max_connections);
    return run(*parsed.config);
}
