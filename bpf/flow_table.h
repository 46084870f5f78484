// Theory of operation: the gateway's view of its flow table map. A handoff
// goes block() → (socket moved) → redirect() → … → remove() when the
// connection comes back or dies. redirect() replaces the BLOCK value with one
// update call, which the kernel applies atomically (a packet sees either the
// old or the new value, never a mix), and it refuses flows that were never
// blocked, so the protocol order is enforced. The table does not own the map
// descriptor: the data plane that loaded (or reused) the map does.
#pragma once

#include <cstdint>

#include "flow_key.h"
#include "flow_maps.h"
#include "result.h"

namespace xo::bpf {

/** struct RedirectTarget - where REDIRECTed client packets go. */
struct RedirectTarget {
    Endpoint responder;  ///< responder address and (shifted) port
    Mac responder_mac{}; ///< destination MAC: responder or next hop
    Mac gateway_mac{};   ///< source MAC: the gateway NIC's own
};

/** struct FlowCounters - one entry's action and counters. */
struct FlowCounters {
    xo_flow_action action = XO_FLOW_BLOCK;
    std::uint64_t packets = 0; ///< since the entry's last update
    std::uint64_t bytes = 0;
    std::uint32_t last_seq = 0; ///< of the last packet handled, host order
    std::uint32_t last_ack = 0; ///< its acknowledgment number, host order
};

class FlowTable {
public:
    /** FlowTable() - wrap @map_fd (the xo_gw_flows map; not owned). */
    explicit FlowTable(int map_fd) : fd_(map_fd) {}

    /** block() - drop packets of @key from now on (insert or overwrite). */
    Result<void> block(const xo_flow_key& key);

    /** redirect() - atomically turn @key's existing entry into REDIRECT to @to. */
    Result<void> redirect(const xo_flow_key& key, const RedirectTarget& to);

    /** remove() - delete @key's entry; its packets pass to the stack again. */
    Result<void> remove(const xo_flow_key& key);

    /** counters() - @key's current action and counters. */
    Result<FlowCounters> counters(const xo_flow_key& key) const;

private:
    int fd_;
};

} // namespace xo::bpf
