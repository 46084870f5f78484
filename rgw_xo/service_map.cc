#include "rgw_xo/service_map.h"

#include <unistd.h>

#include "common/endpoint.h"

namespace xo::gw {

std::string service_daemon_name(const GatewayConfig& config)
{
    constexpr std::string_view client = "client.";
    if (config.name.starts_with(client))
        return config.name.substr(client.size());
    return config.offload.instance;
}

std::vector<std::pair<std::string, std::string>> service_metadata(const GatewayConfig& config)
{
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::vector<std::pair<std::string, std::string>> m = {
        {"hostname", host},
        {"pid", std::to_string(::getpid())},
        {"endpoint", to_string(config.listen)},
        {"upstream", to_string(config.upstream)},
        {"offload_threshold", std::to_string(config.offload.threshold)},
        {"tc_flower", std::string(steering::to_string(config.offload.tc_flower))},
        {"responder_port", std::to_string(config.offload.responder_port)},
    };
    if (config.ssl_endpoint)
        m.emplace_back("ssl_endpoint", to_string(*config.ssl_endpoint));
    if (!config.name.empty())
        m.emplace_back("rgw_instance", config.name);
    return m;
}

} // namespace xo::gw
