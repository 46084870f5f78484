// The TC flower backend (bpf/flower/) against the real kernel, in a network
// namespace of the test's own (the veth pair and every filter go with it):
// the capability probe, one rule installed, listed and removed, a restart's
// sweep, and no kernel object left by a stopped backend. A kernel without
// cls_flower, act_pedit, act_csum or act_mirred (the development machine's)
// makes every test SKIP with what is missing; Debian's stock kernel has them
// all (under QEMU TCG its tests pass there).
#include <gtest/gtest.h>

#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <optional>
#include <string>

#include "bpf/flower/flower_filter.h"
#include "bpf/flower/flower_rules.h"
#include "qa/bpf/veth_pair.h"
#include "qa/unit/private_netns.h"

namespace {

using xo::flower::FlowerRules;
using xo::flower::NetlinkSocket;
using xo::steering::FlowerMode;

const char* const nic = "xfl0";

/** count() - how many of @nic's TC objects of @kind a cache lists (filters at our priority only). */
xo::Result<int> count(NetlinkSocket& sock, bool filters, const std::string& kind)
{
    int ifindex = static_cast<int>(if_nametoindex(nic));
    nl_cache* cache = nullptr;
    int rc = filters ? rtnl_cls_alloc_cache(sock.get(), ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &cache)
                     : rtnl_qdisc_alloc_cache(sock.get(), &cache);
    if (rc < 0)
        return xo::Error{"listing TC objects: " + std::string(nl_geterror(rc))};
    int n = 0;
    for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        auto* tc = reinterpret_cast<rtnl_tc*>(o);
        if (rtnl_tc_get_ifindex(tc) != ifindex || kind != rtnl_tc_get_kind(tc))
            continue;
        // A dump lists each priority's classifier once without a handle, then its filters.
        if (filters && (rtnl_cls_get_prio(reinterpret_cast<rtnl_cls*>(o)) != xo::flower::flower_priority ||
                        rtnl_tc_get_handle(tc) == 0))
            continue;
        ++n;
    }
    nl_cache_free(cache);
    return n;
}

xo::handoff::Flow client_flow(unsigned short port)
{
    return {xo::Endpoint(boost::asio::ip::make_address("198.18.0.100"), port),
            xo::Endpoint(boost::asio::ip::make_address("198.18.0.1"), 80)};
}

xo::handoff::RedirectTarget responder()
{
    xo::handoff::RedirectTarget to;
    to.responder = xo::Endpoint(boost::asio::ip::make_address("198.18.0.10"), 40000);
    to.responder_mac = {0x02, 0, 0, 0, 0, 0x10};
    to.gateway_mac = {0x02, 0, 0, 0, 0, 0x01};
    to.bytes_to_send = 64 << 20;
    return to;
}

class FlowerKernel : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (auto why = netns_.enter())
            GTEST_SKIP() << *why;
        auto sock = NetlinkSocket::open();
        ASSERT_TRUE(sock) << sock.error().message;
        sock_.emplace(std::move(*sock));
        auto veth = xo::test::add_veth_pair(*sock_, nic, "xfl1", "198.18.0.1/24");
        ASSERT_TRUE(veth) << veth.error().message;
        // What this kernel has decides whether there is anything to test.
        auto probed = FlowerRules::start(nic, FlowerMode::automatic);
        ASSERT_TRUE(probed) << "auto never fails a start: " << probed.error().message;
        ASSERT_TRUE(probed->caps) << probed->why_off;
        if (!probed->caps->rules()) {
            EXPECT_EQ(probed->mode, FlowerMode::off);
            auto software = FlowerRules::start(nic, FlowerMode::software);
            ASSERT_FALSE(software) << "software mode on a kernel without its pieces must not start";
            EXPECT_EQ(software.error().code, EOPNOTSUPP);
            GTEST_SKIP() << "SKIPPED: this kernel lacks " << probed->caps->missing() << " ("
                         << probed->caps->describe() << ")";
        }
        probed->rules.reset();
        auto qdiscs = count(*sock_, false, "clsact");
        ASSERT_TRUE(qdiscs) << qdiscs.error().message;
        EXPECT_EQ(*qdiscs, 0) << "the probe created the clsact qdisc and must delete it with its backend";
    }

    void TearDown() override
    {
        sock_.reset();
        netns_.leave(); // the namespace goes, and its veth and filters with it
    }

    xo::test::PrivateNetns netns_;
    std::optional<NetlinkSocket> sock_;
};

TEST_F(FlowerKernel, ARuleIsInstalledListedAndRemoved)
{
    auto setup = FlowerRules::start(nic, FlowerMode::software);
    ASSERT_TRUE(setup) << setup.error().message;
    ASSERT_EQ(setup->mode, FlowerMode::software);
    auto& rules = *setup->rules;
    auto inserted = rules.insert(client_flow(51000), responder());
    ASSERT_TRUE(inserted) << inserted.error().message;
    auto listed = count(*sock_, true, "flower");
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ(*listed, 1);
    auto again = rules.insert(client_flow(51000), responder());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, EEXIST);
    auto removed = rules.remove(client_flow(51000));
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_EQ(*count(*sock_, true, "flower"), 0);
    EXPECT_EQ(rules.remove(client_flow(51000)).error().code, ENOENT);
    setup->rules.reset();
    EXPECT_EQ(*count(*sock_, false, "clsact"), 0) << "the backend created the clsact qdisc and deletes it";
}

TEST_F(FlowerKernel, AStartSweepsWhatAPreviousGatewayLeftAndAStopLeavesNothing)
{
    auto first = FlowerRules::start(nic, FlowerMode::software);
    ASSERT_TRUE(first) << first.error().message;
    for (unsigned short port = 51000; port < 51003; ++port) {
        auto r = first->rules->insert(client_flow(port), responder());
        ASSERT_TRUE(r) << r.error().message;
    }
    ASSERT_EQ(*count(*sock_, true, "flower"), 3);
    // A restarted gateway (the first never stopped: as if killed) sweeps them.
    auto second = FlowerRules::start(nic, FlowerMode::off);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(*count(*sock_, true, "flower"), 0);
    auto third = FlowerRules::start(nic, FlowerMode::software);
    ASSERT_TRUE(third) << third.error().message;
    ASSERT_TRUE(third->rules->insert(client_flow(52000), responder()));
    third->rules.reset(); // a stop removes its rules
    EXPECT_EQ(*count(*sock_, true, "flower"), 0);
}

} // namespace
