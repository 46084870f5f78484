// FlowTable: BLOCK/REDIRECT entries in the gateway flow map.
#include "flow_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

namespace xo::bpf {

Result<void> FlowTable::block(const xo_flow_key& key)
{
    xo_flow_entry entry {};
    entry.action = XO_FLOW_BLOCK;
    if (bpf_map_update_elem(fd_, &key, &entry, BPF_ANY) != 0)
        return Error::from_errno("flow table: insert BLOCK");
    return {};
}

Result<void> FlowTable::redirect(const xo_flow_key& key, const RedirectTarget& to)
{
    WireAddress addr = wire_address(to.responder.address());
    if (addr.family != key.family)
        return Error{"flow table: responder address family differs from the flow's", EINVAL};
    xo_flow_entry entry {};
    entry.action = XO_FLOW_REDIRECT;
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
    return FlowCounters{static_cast<xo_flow_action>(entry.action), entry.packets, entry.bytes, ntohl(entry.last_seq),
                        ntohl(entry.last_ack)};
}

} // namespace xo::bpf
