// Theory of operation: owners of the data plane entries one handoff creates.
// A BLOCK or REDIRECT entry on the gateway, or an egress rewrite on the
// responder, that outlives its connection silently breaks the next
// connection that reuses the 4-tuple, so each entry belongs to exactly one
// object that deletes it when destroyed, on every path out of the engine:
// success, refusal, timeout, a dead peer. Move-only, like UniqueFd.
#pragma once

#include <utility>

#include "common/result.h"
#include "common/handoff/steering.h"

namespace xo::handoff {

/** FlowEntry - the gateway's entry for one client flow; removed on destruction. */
class FlowEntry {
public:
    FlowEntry() = default;
    FlowEntry(FlowEntry&& other) noexcept : table_(std::exchange(other.table_, nullptr)), flow_(other.flow_) {}
    FlowEntry& operator=(FlowEntry&& other) noexcept;
    FlowEntry(const FlowEntry&) = delete;
    FlowEntry& operator=(const FlowEntry&) = delete;
    ~FlowEntry() { (void)remove(); }

    /**
     * create_blocked() - block @flow in @table (its packets are dropped).
     *
     * Return: the owning entry, or an error (nothing was inserted).
     */
    static Result<FlowEntry> create_blocked(FlowSteering& table, const Flow& flow);

    /** block() - drop the flow's packets again (replaces a REDIRECT). */
    Result<void> block() { return table_ ? table_->block(flow_) : removed(); }

    /** redirect() - send the flow's packets to @to (the entry must be BLOCK). */
    Result<void> redirect(const RedirectTarget& to) { return table_ ? table_->redirect(flow_, to) : removed(); }

    /** counters() - what the data plane has seen of the flow since the entry's last change. */
    Result<FlowCounters> counters() const
    {
        if (!table_)
            return removed();
        return table_->counters(flow_);
    }

    /** remove() - delete the entry now; later calls and destruction do nothing. */
    Result<void> remove();

private:
    FlowEntry(FlowSteering& table, const Flow& flow) : table_(&table), flow_(flow) {}
    static Error removed() { return Error{"the flow entry was removed", ENOENT}; }

    FlowSteering* table_ = nullptr;
    Flow flow_;
};

/** RewriteEntry - the responder's egress rewrite of one flow; removed on destruction. */
class RewriteEntry {
public:
    RewriteEntry() = default;
    RewriteEntry(RewriteEntry&& other) noexcept : table_(std::exchange(other.table_, nullptr)), flow_(other.flow_) {}
    RewriteEntry& operator=(RewriteEntry&&) = delete;
    RewriteEntry(const RewriteEntry&) = delete;
    RewriteEntry& operator=(const RewriteEntry&) = delete;
    ~RewriteEntry() { (void)remove(); }

    /**
     * insert() - rewrite the source of @flow's packets to @public_source.
     *
     * Return: the owning entry, or an error (nothing was inserted).
     */
    static Result<RewriteEntry> insert(SourceRewrites& table, const Flow& flow, const Endpoint& public_source);

    /** remove() - delete the entry now; later calls and destruction do nothing. */
    Result<void> remove();

private:
    RewriteEntry(SourceRewrites& table, const Flow& flow) : table_(&table), flow_(flow) {}

    SourceRewrites* table_ = nullptr;
    Flow flow_;
};

} // namespace xo::handoff
