#include "bpf/flower/tc_capabilities.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "bpf/flower/flower_filter.h"
#include "common/unique_fd.h"

namespace xo::flower {

namespace {

/** present() - ENOENT: absent; EINVAL: present (the options we left out were missed). */
Result<bool> present(Result<void> answer, const std::string& what)
{
    if (answer)
        return true; // not expected without options, but then it is there
    if (answer.error().code == ENOENT)
        return false;
    if (answer.error().code == EINVAL)
        return true;
    return with_context("probing " + what, answer.error());
}

Result<bool> probe_classifier(NetlinkSocket& sock, int ifindex)
{
    NlMsg msg(nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL));
    if (!msg)
        return Error{"probing cls_flower: no memory", ENOMEM};
    tcmsg tc{};
    tc.tcm_family = AF_UNSPEC;
    tc.tcm_ifindex = ifindex;
    tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
    tc.tcm_info = TC_H_MAKE(static_cast<std::uint32_t>(flower_priority) << 16, htons(ETH_P_ALL));
    if (nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO) < 0 || nla_put_string(msg.get(), TCA_KIND, "flower") < 0)
        return Error{"probing cls_flower: no memory", ENOMEM};
    return present(sock.transact(msg.get(), "flower"), "cls_flower");
}

Result<bool> probe_action(NetlinkSocket& sock, const char* kind)
{
    NlMsg msg(nlmsg_alloc_simple(RTM_NEWACTION, NLM_F_CREATE | NLM_F_EXCL));
    if (!msg)
        return Error{std::string("probing act_") + kind + ": no memory", ENOMEM};
    tcamsg ta{};
    ta.tca_family = AF_UNSPEC;
    nlattr* tab = nullptr;
    nlattr* first = nullptr;
    if (nlmsg_append(msg.get(), &ta, sizeof ta, NLMSG_ALIGNTO) < 0 || !(tab = nla_nest_start(msg.get(), TCA_ACT_TAB)) ||
        !(first = nla_nest_start(msg.get(), 1)) || nla_put_string(msg.get(), TCA_ACT_KIND, kind) < 0)
        return Error{std::string("probing act_") + kind + ": no memory", ENOMEM};
    nla_nest_end(msg.get(), first);
    nla_nest_end(msg.get(), tab);
    return present(sock.transact(msg.get(), kind), std::string("act_") + kind);
}

/** ethtool() - one SIOCETHTOOL call on @ifname. */
Result<void> ethtool(int fd, const std::string& ifname, void* request, const char* what)
{
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(request);
    if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
        return Error::from_errno(ifname + ": ethtool " + what);
    return {};
}

} // namespace

Result<bool> nic_has_hw_tc_offload(const std::string& ifname)
{
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("ethtool socket");
    // How many feature names there are, then the names, then the bits.
    std::vector<std::uint8_t> info_buf(sizeof(ethtool_sset_info) + sizeof(std::uint32_t));
    auto* info = reinterpret_cast<ethtool_sset_info*>(info_buf.data());
    info->cmd = ETHTOOL_GSSET_INFO;
    info->sset_mask = 1ull << ETH_SS_FEATURES;
    if (auto r = ethtool(fd.get(), ifname, info, "GSSET_INFO"); !r)
        return r.error();
    std::uint32_t count = info->sset_mask ? info->data[0] : 0;
    std::vector<std::uint8_t> names_buf(sizeof(ethtool_gstrings) + std::size_t{count} * ETH_GSTRING_LEN);
    auto* names = reinterpret_cast<ethtool_gstrings*>(names_buf.data());
    names->cmd = ETHTOOL_GSTRINGS;
    names->string_set = ETH_SS_FEATURES;
    names->len = count;
    if (auto r = ethtool(fd.get(), ifname, names, "GSTRINGS"); !r)
        return r.error();
    std::uint32_t index = count;
    for (std::uint32_t i = 0; i < count; ++i) {
        const char* name = reinterpret_cast<const char*>(names->data) + std::size_t{i} * ETH_GSTRING_LEN;
        if (strncmp(name, "hw-tc-offload", ETH_GSTRING_LEN) == 0)
            index = i;
    }
    if (index == count)
        return false; // this kernel has no such feature
    std::uint32_t blocks = (count + 31) / 32;
    std::vector<std::uint8_t> features_buf(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
    auto* features = reinterpret_cast<ethtool_gfeatures*>(features_buf.data());
    features->cmd = ETHTOOL_GFEATURES;
    features->size = blocks;
    if (auto r = ethtool(fd.get(), ifname, features, "GFEATURES"); !r)
        return r.error();
    return (features->features[index / 32].active >> (index % 32) & 1u) != 0;
}

Result<TcCapabilities> probe_tc(NetlinkSocket& sock, int ifindex, const std::string& ifname)
{
    TcCapabilities caps;
    auto flower = probe_classifier(sock, ifindex);
    if (!flower)
        return flower.error();
    caps.cls_flower = *flower;
    struct {
        const char* kind;
        bool* found;
    } actions[] = {{"pedit", &caps.act_pedit}, {"csum", &caps.act_csum}, {"mirred", &caps.act_mirred}};
    for (auto& action : actions) {
        auto found = probe_action(sock, action.kind);
        if (!found)
            return found.error();
        *action.found = *found;
    }
    auto hw = nic_has_hw_tc_offload(ifname);
    if (!hw)
        return hw.error();
    caps.hw_tc_offload = *hw;
    return caps;
}

Result<steering::FlowerMode> resolve_flower_mode(steering::FlowerMode requested, const TcCapabilities& caps)
{
    using steering::FlowerMode;
    if (requested == FlowerMode::off)
        return FlowerMode::off;
    if (!caps.rules()) {
        if (requested == FlowerMode::automatic)
            return FlowerMode::off;
        return Error{std::string("TC flower ") + to_string(requested) + ": the kernel lacks " + caps.missing(),
                     EOPNOTSUPP};
    }
    if (requested == FlowerMode::hardware && !caps.hw_tc_offload)
        return Error{"TC flower hardware: the NIC does not report hw-tc-offload", EOPNOTSUPP};
    if (requested == FlowerMode::automatic)
        return caps.hw_tc_offload ? FlowerMode::hardware : FlowerMode::software;
    return requested;
}

std::string TcCapabilities::missing() const
{
    std::string out;
    auto add = [&](bool have, const char* name) {
        if (!have)
            out += (out.empty() ? "" : " ") + std::string(name);
    };
    add(cls_flower, "cls_flower");
    add(act_pedit, "act_pedit");
    add(act_csum, "act_csum");
    add(act_mirred, "act_mirred");
    return out;
}

std::string TcCapabilities::describe() const
{
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    return std::string("cls_flower=") + yes(cls_flower) + " act_pedit=" + yes(act_pedit) + " act_csum=" +
           yes(act_csum) + " act_mirred=" + yes(act_mirred) + " hw-tc-offload=" + yes(hw_tc_offload);
}

} // namespace xo::flower
