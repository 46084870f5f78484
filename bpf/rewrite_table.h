// Theory of operation: the responder's direct-server-return table. For each
// restored connection, packets from (own IP, port') to the client leave with
// the gateway's public VIP:port as source. insert() must happen before the
// socket leaves TCP repair mode and remove() after the connection is handed
// back or closed. Like FlowTable it borrows the map descriptor.
//
// Every value names this process as its owner (entry_owner.h). sweep()
// removes every entry whose owner is dead: a rewrite is only of use to the
// socket it was made for, and a responder's restored sockets die with it.
// Entries of live processes (this one's belong to a RewriteEntry each) stay.
// A full map refuses insert() with E2BIG; the responder refuses the OFFER.
// The table is the handoff engine's SourceRewrites (common/handoff/steering.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "bpf/entry_owner.h"
#include "bpf/flow_key.h"
#include "bpf/flow_maps.h"
#include "common/result.h"
#include "common/handoff/steering.h"

namespace xo::bpf {

/** struct RewriteCounters - packets and bytes rewritten for one entry. */
struct RewriteCounters {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

/** struct RewriteSweep - what one sweep found and did. */
struct RewriteSweep {
    std::size_t entries = 0; ///< left in the table
    std::size_t dead = 0;    ///< entries of dead owners removed
};

class RewriteTable : public handoff::SourceRewrites {
public:
    /** RewriteTable() - wrap @map_fd (the xo_rsp_rewrites map; not owned); entries written are @owner's. */
    RewriteTable(int map_fd, EntryOwner owner) : fd_(map_fd), owner_(owner) {}

    /**
     * insert() - rewrite the source of @key's packets to @public_source.
     * @key: flow_key(own IP:port', client IP:port).
     * @public_source: the gateway's VIP:port the client connected to.
     */
    Result<void> insert(const xo_flow_key& key, const Endpoint& public_source);

    /** remove() - stop rewriting @key's packets. */
    Result<void> remove(const xo_flow_key& key);

    Result<void> insert(const handoff::Flow& flow, const Endpoint& public_source) override;
    Result<void> remove(const handoff::Flow& flow) override;

    /** counters() - what @key's entry has rewritten so far. */
    Result<RewriteCounters> counters(const xo_flow_key& key) const;

    /** sweep() - remove the entries of dead owners. */
    Result<RewriteSweep> sweep() const;

private:
    int fd_;
    EntryOwner owner_;
};

} // namespace xo::bpf
