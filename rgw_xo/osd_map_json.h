// Theory of operation: the monitor answers `osd map` and `osd dump` in JSON,
// and pushes one cluster-log line "osdmap e<N>: ..." per new OSD map. These
// pure functions turn those texts into the few facts the locator needs, so
// the parsing is tested without a cluster. Addresses are reduced to the host
// part: the responder listens on the OSD host's public IP, not the OSD's port.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace xo::rgw {

/** The answer of `osd map <pool> <object>`. */
struct PgPrimary {
    uint64_t epoch = 0;      ///< OSD map epoch the monitor answered from
    std::string pgid;        ///< "<pool id>.<pg seed hex>"
    int acting_primary = -1; ///< OSD id
};

/** The public host address of every OSD in one OSD map. */
struct OsdAddresses {
    uint64_t epoch = 0;
    std::map<int, std::string> host; ///< OSD id -> IP (no port), up OSDs only
};

/**
 * parse_osd_map_reply() - facts from an `osd map ... format=json` answer.
 * Return: the facts, or an Error for malformed JSON or a PG without an acting primary.
 */
Result<PgPrimary> parse_osd_map_reply(std::string_view json);

/**
 * parse_osd_dump_addresses() - OSD id -> public IP from an `osd dump format=json` answer.
 * Return: the addresses, or an Error for malformed JSON.
 */
Result<OsdAddresses> parse_osd_dump_addresses(std::string_view json);

/**
 * osdmap_epoch_from_log() - N from a cluster-log message "osdmap eN: ...".
 * Return: the epoch, or nothing for any other message.
 */
std::optional<uint64_t> osdmap_epoch_from_log(std::string_view message);

/**
 * append_json_utf8() - append @s to @out as a quoted JSON string, UTF-8 kept
 * verbatim (the monitor must see the object name's own bytes); quotes,
 * backslashes and control bytes are escaped. Unlike common/escape.h's
 * log-safe escaping, bytes >= 0x80 are not rewritten.
 */
void append_json_utf8(std::string& out, std::string_view s);

/**
 * host_of_address() - the IP of "ip:port", "ip:port/nonce" or "[ip6]:port/nonce".
 * Return: the IP, or an Error if @addr has no port separator.
 */
Result<std::string> host_of_address(std::string_view addr);

} // namespace xo::rgw
