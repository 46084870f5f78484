#include "bpf/flower/flower_rules.h"

#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "bpf/flower/flower_filter.h"
#include "common/log.h"

namespace xo::flower {

namespace {

constexpr std::uint32_t clsact_handle = TC_H_MAKE(TC_H_CLSACT, 0);
constexpr std::uint32_t ingress_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);

/** clsact() - a libnl qdisc object naming @ifindex's clsact qdisc. */
std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)> clsact(int ifindex)
{
    std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)> q(rtnl_qdisc_alloc(), rtnl_qdisc_put);
    if (q) {
        rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
        rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_CLSACT);
        rtnl_tc_set_handle(TC_CAST(q.get()), clsact_handle);
        rtnl_tc_set_kind(TC_CAST(q.get()), "clsact");
    }
    return q;
}

/** ensure_clsact() - create the clsact qdisc if missing. Return: whether we created it. */
Result<bool> ensure_clsact(NetlinkSocket& sock, int ifindex)
{
    auto q = clsact(ifindex);
    if (!q)
        return Error{"clsact: no memory", ENOMEM};
    auto added = sock.check(rtnl_qdisc_add(sock.get(), q.get(), NLM_F_CREATE | NLM_F_EXCL), "creating clsact");
    if (added)
        return true;
    if (added.error().code == EEXIST)
        return false;
    return added.error();
}

void delete_clsact(NetlinkSocket& sock, int ifindex)
{
    auto q = clsact(ifindex);
    if (!q)
        return;
    if (auto r = sock.check(rtnl_qdisc_delete(sock.get(), q.get()), "deleting clsact"); !r)
        log::warn("TC flower: ", r.error().message);
}

/** delete_filter() - our filter @handle on @ifindex; handle 0: all of ours (ENOENT: there were none). */
Result<void> delete_filter(NetlinkSocket& sock, int ifindex, std::uint32_t handle)
{
    std::unique_ptr<rtnl_cls, void (*)(rtnl_cls*)> cls(rtnl_cls_alloc(), rtnl_cls_put);
    if (!cls)
        return Error{"flower filter: no memory", ENOMEM};
    rtnl_tc_set_ifindex(TC_CAST(cls.get()), ifindex);
    rtnl_tc_set_parent(TC_CAST(cls.get()), ingress_parent);
    rtnl_tc_set_handle(TC_CAST(cls.get()), handle);
    rtnl_tc_set_kind(TC_CAST(cls.get()), "flower");
    rtnl_cls_set_prio(cls.get(), flower_priority);
    rtnl_cls_set_protocol(cls.get(), ETH_P_ALL);
    return sock.check(rtnl_cls_delete(sock.get(), cls.get(), 0), "deleting flower filter " + std::to_string(handle));
}

/** sweep() - every filter at our priority, left by a previous gateway (none, or no clsact: nothing to do). */
Result<void> sweep(NetlinkSocket& sock, int ifindex)
{
    auto r = delete_filter(sock, ifindex, 0);
    if (!r && (r.error().code == ENOENT || r.error().code == EINVAL))
        return {};
    return r;
}

/** struct Probed - the capabilities and the mode they allow, or why there is none. */
struct Probed {
    std::optional<TcCapabilities> caps;
    FlowerMode mode = FlowerMode::off;
    std::string why_off;
};

/** probe() - what @requested (not off) becomes on @ifname; an error only for an explicit mode. */
Result<Probed> probe(NetlinkSocket& sock, int ifindex, const std::string& ifname, FlowerMode requested)
{
    Probed out;
    auto caps = probe_tc(sock, ifindex, ifname);
    if (!caps) {
        if (requested != FlowerMode::automatic)
            return caps.error();
        out.why_off = caps.error().message;
        return out;
    }
    out.caps = *caps;
    auto mode = resolve_flower_mode(requested, *caps);
    if (!mode)
        return mode.error();
    out.mode = *mode;
    if (out.mode == FlowerMode::off)
        out.why_off = "the kernel lacks " + caps->missing();
    return out;
}

} // namespace

Result<FlowerSetup> FlowerRules::start(const std::string& ifname, FlowerMode requested)
{
    FlowerSetup setup;
    setup.requested = requested;
    int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex == 0)
        return Error::from_errno("TC flower: " + ifname);
    auto sock = NetlinkSocket::open();
    if (!sock)
        return with_context("TC flower", sock.error());
    if (auto swept = sweep(*sock, ifindex); !swept)
        return with_context("TC flower: sweeping " + ifname, swept.error());
    if (requested == FlowerMode::off) {
        setup.why_off = "off was asked";
        return setup;
    }
    auto own_qdisc = ensure_clsact(*sock, ifindex);
    if (!own_qdisc)
        return with_context("TC flower on " + ifname, own_qdisc.error());
    auto probed = probe(*sock, ifindex, ifname, requested);
    if (!probed || probed->mode == FlowerMode::off) {
        if (*own_qdisc)
            delete_clsact(*sock, ifindex);
        if (!probed)
            return with_context("TC flower on " + ifname, probed.error());
    }
    setup.caps = probed->caps;
    setup.mode = probed->mode;
    setup.why_off = probed->why_off;
    if (setup.mode != FlowerMode::off)
        setup.rules.reset(new FlowerRules(std::move(*sock), ifindex, *own_qdisc, setup.mode == FlowerMode::hardware));
    return setup;
}

FlowerRules::FlowerRules(NetlinkSocket sock, int ifindex, bool own_qdisc, bool skip_sw)
    : sock_(std::move(sock)), ifindex_(ifindex), own_qdisc_(own_qdisc), skip_sw_(skip_sw)
{
}

FlowerRules::~FlowerRules()
{
    if (auto r = sweep(sock_, ifindex_); !r)
        log::warn("TC flower: ", r.error().message);
    if (own_qdisc_)
        delete_clsact(sock_, ifindex_);
}

Result<void> FlowerRules::insert(const Flow& flow, const RedirectTarget& to)
{
    if (handles_.contains(flow))
        return Error{"flower filter: the flow has one already", EEXIST};
    std::uint32_t handle = next_handle_;
    next_handle_ = next_handle_ == UINT32_MAX ? 1 : next_handle_ + 1; // wraps long after the first are gone
    auto msg = flower_filter_message(FilterSlot{ifindex_, handle}, flow, to, skip_sw_);
    if (!msg)
        return msg.error();
    if (auto r = sock_.transact(msg->get(), "adding flower filter " + std::to_string(handle)); !r)
        return r;
    handles_.emplace(flow, handle);
    return {};
}

Result<void> FlowerRules::remove(const Flow& flow)
{
    auto it = handles_.find(flow);
    if (it == handles_.end())
        return Error{"flower filter: the flow has none", ENOENT};
    auto r = delete_filter(sock_, ifindex_, it->second);
    if (r || r.error().code == ENOENT)
        handles_.erase(it); // gone either way
    return r;
}

} // namespace xo::flower
