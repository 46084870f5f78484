// xo-gateway's settings. Every setting is a command-line flag, a key of the
// optional config file (--config) and, with --name client.rgw.<id>, a key of
// the `xo` entry in that radosgw instance's `rgw frontends` option
// (rgw_frontends.h), in that order of precedence; `xo-gateway --help` prints
// them all with their defaults.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "common/steering/flower_mode.h"
#include "rgw_xo/rgw_frontends_option.h"

namespace xo::gw {

/** struct OffloadConfig - GET offload; enabled when a handoff key is given. */
struct OffloadConfig {
    std::string channel_keys;             ///< directory of per-responder channel keys; empty: offload off
    std::string ticket_key;               ///< key file whose current key signs tickets
    std::uint64_t threshold = 1024 * 1024; ///< larger bodies are offloaded after this many relayed bytes
    std::size_t small_objects = 16384;     ///< per worker, names known to be at most the threshold (small_objects.h)
    std::string ifname = "eth0";          ///< public NIC, where the data plane attaches
    std::string attach = "auto";          ///< auto (native XDP if the driver has it), xdp or tc
    std::string instance = "xo-gateway";  ///< bpffs pin directory name
    std::uint16_t responder_port = 7481;  ///< control port of every responder
    std::string ceph_conf;                ///< empty: Ceph's search ($CEPH_CONF, /etc/ceph/ceph.conf, ...)
    std::string ceph_id = "admin";
    std::string data_pool = "default.rgw.buckets.data";
    unsigned locator_threads = 2;         ///< librados calls of the locator block: they run here
    unsigned stall_timeout = 10;          ///< seconds an offloaded transfer may go without progress
    std::chrono::seconds orphan_idle{60};   ///< a dead gateway's REDIRECT without progress is swept after this
    std::chrono::seconds sweep_interval{5}; ///< how often the flow table is swept
    steering::FlowerMode tc_flower = steering::FlowerMode::automatic; ///< TC flower rules for long flows
    std::uint64_t tc_flower_min_bytes = 8 * 1024 * 1024; ///< a flow is long from this many bytes still to send
    std::size_t tc_flower_queue = 256;                   ///< rule inserts waiting at most; beyond, dropped
    bool enabled() const { return !channel_keys.empty(); }
};

struct GatewayConfig {
    std::string name; ///< --name: the radosgw instance whose `rgw frontends` configured this gateway, or empty
    boost::asio::ip::tcp::endpoint listen;
    boost::asio::ip::tcp::endpoint upstream;
    std::optional<boost::asio::ip::tcp::endpoint> metrics_listen; ///< Prometheus endpoint; none: off
    std::optional<boost::asio::ip::tcp::endpoint> ssl_endpoint; ///< HTTPS listener; none: HTTP only
    std::string ssl_certificate; ///< PEM chain, server certificate first; set exactly when ssl_endpoint is
    std::string ssl_private_key; ///< PEM private key of that certificate; set exactly when ssl_endpoint is
    unsigned threads = 1;
    std::size_t max_connections = 0; ///< client connections at once; 0: from the open files limit at start
    std::size_t max_header_bytes = 64 * 1024;
    std::chrono::seconds header_timeout{30};
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds io_timeout{60};
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds continue_timeout{1000};
    std::chrono::seconds shutdown_timeout{10};
    std::size_t relay_buffer_bytes = 256 * 1024;
    std::string access_log = "-";
    std::string client_addr_header = "X-XO-Client-Addr";
    log::Level log_level = log::Level::info;
    OffloadConfig offload;
};

/** What parse_command_line() decided. */
struct ParseResult {
    std::optional<GatewayConfig> config; ///< set when the gateway should run
    std::string message;                 ///< help text, or the reason parsing failed
    bool error = false;
};

/** How the `rgw frontends` of a --name is read; tests substitute the cluster. */
using FrontendsReader = std::function<Result<FrontendsOption>(const FrontendsQuery&)>;

/**
 * parse_command_line() - build a GatewayConfig from argv, the --config file
 * and, with --name, the instance's `rgw frontends` read by @read.
 *
 * Return: a config to run with; or, for --help, the help text; or an error
 * message naming the offending flag or key. Never exits the process.
 */
ParseResult parse_command_line(const std::vector<std::string>& args,
                               const FrontendsReader& read = read_rgw_frontends);

} // namespace xo::gw
