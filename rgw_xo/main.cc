// xo-gateway: the S3 front door of XO-Ceph. See docs/architecture.md.
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "rgw_xo/access_log.h"
#include "rgw_xo/connection_limit.h"
#include "common/core_dumps.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/gateway_metrics.h"
#include "common/log.h"
#include "common/metrics.h"
#include "rgw_xo/offload_service.h"
#include "common/open_files.h"
#include "rgw_xo/server.h"
#include "rgw_xo/service_map.h"
#include "rgw_xo/tls_certificates.h"

int main(int argc, char** argv)
{
    using namespace xo::gw;
    std::vector<std::string> args(argv + 1, argv + argc);
    ParseResult parsed = parse_command_line(args);
    if (!parsed.config) {
        (parsed.error ? std::cerr : std::cout) << parsed.message << (parsed.error ? "\n" : "");
        return parsed.error ? 2 : 0;
    }
    GatewayConfig& config = *parsed.config;
    xo::log::set_level(config.log_level);
    // Before any key is read: channel and TLS session keys must never reach a core file.
    if (auto forbidden = xo::forbid_core_dumps(); !forbidden) {
        xo::log::error(forbidden.error().message);
        return 1;
    }

    // Peers that vanish must cost an error value, never the process.
    std::signal(SIGPIPE, SIG_IGN);

    const std::uint64_t files = xo::raise_open_files_limit();
    if (config.max_connections == 0)
        config.max_connections = connections_for_open_files(files);
    xo::log::info("open files limit ", files, ", --max-connections ", config.max_connections);

    AccessLog access_log(config.access_log);
    if (!access_log.ok()) {
        xo::log::error(access_log.error());
        return 1;
    }
    xo::metrics::Registry registry;
    GatewayMetrics metrics(registry);
    std::unique_ptr<OffloadService> offload;
    if (config.offload.enabled()) {
        auto started = OffloadService::start(config.offload, metrics);
        if (!started) {
            xo::log::error("offload: ", started.error().message);
            return 1;
        }
        offload = std::move(*started);
        // Seen in `ceph -s` / `ceph service dump`; serving does not depend on it.
        if (auto registered = offload->register_service("xo-gateway", service_daemon_name(config),
                                                        service_metadata(config));
            !registered)
            xo::log::warn(registered.error().message);
    }
    std::unique_ptr<TlsCertificates> certificates;
    if (config.ssl_endpoint) {
        auto loaded = TlsCertificates::load(config.ssl_certificate, config.ssl_private_key);
        if (!loaded) {
            xo::log::error("HTTPS: ", loaded.error().message);
            return 1;
        }
        certificates = std::move(*loaded);
    }
    Server server(config, access_log, metrics, offload.get(), certificates.get());
    std::string error;
    if (!server.listen(error)) {
        xo::log::error(error);
        return 1;
    }
    server.run();
    return 0;
}
