#include "common/handoff/map_entries.h"

#include "common/log.h"

namespace xo::handoff {

FlowEntry& FlowEntry::operator=(FlowEntry&& other) noexcept
{
    if (this != &other) {
        (void)remove();
        table_ = std::exchange(other.table_, nullptr);
        flow_ = other.flow_;
    }
    return *this;
}

Result<FlowEntry> FlowEntry::create_blocked(FlowSteering& table, const Flow& flow)
{
    if (auto r = table.block(flow); !r)
        return r.error();
    return FlowEntry(table, flow);
}

Result<void> FlowEntry::remove()
{
    auto* table = std::exchange(table_, nullptr);
    if (!table)
        return {};
    auto r = table->remove(flow_);
    if (!r)
        log::warn("flow entry removal failed: ", r.error().message);
    return r;
}

Result<RewriteEntry> RewriteEntry::insert(SourceRewrites& table, const Flow& flow, const Endpoint& public_source)
{
    if (auto r = table.insert(flow, public_source); !r)
        return r.error();
    return RewriteEntry(table, flow);
}

Result<void> RewriteEntry::remove()
{
    auto* table = std::exchange(table_, nullptr);
    if (!table)
        return {};
    auto r = table->remove(flow_);
    if (!r)
        log::warn("rewrite entry removal failed: ", r.error().message);
    return r;
}

} // namespace xo::handoff
