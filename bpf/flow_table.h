// Theory of operation: the gateway's view of its flow table map. A handoff
// goes block() → (socket moved) → redirect() → … → remove() when the
// connection comes back or dies. redirect() replaces the BLOCK value with one
// update call, which the kernel applies atomically (a packet sees either the
// old or the new value, never a mix), and it refuses flows that were never
// blocked, so the protocol order is enforced. The table does not own the map
// descriptor: the data plane that loaded (or reused) the map does.
//
// Every value the table writes names this process as its owner and stamps
// its progress time (entry_owner.h). sweep() removes what no live process
// owns, by these rules:
//   - an entry of this process belongs to a live FlowEntry, which removes it
//     on every path (map_entries.h): never touched;
//   - an entry of another live process (a second daemon on the same pins)
//     is that process's business: never touched;
//   - a BLOCK of a dead owner is removed at once: the handoff died with its
//     process, and the socket it was moving was closed in repair mode;
//   - a REDIRECT of a dead owner may be a transfer still running at a
//     responder (its client's ACKs advance): it is marked XO_OWNER_GONE (so a
//     client SYN on the 4-tuple takes it out, see gateway_ingress.bpf.c) and
//     kept until it has made no progress for @orphan_idle, then removed.
// A full map refuses block() with E2BIG: the caller falls back (relays).
// The table is the handoff engine's FlowSteering (common/handoff/steering.h);
// its key-based calls serve sweeps, tests and benchmarks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "bpf/entry_owner.h"
#include "bpf/flow_key.h"
#include "bpf/flow_maps.h"
#include "common/result.h"
#include "common/handoff/steering.h"

namespace xo::bpf {

using handoff::FlowAction;
using handoff::FlowCounters;
using handoff::RedirectTarget;

/** struct FlowSweep - what one sweep found and did. */
struct FlowSweep {
    std::size_t entries = 0;      ///< left in the table
    std::size_t dead_blocks = 0;  ///< BLOCKs of dead owners removed
    std::size_t idle_orphans = 0; ///< REDIRECTs of dead owners removed after @orphan_idle without progress
    std::size_t orphans = 0;      ///< REDIRECTs of dead owners kept (transfers still moving)
};

class FlowTable : public handoff::FlowSteering {
public:
    /** FlowTable() - wrap @map_fd (the xo_gw_flows map; not owned); entries written are @owner's. */
    FlowTable(int map_fd, EntryOwner owner) : fd_(map_fd), owner_(owner) {}

    /** block() - drop packets of @key from now on (insert or overwrite). */
    Result<void> block(const xo_flow_key& key);

    /** redirect() - atomically turn @key's existing entry into REDIRECT to @to. */
    Result<void> redirect(const xo_flow_key& key, const RedirectTarget& to);

    /** remove() - delete @key's entry; its packets pass to the stack again. */
    Result<void> remove(const xo_flow_key& key);

    /** counters() - @key's current action and counters. */
    Result<FlowCounters> counters(const xo_flow_key& key) const;

    Result<void> block(const handoff::Flow& flow) override;
    Result<void> redirect(const handoff::Flow& flow, const RedirectTarget& to) override;
    Result<void> remove(const handoff::Flow& flow) override;
    Result<FlowCounters> counters(const handoff::Flow& flow) const override;

    /**
     * sweep() - apply the rules above to every entry.
     * @orphan_idle: how long a dead owner's REDIRECT may go without progress.
     * @now_ns: CLOCK_MONOTONIC now (monotonic_ns()).
     */
    Result<FlowSweep> sweep(std::chrono::nanoseconds orphan_idle, std::uint64_t now_ns) const;

private:
    int fd_;
    EntryOwner owner_;
};

} // namespace xo::bpf
