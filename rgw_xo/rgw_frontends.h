// Theory of operation: operators enable XO-Ceph the way they enable any
// radosgw frontend, with an entry in the instance's `rgw frontends` option:
//
//   rgw frontends = beast endpoint=127.0.0.1:8000, xo endpoint=0.0.0.0:80 offload_threshold=1M
//
// The option is a comma-separated list of entries, each a framework name
// followed by space-separated key=value settings, parsed as radosgw parses it
// (radosgw 16 logs "skipping unknown framework: xo" and serves from the rest,
// so the entry costs radosgw nothing). xo-gateway takes its own settings from
// the `xo` entry and the radosgw it relays to from the `beast` entry. This
// file is the pure part: text in, the gateway's option names and values out;
// rgw_frontends_option.h fetches the text from the cluster's configuration.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xo::gw {

/** struct FrontendEntry - one entry of `rgw frontends`. */
struct FrontendEntry {
    std::string framework;                                     ///< "beast", "xo", ...
    std::vector<std::pair<std::string, std::string>> settings; ///< in order; a key may repeat
};

/**
 * parse_rgw_frontends() - split an `rgw frontends` value into its entries.
 *
 * Return: the entries in order, or an Error naming the malformed part (an
 * empty entry, a setting without a key).
 */
Result<std::vector<FrontendEntry>> parse_rgw_frontends(std::string_view value);

/** An option of xo-gateway's command line (name without "--") and its value. */
using GatewaySetting = std::pair<std::string, std::string>;

/**
 * gateway_settings() - xo-gateway's settings from the entries of `rgw frontends`.
 *
 * The `xo` entry's keys are xo-gateway's option names with '_' for '-'
 * (`endpoint` is --listen, as in beast); size options take radosgw's suffixes
 * (1M = 1 MiB). --upstream is the beast entry's first plain endpoint (or its
 * port= on loopback); a wildcard address becomes loopback of its family.
 * Return: the settings, or an Error when there is no `xo` entry, more than one,
 * a repeated key, a bad size, or no beast endpoint to relay to.
 */
Result<std::vector<GatewaySetting>> gateway_settings(const std::vector<FrontendEntry>& entries);

} // namespace xo::gw
