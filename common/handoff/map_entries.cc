#include "map_entries.h"

#include "log.h"

namespace xo::handoff {

FlowEntry& FlowEntry::operator=(FlowEntry&& other) noexcept
{
    if (this != &other) {
        (void)remove();
        table_ = std::exchange(other.table_, nullptr);
        key_ = other.key_;
    }
    return *this;
}

Result<FlowEntry> FlowEntry::create_blocked(bpf::FlowTable& table, const xo_flow_key& key)
{
    if (auto r = table.block(key); !r)
        return r.error();
    return FlowEntry(table, key);
}

Result<void> FlowEntry::remove()
{
    auto* table = std::exchange(table_, nullptr);
    if (!table)
        return {};
    auto r = table->remove(key_);
    if (!r)
        log::warn("flow entry removal failed: ", r.error().message);
    return r;
}

Result<RewriteEntry> RewriteEntry::insert(bpf::RewriteTable& table, const xo_flow_key& key,
                                          const bpf::Endpoint& public_source)
{
    if (auto r = table.insert(key, public_source); !r)
        return r.error();
    return RewriteEntry(table, key);
}

Result<void> RewriteEntry::remove()
{
    auto* table = std::exchange(table_, nullptr);
    if (!table)
        return {};
    auto r = table->remove(key_);
    if (!r)
        log::warn("rewrite entry removal failed: ", r.error().message);
    return r;
}

} // namespace xo::handoff
