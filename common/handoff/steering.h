// Theory of operation: what the handoff engine needs of a data plane, and
// nothing more. The engine moves a client connection; packets must follow
// it. On the gateway a FlowSteering drops a client flow's packets while its
// socket is in flight (block), then sends them to the responder's MAC
// (redirect), and reports what it saw of the flow (the client's last
// sequence and acknowledgment numbers, for resets and progress). On the
// responder a SourceRewrites makes a restored connection's packets leave
// with the gateway's public address as source. The eBPF tables (bpf/)
// implement both; the engine depends on these interfaces only, so it is
// tested and read without the kernel objects behind them.
#pragma once

#include <cstdint>

#include "common/endpoint.h"
#include "common/result.h"

namespace xo::handoff {

/** struct Flow - the packets travelling from @src to @dst. */
struct Flow {
    Endpoint src;
    Endpoint dst;
};

/** struct RedirectTarget - where a redirected flow's packets go. */
struct RedirectTarget {
    Endpoint responder;  ///< responder address and (shifted) port
    Mac responder_mac{}; ///< destination MAC: responder or next hop
    Mac gateway_mac{};   ///< source MAC: the gateway NIC's own
    /// What the responder still has to send (0: unknown). A hint only: a
    /// steering that can move long flows to slower-to-install but cheaper
    /// rules (a NIC's) uses it to pick them; the eBPF table ignores it.
    std::uint64_t bytes_to_send = 0;

    bool operator==(const RedirectTarget&) const = default;
};

enum class FlowAction : std::uint8_t { block, redirect };

/** struct FlowCounters - what the data plane saw of one flow since its entry last changed. */
struct FlowCounters {
    FlowAction action = FlowAction::block;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint32_t last_seq = 0; ///< sequence number of the last packet handled, host order
    std::uint32_t last_ack = 0; ///< the client's last acknowledgment number, host order
};

/** The gateway's steering of client flows. A full table refuses block() with E2BIG. */
class FlowSteering {
public:
    virtual ~FlowSteering() = default;
    /** block() - drop @flow's packets from now on (insert or overwrite). */
    virtual Result<void> block(const Flow& flow) = 0;
    /** redirect() - atomically turn @flow's existing entry into a redirect to @to. */
    virtual Result<void> redirect(const Flow& flow, const RedirectTarget& to) = 0;
    /** remove() - @flow's packets reach the local stack again. */
    virtual Result<void> remove(const Flow& flow) = 0;
    /** counters() - @flow's action and what was seen of it. */
    virtual Result<FlowCounters> counters(const Flow& flow) const = 0;
};

/** The responder's source rewrites of restored connections. A full table refuses insert() with E2BIG. */
class SourceRewrites {
public:
    virtual ~SourceRewrites() = default;
    /** insert() - @flow's packets leave with @public_source as their source. */
    virtual Result<void> insert(const Flow& flow, const Endpoint& public_source) = 0;
    /** remove() - stop rewriting @flow's packets. */
    virtual Result<void> remove(const Flow& flow) = 0;
};

} // namespace xo::handoff
