#include "bpf/flower/flower_filter.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_csum.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/tc_act/tc_pedit.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>

namespace xo::flower {

namespace {

constexpr std::uint32_t ingress_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
constexpr std::uint32_t ip4_daddr_offset = 16, ip6_daddr_offset = 24;
constexpr std::uint32_t ip4_header = 20, ip6_header = 40;

std::uint32_t word(const std::uint8_t* bytes)
{
    std::uint32_t w;
    std::memcpy(&w, bytes, sizeof w);
    return w;
}

/** put_words() - keys replacing @n bytes at @offset of @base with @bytes (n a multiple of 4). */
void put_words(std::vector<PeditKey>& keys, PeditBase base, std::uint32_t offset, const std::uint8_t* bytes, std::size_t n)
{
    for (std::size_t i = 0; i < n; i += 4)
        keys.push_back({base, offset + static_cast<std::uint32_t>(i), 0, word(bytes + i)});
}

/** Failure to build a message is an allocation failure or a message too large: both ENOMEM. */
Error no_room()
{
    return Error{"flower filter: netlink message too large", ENOMEM};
}

/** nest_action() - open action number @order of kind @kind; returns its TCA_ACT_OPTIONS nest. */
nlattr* nest_action(nl_msg* msg, int order, const char* kind, nlattr** action)
{
    *action = nla_nest_start(msg, order);
    if (!*action || nla_put_string(msg, TCA_ACT_KIND, kind) < 0)
        return nullptr;
    return nla_nest_start(msg, TCA_ACT_OPTIONS);
}

bool put_pedit(nl_msg* msg, const std::vector<PeditKey>& keys)
{
    nlattr* action = nullptr;
    nlattr* options = nest_action(msg, 1, "pedit", &action);
    if (!options)
        return false;
    std::vector<std::uint8_t> parms(sizeof(tc_pedit_sel) + keys.size() * sizeof(tc_pedit_key));
    auto* sel = reinterpret_cast<tc_pedit_sel*>(parms.data());
    sel->action = TC_ACT_PIPE;
    sel->nkeys = static_cast<unsigned char>(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        tc_pedit_key k{};
        k.mask = keys[i].mask;
        k.val = keys[i].value;
        k.off = keys[i].offset;
        std::memcpy(parms.data() + sizeof(tc_pedit_sel) + i * sizeof k, &k, sizeof k);
    }
    if (nla_put(msg, TCA_PEDIT_PARMS_EX, static_cast<int>(parms.size()), parms.data()) < 0)
        return false;
    nlattr* extended = nla_nest_start(msg, TCA_PEDIT_KEYS_EX);
    if (!extended)
        return false;
    for (const auto& key : keys) {
        nlattr* ex = nla_nest_start(msg, TCA_PEDIT_KEY_EX);
        if (!ex || nla_put_u16(msg, TCA_PEDIT_KEY_EX_HTYPE, static_cast<std::uint16_t>(key.base)) < 0 ||
            nla_put_u16(msg, TCA_PEDIT_KEY_EX_CMD, TCA_PEDIT_KEY_EX_CMD_SET) < 0)
            return false;
        nla_nest_end(msg, ex);
    }
    nla_nest_end(msg, extended);
    nla_nest_end(msg, options);
    nla_nest_end(msg, action);
    return true;
}

bool put_csum(nl_msg* msg, bool ipv4)
{
    nlattr* action = nullptr;
    nlattr* options = nest_action(msg, 2, "csum", &action);
    if (!options)
        return false;
    tc_csum parms{};
    parms.action = TC_ACT_PIPE;
    parms.update_flags = TCA_CSUM_UPDATE_FLAG_TCP | (ipv4 ? TCA_CSUM_UPDATE_FLAG_IPV4HDR : 0);
    if (nla_put(msg, TCA_CSUM_PARMS, sizeof parms, &parms) < 0)
        return false;
    nla_nest_end(msg, options);
    nla_nest_end(msg, action);
    return true;
}

bool put_mirred(nl_msg* msg, int ifindex)
{
    nlattr* action = nullptr;
    nlattr* options = nest_action(msg, 3, "mirred", &action);
    if (!options)
        return false;
    tc_mirred parms{};
    parms.action = TC_ACT_STOLEN;
    parms.eaction = TCA_EGRESS_REDIR;
    parms.ifindex = static_cast<std::uint32_t>(ifindex);
    if (nla_put(msg, TCA_MIRRED_PARMS, sizeof parms, &parms) < 0)
        return false;
    nla_nest_end(msg, options);
    nla_nest_end(msg, action);
    return true;
}

bool put_match(nl_msg* msg, const Flow& flow)
{
    const auto src = flow.src.address(), dst = flow.dst.address();
    bool ok = nla_put_u8(msg, TCA_FLOWER_KEY_IP_PROTO, IPPROTO_TCP) >= 0 &&
              nla_put_u16(msg, TCA_FLOWER_KEY_TCP_SRC, htons(flow.src.port())) >= 0 &&
              nla_put_u16(msg, TCA_FLOWER_KEY_TCP_SRC_MASK, 0xffff) >= 0 &&
              nla_put_u16(msg, TCA_FLOWER_KEY_TCP_DST, htons(flow.dst.port())) >= 0 &&
              nla_put_u16(msg, TCA_FLOWER_KEY_TCP_DST_MASK, 0xffff) >= 0;
    if (src.is_v4()) {
        auto s = src.to_v4().to_bytes(), d = dst.to_v4().to_bytes();
        const std::uint8_t all[4] = {0xff, 0xff, 0xff, 0xff};
        return ok && nla_put_u16(msg, TCA_FLOWER_KEY_ETH_TYPE, htons(ETH_P_IP)) >= 0 &&
               nla_put(msg, TCA_FLOWER_KEY_IPV4_SRC, 4, s.data()) >= 0 &&
               nla_put(msg, TCA_FLOWER_KEY_IPV4_SRC_MASK, 4, all) >= 0 &&
               nla_put(msg, TCA_FLOWER_KEY_IPV4_DST, 4, d.data()) >= 0 &&
               nla_put(msg, TCA_FLOWER_KEY_IPV4_DST_MASK, 4, all) >= 0;
    }
    auto s = src.to_v6().to_bytes(), d = dst.to_v6().to_bytes();
    std::uint8_t all[16];
    std::memset(all, 0xff, sizeof all);
    return ok && nla_put_u16(msg, TCA_FLOWER_KEY_ETH_TYPE, htons(ETH_P_IPV6)) >= 0 &&
           nla_put(msg, TCA_FLOWER_KEY_IPV6_SRC, 16, s.data()) >= 0 &&
           nla_put(msg, TCA_FLOWER_KEY_IPV6_SRC_MASK, 16, all) >= 0 &&
           nla_put(msg, TCA_FLOWER_KEY_IPV6_DST, 16, d.data()) >= 0 &&
           nla_put(msg, TCA_FLOWER_KEY_IPV6_DST_MASK, 16, all) >= 0;
}

} // namespace

std::vector<PeditKey> redirect_rewrite(const Flow& flow, const RedirectTarget& to, bool hardware)
{
    std::vector<PeditKey> keys;
    // Ethernet: destination MAC then source MAC, 12 bytes = 3 words.
    std::uint8_t macs[12];
    std::memcpy(macs, to.responder_mac.data(), 6);
    std::memcpy(macs + 6, to.gateway_mac.data(), 6);
    put_words(keys, PeditBase::ethernet, 0, macs, sizeof macs);
    // The TCP word holding the ports: keep the source port, set the destination.
    std::uint16_t port = htons(to.responder.port());
    std::uint8_t ports[4] = {0, 0, 0, 0}, keep[4] = {0xff, 0xff, 0, 0};
    std::memcpy(ports + 2, &port, 2);
    auto addr = to.responder.address();
    if (flow.src.address().is_v4()) {
        auto bytes = addr.to_v4().to_bytes();
        put_words(keys, PeditBase::ipv4, ip4_daddr_offset, bytes.data(), bytes.size());
    } else {
        auto bytes = addr.to_v6().to_bytes();
        put_words(keys, PeditBase::ipv6, ip6_daddr_offset, bytes.data(), bytes.size());
    }
    if (hardware)
        keys.push_back({PeditBase::tcp, 0, word(keep), word(ports)});
    else if (flow.src.address().is_v4())
        keys.push_back({PeditBase::ipv4, ip4_header, word(keep), word(ports)});
    else
        keys.push_back({PeditBase::ipv6, ip6_header, word(keep), word(ports)});
    return keys;
}

Result<NlMsg> flower_filter_message(const FilterSlot& slot, const Flow& flow, const RedirectTarget& to, bool skip_sw)
{
    bool ipv4 = flow.src.address().is_v4();
    if (flow.dst.address().is_v4() != ipv4 || to.responder.address().is_v4() != ipv4)
        return Error{"flower filter: a flow and its responder must be of one address family", EAFNOSUPPORT};
    NlMsg msg(nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL));
    if (!msg)
        return no_room();
    tcmsg tc{};
    tc.tcm_family = AF_UNSPEC;
    tc.tcm_ifindex = slot.ifindex;
    tc.tcm_handle = slot.handle;
    tc.tcm_parent = ingress_parent;
    tc.tcm_info = TC_H_MAKE(static_cast<std::uint32_t>(flower_priority) << 16, htons(ETH_P_ALL));
    if (nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO) < 0 || nla_put_string(msg.get(), TCA_KIND, "flower") < 0)
        return no_room();
    nlattr* options = nla_nest_start(msg.get(), TCA_OPTIONS);
    if (!options || nla_put_u32(msg.get(), TCA_FLOWER_FLAGS, skip_sw ? TCA_CLS_FLAGS_SKIP_SW : TCA_CLS_FLAGS_SKIP_HW) < 0 ||
        !put_match(msg.get(), flow))
        return no_room();
    nlattr* actions = nla_nest_start(msg.get(), TCA_FLOWER_ACT);
    if (!actions || !put_pedit(msg.get(), redirect_rewrite(flow, to, skip_sw)) || !put_csum(msg.get(), ipv4) ||
        !put_mirred(msg.get(), slot.ifindex))
        return no_room();
    nla_nest_end(msg.get(), actions);
    nla_nest_end(msg.get(), options);
    return msg;
}

} // namespace xo::flower
