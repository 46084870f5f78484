#include "osd_xo/responder_config.h"

#include <boost/program_options.hpp>

#include "common/endpoint.h"
#include "common/options_parse.h"

namespace xo::rsp {

namespace po = boost::program_options;

namespace {

// Bounds keep a typo from becoming an allocation the host cannot make:
// a connection holds (depth + 1) reads of read-bytes each.
constexpr std::uint64_t kMinReadBytes = 64 * 1024;
constexpr std::uint64_t kMaxReadBytes = 64 * 1024 * 1024;
constexpr std::size_t kMaxDepth = 64;

struct RawOptions {
    std::string config_file, control, address, metrics_listen, log_level;
    std::vector<std::string> gateway_addresses;
    long write_timeout = 0, head_timeout_ms = 0, cluster_timeout = 0, go_timeout_ms = 0, sweep_interval = 0;
};

/** describe() - every flag, bound to @raw (text to check) or straight to @c. */
po::options_description describe(RawOptions& raw, ResponderConfig& c)
{
    po::options_description d("xo-responder options (also config-file keys, `key = value`)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("config", po::value(&raw.config_file), "config file with the keys below; flags override it")
        ("control", po::value(&raw.control)->required(), "control server IP:port (TLS 1.3 PSK, gateways connect here)")
        ("address", po::value(&raw.address)->required(), "own IP address that restored client sockets bind to")
        ("gateway-address", po::value(&raw.gateway_addresses)->required()->composing(),
            "a gateway public address this responder serves for (repeatable): an OFFER whose connection is "
            "on another address is refused, so the egress rewrite never sends with any other source")
        ("ifname", po::value(&c.ifname)->required(), "NIC the responder's egress data plane attaches to")
        ("instance", po::value(&c.instance)->required(), "bpffs pin directory name (/sys/fs/bpf/xo/<instance>)")
        ("channel-key", po::value(&c.channel_key)->required(),
            "key file (mode 0600) of this responder's control channel; every key in it is accepted")
        ("ticket-key", po::value(&c.ticket_key)->required(), "key file (mode 0600) of the tickets gateways sign")
        ("metrics-listen", po::value(&raw.metrics_listen)->default_value(""),
            "Prometheus endpoint IP:port serving GET /metrics (default: off)")
        ("ceph-conf", po::value(&c.cluster.conf_path)->default_value(""), "ceph.conf (default: CEPH_CONF or the usual search)")
        ("ceph-id", po::value(&c.cluster.id)->default_value(c.cluster.id), "cephx user, client.<id>")
        ("cluster-timeout", po::value(&raw.cluster_timeout)->default_value(c.cluster.timeout.count()),
            "seconds to connect, and per RADOS operation")
        ("pipeline-depth", po::value(&c.reads.pipeline_depth)->default_value(c.reads.pipeline_depth),
            "RADOS reads in flight ahead of the socket per connection")
        ("read-bytes", po::value(&c.reads.read_bytes)->default_value(c.reads.read_bytes), "bytes per RADOS read")
        ("head-timeout-ms", po::value(&raw.head_timeout_ms)->default_value(c.reads.head_timeout.count()),
            "deadline of the admission's head object read")
        ("write-timeout", po::value(&raw.write_timeout)->default_value(c.write_timeout.count()),
            "seconds a client may make no progress before its connection is reset")
        ("go-timeout-ms", po::value(&raw.go_timeout_ms)->default_value(c.go_timeout.count()),
            "how long a restored connection waits for the gateway's GO; then it is closed silently and the "
            "gateway takes it back (it sent nothing). 0 gives up at once: every offload resumes on the gateway")
        ("max-connections", po::value(&c.max_connections)->default_value(c.max_connections),
            "OFFERs beyond this many held connections are refused as busy")
        ("sweep-interval", po::value(&raw.sweep_interval)->default_value(c.sweep_interval.count()),
            "seconds between sweeps of the rewrite table for entries of dead responders")
        ("log-level", po::value(&raw.log_level)->default_value("info"), "debug, info, warn or error");
    // clang-format on
    return d;
}

/** validate() - turn checked raw text into @c; false with @error otherwise. */
bool validate(const RawOptions& raw, ResponderConfig& c, std::string& error)
{
    auto control = parse_endpoint(raw.control, error);
    if (!control)
        return error = "--control: " + error, false;
    c.control = *control;
    boost::system::error_code ec;
    c.address = boost::asio::ip::make_address(raw.address, ec);
    if (ec)
        return error = "--address: " + ec.message(), false;
    for (const auto& text : raw.gateway_addresses) {
        auto gateway = boost::asio::ip::make_address(text, ec);
        if (ec)
            return error = "--gateway-address " + text + ": " + ec.message(), false;
        c.gateway_addresses.push_back(gateway);
    }
    if (!raw.metrics_listen.empty()) {
        c.metrics_listen = parse_endpoint(raw.metrics_listen, error);
        if (!c.metrics_listen)
            return error = "--metrics-listen: " + error, false;
    }
    if (c.reads.read_bytes < kMinReadBytes || c.reads.read_bytes > kMaxReadBytes)
        return error = "--read-bytes must be " + std::to_string(kMinReadBytes) + ".." + std::to_string(kMaxReadBytes),
               false;
    if (c.reads.pipeline_depth < 1 || c.reads.pipeline_depth > kMaxDepth)
        return error = "--pipeline-depth must be 1.." + std::to_string(kMaxDepth), false;
    if (raw.head_timeout_ms <= 0 || raw.write_timeout <= 0 || raw.cluster_timeout <= 0 || raw.sweep_interval <= 0)
        return error = "--head-timeout-ms, --write-timeout, --cluster-timeout and --sweep-interval must be positive",
               false;
    c.sweep_interval = std::chrono::seconds(raw.sweep_interval);
    if (raw.go_timeout_ms < 0)
        return error = "--go-timeout-ms must not be negative", false;
    c.go_timeout = std::chrono::milliseconds(raw.go_timeout_ms);
    c.reads.head_timeout = std::chrono::milliseconds(raw.head_timeout_ms);
    c.write_timeout = std::chrono::seconds(raw.write_timeout);
    c.cluster.timeout = std::chrono::seconds(raw.cluster_timeout);
    if (c.instance.empty() || c.instance.find('/') != std::string::npos)
        return error = "--instance must be a non-empty name without '/'", false;
    if (!log::parse_level(raw.log_level, c.log_level))
        return error = "--log-level must be debug, info, warn or error", false;
    return true;
}

} // namespace

ParseResult parse_command_line(const std::vector<std::string>& args)
{
    RawOptions raw;
    ResponderConfig config;
    auto desc = describe(raw, config);
    ParseResult result;
    auto parsed = parse_options(desc, args,
                                "usage: xo-responder [options]\n\n"
                                "Serves handed-off S3 GETs from RADOS on an OSD host and returns the connections.\n\n");
    result.message = std::move(parsed.message);
    result.error = parsed.error;
    if (!parsed.run())
        return result;
    if (!validate(raw, config, result.message)) {
        result.error = true;
        return result;
    }
    result.config = std::move(config);
    return result;
}

} // namespace xo::rsp
