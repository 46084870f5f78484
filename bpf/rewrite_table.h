// Theory of operation: the responder's direct-server-return table. For each
// restored connection, packets from (own IP, port') to the client leave with
// the gateway's public VIP:port as source. insert() must happen before the
// socket leaves TCP repair mode and remove() after the connection is handed
// back or closed. Like FlowTable it borrows the map descriptor.
#pragma once

#include <cstdint>

#include "flow_key.h"
#include "flow_maps.h"
#include "result.h"

namespace xo::bpf {

/** struct RewriteCounters - packets and bytes rewritten for one entry. */
struct RewriteCounters {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

class RewriteTable {
public:
    /** RewriteTable() - wrap @map_fd (the xo_rsp_rewrites map; not owned). */
    explicit RewriteTable(int map_fd) : fd_(map_fd) {}

    /**
     * insert() - rewrite the source of @key's packets to @public_source.
     * @key: flow_key(own IP:port', client IP:port).
     * @public_source: the gateway's VIP:port the client connected to.
     */
    Result<void> insert(const xo_flow_key& key, const Endpoint& public_source);

    /** remove() - stop rewriting @key's packets. */
    Result<void> remove(const xo_flow_key& key);

    /** counters() - what @key's entry has rewritten so far. */
    Result<RewriteCounters> counters(const xo_flow_key& key) const;

private:
    int fd_;
};

} // namespace xo::bpf
