// RewriteTable: source rewrite entries in the responder egress map.
#include "rewrite_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

namespace xo::bpf {

Result<void> RewriteTable::insert(const xo_flow_key& key, const Endpoint& public_source)
{
    WireAddress addr = wire_address(public_source.address());
    if (addr.family != key.family)
        return Error{"rewrite table: public address family differs from the flow's", EINVAL};
    xo_rewrite_entry entry {};
    entry.new_sport = htons(public_source.port());
    std::memcpy(entry.new_saddr, addr.words.data(), sizeof(entry.new_saddr));
    if (bpf_map_update_elem(fd_, &key, &entry, BPF_ANY) != 0)
        return Error::from_errno("rewrite table: insert entry");
    return {};
}

Result<void> RewriteTable::remove(const xo_flow_key& key)
{
    if (bpf_map_delete_elem(fd_, &key) != 0)
        return Error::from_errno("rewrite table: delete entry");
    return {};
}

Result<RewriteCounters> RewriteTable::counters(const xo_flow_key& key) const
{
    xo_rewrite_entry entry {};
    if (bpf_map_lookup_elem(fd_, &key, &entry) != 0)
        return Error::from_errno("rewrite table: look up entry");
    return RewriteCounters{entry.packets, entry.bytes};
}

} // namespace xo::bpf
