// xo-responder's settings. Every setting is a command-line flag and a key of
// the optional config file (--config), flags winning, as for xo-gateway;
// `xo-responder --help` prints them with their defaults. Parsing never exits
// the process: main() decides what to do with help text and errors.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "osd_xo/cluster.h"
#include "common/log.h"
#include "osd_xo/servable.h"

namespace xo::rsp {

struct ResponderConfig {
    boost::asio::ip::tcp::endpoint control;   ///< control server (TLS PSK)
    boost::asio::ip::address address;         ///< restored sockets bind here
    std::vector<boost::asio::ip::address> gateway_addresses; ///< public addresses rewrites may use as source
    std::string ifname;                       ///< egress data plane attaches here
    std::string instance;                     ///< bpffs pin directory name
    std::string channel_key;                  ///< keyring the control channel's gateways prove
    std::string ticket_key;                   ///< keyring of the gateways' tickets
    std::optional<boost::asio::ip::tcp::endpoint> metrics_listen;
    ClusterSettings cluster;
    ReadSettings reads;
    std::chrono::seconds write_timeout{30};   ///< a client making no progress this long is dropped
    std::chrono::milliseconds go_timeout{2000}; ///< a restored socket waits this long for GO
    std::size_t max_connections = 4096;
    std::chrono::seconds sweep_interval{5};   ///< how often the rewrite table is swept
    log::Level log_level = log::Level::info;
};

/** What parse_command_line() decided. */
struct ParseResult {
    std::optional<ResponderConfig> config; ///< set when the responder should run
    std::string message;                   ///< help text, or why parsing failed
    bool error = false;
};

/**
 * parse_command_line() - build a ResponderConfig from @args (argv without argv[0]).
 *
 * Return: a config to run with; or, for --help, the help text; or an error
 * message naming the offending flag.
 */
ParseResult parse_command_line(const std::vector<std::string>& args);

} // namespace xo::rsp
