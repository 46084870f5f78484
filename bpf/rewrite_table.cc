// RewriteTable: source rewrite entries in the responder egress map.
#include "bpf/rewrite_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

#include "bpf/map_snapshot.h"

namespace xo::bpf {

Result<void> RewriteTable::insert(const xo_flow_key& key, const Endpoint& public_source)
{
    WireAddress addr = wire_address(public_source.address());
    if (addr.family != key.family)
        return Error{"rewrite table: public address family differs from the flow's", EINVAL};
    xo_rewrite_entry entry {};
    entry.owner = stamp(owner_);
    entry.new_sport = htons(public_source.port());
    std::memcpy(entry.new_saddr, addr.words.data(), sizeof(entry.new_saddr));
    if (bpf_map_update_elem(fd_, &key, &entry, BPF_ANY) != 0) {
        if (errno == E2BIG)
            return Error{"rewrite table full: no entry for another connection", E2BIG};
        return Error::from_errno("rewrite table: insert entry");
    }
    return {};
}

Result<void> RewriteTable::remove(const xo_flow_key& key)
{
    if (bpf_map_delete_elem(fd_, &key) != 0)
        return Error::from_errno("rewrite table: delete entry");
    return {};
}

Result<void> RewriteTable::insert(const handoff::Flow& flow, const Endpoint& public_source)
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return insert(*key, public_source);
}

Result<void> RewriteTable::remove(const handoff::Flow& flow)
{
    auto key = flow_key(flow);
    if (!key)
        return key.error();
    return remove(*key);
}

Result<RewriteCounters> RewriteTable::counters(const xo_flow_key& key) const
{
    xo_rewrite_entry entry {};
    if (bpf_map_lookup_elem(fd_, &key, &entry) != 0)
        return Error::from_errno("rewrite table: look up entry");
    return RewriteCounters{entry.packets, entry.bytes};
}

Result<RewriteSweep> RewriteTable::sweep() const
{
    auto entries = snapshot<xo_rewrite_entry>(fd_);
    if (!entries)
        return with_context("rewrite table sweep", entries.error());
    RewriteSweep done;
    LiveOwners owners(owner_);
    for (auto& [key, seen] : *entries) {
        xo_rewrite_entry now {}; // read again: the 4-tuple may be in use again
        if (owners.alive(seen.owner) || (bpf_map_lookup_elem(fd_, &key, &now) == 0 && owners.alive(now.owner))) {
            ++done.entries;
            continue;
        }
        if (bpf_map_delete_elem(fd_, &key) == 0)
            ++done.dead;
        else if (errno != ENOENT)
            return Error::from_errno("rewrite table sweep: delete entry");
    }
    return done;
}

} // namespace xo::bpf
