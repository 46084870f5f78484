// FlowTable: BLOCK/REDIRECT entries in the gateway flow map.
#include "bpf/flow_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

#include "bpf/map_snapshot.h"

namespace xo::bpf {
namespace {

/** owned_value() - a zeroed value of @action, stamped with @owner and the time now. */
xo_flow_entry owned_value(xo_flow_action action, const EntryOwner& owner)
{
    xo_flow_entry entry {};
    entry.action = action;
    entry.owner = stamp(owner);
    entry.progress_ns = monotonic_ns();
    return entry;
}

} // namespace

Result<void> FlowTable::block(const xo_flow_key& key)
{
    xo_flow_entry entry = owned_value(XO_FLOW_BLOCK, owner_);
    if (bpf_map_update_elem(fd_, &key, &entry, BPF_ANY) != 0) {
        if (errno == E2BIG)
            return Error{"flow table full: no entry for another handoff", E2BIG};
        return Error::from_errno("flow table: insert BLOCK");
    }
    return {};
}

Result<void> FlowTable::redirect(const xo_flow_key& key, const RedirectTarget& to)
{
    WireAddress addr = wire_address(to.responder.address());
    if (addr.family != key.family)
        return Error{"flow table: responder address family differs from the flow's", EINVAL};
    xo_flow_entry entry = owned_value(XO_FLOW_REDIRECT, owner_);
    entry.new_dport = htons(to.responder.port());
    std::memcpy(entry.new_daddr, addr.words.data(), sizeof(entry.new_daddr));
    std::memcpy(entry.new_dmac, to.responder_mac.data(), sizeof(entry.new_dmac));
    std::memcpy(entry.new_smac, to.gateway_mac.data(), sizeof(entry.new_smac));
    if (bpf_map_update_elem(fd_, &key, &entry, BPF_EXIST) != 0)
        return Error::from_errno("flow table: swap BLOCK to REDIRECT");
    return {};
}

Result<void> FlowTable::remove(const xo_flow_key& key)
{
    if (bpf_map_delete_elem(fd_, &key) != 0)
        return Error::from_errno("flow table: delete entry");
    return {};
}

Result<FlowCounters> FlowTable::counters(const xo_flow_key& key) const
{
    xo_flow_entry entry {};
    if (bpf_map_lookup_elem(fd_, &key, &entry) != 0)
        return Error::from_errno("flow table: look up entry");
    return FlowCounters{entry.action == XO_FLOW_REDIRECT ? FlowAction::redirect : FlowAction::block, entry.packets,
                        entry.bytes, ntohl(entry.last_seq), ntohl(entry.ack_seq)};
}

Result<void> FlowTable::block(const handoff::Flow& flow)
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return block(*key);
}

Result<void> FlowTable::redirect(const handoff::Flow& flow, const RedirectTarget& to)
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return redirect(*key, to);
}

Result<void> FlowTable::remove(const handoff::Flow& flow)
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return remove(*key);
}

Result<FlowCounters> FlowTable::counters(const handoff::Flow& flow) const
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return counters(*key);
}

Result<FlowSweep> FlowTable::sweep(std::chrono::nanoseconds orphan_idle, std::uint64_t now_ns) const
{
    auto entries = snapshot<xo_flow_entry>(fd_);
    if (!entries)
        return with_context("flow table sweep", entries.error());
    FlowSweep done;
    LiveOwners owners(owner_);
    auto idle_limit = static_cast<std::uint64_t>(orphan_idle.count());
    for (auto& [key, seen] : *entries) {
        if (owners.alive(seen.owner)) {
            ++done.entries;
            continue;
        }
        // Read again: the copy may be old, and a mark must keep fresh counters.
        xo_flow_entry now {};
        if (bpf_map_lookup_elem(fd_, &key, &now) != 0)
            continue; // gone meanwhile
        if (owners.alive(now.owner)) { // the 4-tuple is in use again
            ++done.entries;
            continue;
        }
        bool idle = now_ns > now.progress_ns && now_ns - now.progress_ns >= idle_limit;
        if (now.action == XO_FLOW_REDIRECT && !idle) {
            ++done.entries;
            ++done.orphans;
            if (!(now.owner.flags & XO_OWNER_GONE)) {
                now.owner.flags |= XO_OWNER_GONE;
                (void)bpf_map_update_elem(fd_, &key, &now, BPF_EXIST); // gone meanwhile: fine
            }
            continue;
        }
        if (bpf_map_delete_elem(fd_, &key) != 0) {
            if (errno == ENOENT)
                continue;
            return Error::from_errno("flow table sweep: delete entry");
        }
        ++(now.action == XO_FLOW_REDIRECT ? done.idle_orphans : done.dead_blocks);
    }
    return done;
}

} // namespace xo::bpf
