#include "rgw_xo/gateway_config.h"

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/options_parse.h"
#include "rgw_xo/rgw_frontends.h"

namespace xo::gw {
namespace po = boost::program_options;

namespace {

// Upper bounds keep a typo from turning into a per-connection allocation the
// machine cannot make (the header limit is also a 32-bit quantity in Beast).
constexpr std::size_t max_header_limit = 16 * 1024 * 1024;
constexpr std::size_t max_relay_buffer = 64 * 1024 * 1024;
// Each remembered name costs its bytes (an S3 key is at most 1 KiB) plus ~100 bytes of list and
// hash nodes: at most ~1.2 GiB per worker at this bound, ~200 MiB with keys of ~100 bytes.
constexpr std::size_t max_small_objects = std::size_t{1} << 20;

struct RawOptions {
    std::string config_file, name, listen, upstream, metrics_listen, access_log, client_addr_header, log_level;
    std::string ssl_endpoint, ssl_certificate, ssl_private_key;
    unsigned threads = 0;
    std::size_t max_connections = 0, max_header_bytes = 0, relay_buffer_bytes = 0;
    long header_timeout = 0, idle_timeout = 0, io_timeout = 0, connect_timeout = 0, shutdown_timeout = 0;
    long continue_timeout_ms = 0;
    OffloadConfig offload;
    unsigned responder_port = 0;
    long flow_orphan_idle = 0, flow_sweep_interval = 0;
    std::string tc_flower;
};

po::options_description describe(RawOptions& raw)
{
    GatewayConfig defaults;
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    po::options_description d("xo-gateway options (also config-file keys, `key = value`)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("config", po::value(&raw.config_file), "config file with the keys below; flags override it")
        ("name", po::value(&raw.name),
            "radosgw instance (client.rgw.<id>) whose `rgw frontends` option, from --ceph-conf or the "
            "monitors, holds this gateway's `xo` entry (keys: these options with _ for -, endpoint for "
            "--listen; sizes as 1M) and the `beast` entry it relays to; flags and --config override it")
        ("listen", po::value(&raw.listen)->default_value("0.0.0.0:80"), "public S3 endpoint, IP:port or [IPv6]:port")
        ("upstream", po::value(&raw.upstream)->default_value("127.0.0.1:8000"), "radosgw endpoint")
        ("metrics-listen", po::value(&raw.metrics_listen)->default_value(""),
            "Prometheus endpoint IP:port serving GET /metrics (default: off)")
        ("ssl-endpoint", po::value(&raw.ssl_endpoint)->default_value(""),
            "HTTPS endpoint IP:port, beside --listen; needs --ssl-certificate and --ssl-private-key "
            "(default: off)")
        ("ssl-certificate", po::value(&raw.ssl_certificate)->default_value(""),
            "PEM file with the server certificate followed by its chain; reread on SIGHUP")
        ("ssl-private-key", po::value(&raw.ssl_private_key)->default_value(""),
            "PEM file with the certificate's private key (keep it 0600); reread on SIGHUP")
        ("threads", po::value(&raw.threads)->default_value(cores), "I/O threads, one io_context each (default: cores)")
        ("max-connections", po::value(&raw.max_connections)->default_value(defaults.max_connections),
            "client connections served at once; one more is answered 503 SlowDown and closed "
            "(default 0: half the open files limit, less a reserve)")
        ("max-header-bytes", po::value(&raw.max_header_bytes)->default_value(defaults.max_header_bytes),
            "largest request header accepted; larger gets 400 RequestHeaderSectionTooLarge")
        ("header-timeout", po::value(&raw.header_timeout)->default_value(defaults.header_timeout.count()),
            "seconds a started request header may take to arrive")
        ("idle-timeout", po::value(&raw.idle_timeout)->default_value(defaults.idle_timeout.count()),
            "seconds a kept-alive connection may wait for its next request")
        ("io-timeout", po::value(&raw.io_timeout)->default_value(defaults.io_timeout.count()),
            "seconds without progress on a body read or write before the connection is dropped")
        ("connect-timeout", po::value(&raw.connect_timeout)->default_value(defaults.connect_timeout.count()),
            "seconds to connect to radosgw before answering 503")
        ("continue-timeout-ms", po::value(&raw.continue_timeout_ms)->default_value(defaults.continue_timeout.count()),
            "how long to wait for radosgw's 100 Continue before sending the body anyway")
        ("shutdown-timeout", po::value(&raw.shutdown_timeout)->default_value(defaults.shutdown_timeout.count()),
            "seconds in-flight requests get to finish after SIGTERM/SIGINT")
        ("relay-buffer-bytes", po::value(&raw.relay_buffer_bytes)->default_value(defaults.relay_buffer_bytes),
            "per-connection buffer for relaying bodies")
        ("access-log", po::value(&raw.access_log)->default_value(defaults.access_log),
            "access log file (one JSON line per request), '-' for stdout")
        ("client-addr-header", po::value(&raw.client_addr_header)->default_value(defaults.client_addr_header),
            "header carrying the client's address to radosgw (rgw remote addr param); "
            "a client-supplied one is replaced")
        ("log-level", po::value(&raw.log_level)->default_value("info"), "debug, info, warn or error")
        ("channel-keys", po::value(&raw.offload.channel_keys)->default_value(""),
            "directory of the responders' control channel keys, one file <responder IP>.key each "
            "(mode 0600); enables GET offload (default: off)")
        ("ticket-key", po::value(&raw.offload.ticket_key)->default_value(""),
            "key file (mode 0600) whose first key signs tickets; required with --channel-keys")
        ("offload-threshold", po::value(&raw.offload.threshold)->default_value(defaults.offload.threshold),
            "GET bodies larger than this many bytes are offloaded; the gateway relays the first this many")
        ("offload-small-objects",
            po::value(&raw.offload.small_objects)->default_value(defaults.offload.small_objects),
            "objects each worker remembers as no larger than --offload-threshold, least recently used "
            "forgotten first; their GETs go to radosgw without the gateway's Range, which costs radosgw "
            "a RADOS round trip (0: narrow every GET)")
        ("offload-ifname", po::value(&raw.offload.ifname)->default_value(defaults.offload.ifname),
            "public NIC the data plane attaches to")
        ("offload-attach", po::value(&raw.offload.attach)->default_value(defaults.offload.attach),
            "data plane hook: auto (native XDP where the driver has it, else TC), xdp or tc; on veth, "
            "XDP needs an XDP program on the peer (docs/architecture.md)")
        ("offload-instance", po::value(&raw.offload.instance)->default_value(defaults.offload.instance),
            "name of the data plane's pin directory under /sys/fs/bpf/xo")
        ("flow-orphan-idle", po::value(&raw.flow_orphan_idle)->default_value(defaults.offload.orphan_idle.count()),
            "seconds a flow entry left by a dead gateway may go without its client acknowledging new data "
            "before the sweep removes it (its transfer still runs at a responder until then)")
        ("flow-sweep-interval",
            po::value(&raw.flow_sweep_interval)->default_value(defaults.offload.sweep_interval.count()),
            "seconds between sweeps of the flow table for entries no live gateway owns")
        ("tc-flower", po::value(&raw.tc_flower)->default_value(steering::to_string(defaults.offload.tc_flower)),
            "TC flower rules for long offloaded flows, inserted in the background beside their eBPF entry: "
            "off, software (the kernel executes them), hardware (only the NIC: skip_sw) or auto (hardware "
            "where the NIC has hw-tc-offload, software where the kernel has cls_flower, act_pedit, act_csum "
            "and act_mirred, else off); probed at start, logged and exported as xo_tc_flower_* metrics")
        ("tc-flower-min-bytes",
            po::value(&raw.offload.tc_flower_min_bytes)->default_value(defaults.offload.tc_flower_min_bytes),
            "a flow gets a TC flower rule when its responder still has at least this many bytes to send")
        ("tc-flower-queue", po::value(&raw.offload.tc_flower_queue)->default_value(defaults.offload.tc_flower_queue),
            "rule inserts waiting at most; a long flow beyond it stays on eBPF alone (counted as dropped)")
        ("responder-port", po::value(&raw.responder_port)->default_value(defaults.offload.responder_port),
            "control port of the xo-responder on every OSD host")
        ("ceph-conf", po::value(&raw.offload.ceph_conf)->default_value(defaults.offload.ceph_conf),
            "ceph.conf (default: $CEPH_CONF or Ceph's usual search, /etc/ceph/ceph.conf first)")
        ("ceph-id", po::value(&raw.offload.ceph_id)->default_value(defaults.offload.ceph_id),
            "Ceph client id (client.<id>) for locating objects")
        ("data-pool", po::value(&raw.offload.data_pool)->default_value(defaults.offload.data_pool),
            "data pool of the default placement")
        ("offload-stall-timeout", po::value(&raw.offload.stall_timeout)->default_value(defaults.offload.stall_timeout),
            "seconds an offloaded transfer may go without the client acknowledging more before the gateway "
            "takes the connection away and resets it (a transfer that progresses has no time limit)")
        ("locator-threads", po::value(&raw.offload.locator_threads)->default_value(defaults.offload.locator_threads),
            "threads for the locator's blocking librados calls");
    // clang-format on
    return d;
}

template <typename Duration>
bool positive(long value, const char* name, Duration& out, std::string& error)
{
    if (value <= 0) {
        error = std::string("--") + name + " must be positive";
        return false;
    }
    out = Duration(value);
    return true;
}

// A file the gateway will read at start: it must be there, a regular file, and
// readable by this process now, so that a typo fails the start with its name
// instead of the first TLS handshake.
bool readable_file(const std::string& path, const char* flag, std::string& error)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        error = std::string("--") + flag + " " + path + ": " + std::strerror(errno);
        if (fd >= 0)
            ::close(fd);
        return false;
    }
    ::close(fd);
    if (!S_ISREG(st.st_mode)) {
        error = std::string("--") + flag + " " + path + ": not a regular file";
        return false;
    }
    return true;
}

// The HTTPS listener: all three flags or none.
bool validate_tls(const RawOptions& raw, GatewayConfig& c, std::string& error)
{
    if (raw.ssl_endpoint.empty()) {
        if (!raw.ssl_certificate.empty() || !raw.ssl_private_key.empty()) {
            error = "--ssl-certificate and --ssl-private-key need --ssl-endpoint";
            return false;
        }
        return true;
    }
    c.ssl_endpoint = parse_endpoint(raw.ssl_endpoint, error);
    if (!c.ssl_endpoint) {
        error = "--ssl-endpoint: " + error;
        return false;
    }
    if (*c.ssl_endpoint == c.listen) {
        error = "--ssl-endpoint must differ from --listen";
        return false;
    }
    if (raw.ssl_certificate.empty() || raw.ssl_private_key.empty()) {
        error = "--ssl-endpoint needs --ssl-certificate and --ssl-private-key";
        return false;
    }
    if (!readable_file(raw.ssl_certificate, "ssl-certificate", error) ||
        !readable_file(raw.ssl_private_key, "ssl-private-key", error))
        return false;
    c.ssl_certificate = raw.ssl_certificate;
    c.ssl_private_key = raw.ssl_private_key;
    return true;
}

std::optional<GatewayConfig> validate(const RawOptions& raw, std::string& error)
{
    GatewayConfig c;
    c.name = raw.name;
    auto listen = parse_endpoint(raw.listen, error);
    if (!listen) {
        error = "--listen: " + error;
        return std::nullopt;
    }
    auto upstream = parse_endpoint(raw.upstream, error);
    if (!upstream) {
        error = "--upstream: " + error;
        return std::nullopt;
    }
    c.listen = *listen;
    c.upstream = *upstream;
    if (!raw.metrics_listen.empty()) {
        c.metrics_listen = parse_endpoint(raw.metrics_listen, error);
        if (!c.metrics_listen) {
            error = "--metrics-listen: " + error;
            return std::nullopt;
        }
    }
    if (!validate_tls(raw, c, error))
        return std::nullopt;
    if (raw.threads == 0 || raw.threads > 256) {
        error = "--threads must be 1..256";
        return std::nullopt;
    }
    c.threads = raw.threads;
    c.max_connections = raw.max_connections;
    if (raw.max_header_bytes < 1024 || raw.max_header_bytes > max_header_limit) {
        error = "--max-header-bytes must be 1024.." + std::to_string(max_header_limit);
        return std::nullopt;
    }
    c.max_header_bytes = raw.max_header_bytes;
    if (raw.relay_buffer_bytes < 4096 || raw.relay_buffer_bytes > max_relay_buffer) {
        error = "--relay-buffer-bytes must be 4096.." + std::to_string(max_relay_buffer);
        return std::nullopt;
    }
    c.relay_buffer_bytes = raw.relay_buffer_bytes;
    if (!positive(raw.header_timeout, "header-timeout", c.header_timeout, error) ||
        !positive(raw.idle_timeout, "idle-timeout", c.idle_timeout, error) ||
        !positive(raw.io_timeout, "io-timeout", c.io_timeout, error) ||
        !positive(raw.connect_timeout, "connect-timeout", c.connect_timeout, error) ||
        !positive(raw.continue_timeout_ms, "continue-timeout-ms", c.continue_timeout, error) ||
        !positive(raw.shutdown_timeout, "shutdown-timeout", c.shutdown_timeout, error))
        return std::nullopt;
    if (raw.client_addr_header.empty() ||
        raw.client_addr_header.find_first_of(" :\t\r\n") != std::string::npos) {
        error = "--client-addr-header must be a header name";
        return std::nullopt;
    }
    c.client_addr_header = raw.client_addr_header;
    c.offload = raw.offload;
    if (raw.offload.threshold == 0) {
        error = "--offload-threshold must be at least 1";
        return std::nullopt;
    }
    if (raw.offload.small_objects > max_small_objects) {
        error = "--offload-small-objects must be 0.." + std::to_string(max_small_objects);
        return std::nullopt;
    }
    if (c.offload.enabled() && c.offload.ticket_key.empty()) {
        error = "--channel-keys needs --ticket-key: responders serve only what a ticket authorizes";
        return std::nullopt;
    }
    if (raw.responder_port == 0 || raw.responder_port > 65535) {
        error = "--responder-port must be 1..65535";
        return std::nullopt;
    }
    c.offload.responder_port = static_cast<std::uint16_t>(raw.responder_port);
    if (raw.offload.attach != "auto" && raw.offload.attach != "xdp" && raw.offload.attach != "tc") {
        error = "--offload-attach must be auto, xdp or tc";
        return std::nullopt;
    }
    if (auto mode = steering::parse_flower_mode(raw.tc_flower); !mode) {
        error = "--tc-flower must be off, software, hardware or auto";
        return std::nullopt;
    } else {
        c.offload.tc_flower = *mode;
    }
    if (raw.offload.tc_flower_queue == 0 || raw.offload.tc_flower_queue > 65536) {
        error = "--tc-flower-queue must be 1..65536";
        return std::nullopt;
    }
    if (raw.offload.stall_timeout == 0 || raw.offload.stall_timeout > 3600) {
        error = "--offload-stall-timeout must be 1..3600 seconds";
        return std::nullopt;
    }
    if (!positive(raw.flow_orphan_idle, "flow-orphan-idle", c.offload.orphan_idle, error) ||
        !positive(raw.flow_sweep_interval, "flow-sweep-interval", c.offload.sweep_interval, error))
        return std::nullopt;
    if (raw.offload.locator_threads == 0 || raw.offload.locator_threads > 64) {
        error = "--locator-threads must be 1..64";
        return std::nullopt;
    }
    c.access_log = raw.access_log;
    if (!log::parse_level(raw.log_level, c.log_level)) {
        error = "--log-level must be debug, info, warn or error";
        return std::nullopt;
    }
    return c;
}

// The xo entry of --name's `rgw frontends`, as settings; none without --name.
SettingsSource frontends_source(const FrontendsReader& read)
{
    return [&read](const po::variables_map& vm) -> Result<SettingsFromSource> {
        if (!vm.count("name"))
            return SettingsFromSource{};
        FrontendsQuery query{vm["name"].as<std::string>(), vm["ceph-conf"].as<std::string>(),
                             vm["ceph-id"].as<std::string>()};
        auto option = read(query);
        if (!option)
            return with_context("--name " + query.name, option.error());
        std::string origin = "--name " + query.name + ": rgw frontends '" + option->value + "' (from " +
                             option->source + ")";
        auto entries = parse_rgw_frontends(option->value);
        if (!entries)
            return with_context(origin, entries.error());
        auto settings = gateway_settings(*entries);
        if (!settings)
            return with_context(origin, settings.error());
        return SettingsFromSource{origin, std::move(*settings)};
    };
}

} // namespace

ParseResult parse_command_line(const std::vector<std::string>& args, const FrontendsReader& read)
{
    RawOptions raw;
    auto desc = describe(raw);
    ParseResult result;
    auto parsed = parse_options(desc, args,
                                "usage: xo-gateway [options]\n\n"
                                "S3 front door for radosgw: relays every request and offloads large GETs.\n\n",
                                frontends_source(read));
    result.message = std::move(parsed.message);
    result.error = parsed.error;
    if (!parsed.run())
        return result;
    result.config = validate(raw, result.message);
    result.error = !result.config;
    return result;
}

} // namespace xo::gw
