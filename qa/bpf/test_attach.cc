// Attach and detach on real devices, inside a network namespace this test
// creates (xot-<pid>-att) and deletes: native XDP on a veth, TC fallback on
// a bridge (no native XDP), in-place replacement of a stale copy of our own
// program after a "restart", and the responder's egress rewrite on real
// CHECKSUM_PARTIAL skbs (locally generated TCP leaving a veth with TX
// checksum offload on), checked on frames captured after the TC hook.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "qa/bpf/bpf_test_support.h"
#include "bpf/gateway_data_plane.h"
#include "bpf/responder_data_plane.h"

namespace xo::test {
namespace {

/** sh() - run a shell command quietly; true on exit status 0. */
bool sh(const std::string& command)
{
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::uint32_t prog_id(int prog_fd)
{
    bpf_prog_info info {};
    std::uint32_t len = sizeof(info);
    return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

std::uint32_t native_xdp_id(const std::string& ifname)
{
    bpf_xdp_query_opts query {};
    query.sz = sizeof(query);
    int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    return bpf_xdp_query(ifindex, 0, &query) == 0 ? query.drv_prog_id : 0;
}

/** clsact_present() - whether @ifname has a clsact qdisc (probe-creates, then undoes). */
bool clsact_present(const std::string& ifname)
{
    bpf_tc_hook hook {};
    hook.sz = sizeof(hook);
    hook.ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    hook.attach_point = BPF_TC_INGRESS;
    if (bpf_tc_hook_create(&hook) == -EEXIST)
        return true;
    hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook);
    return false;
}

class AttachInNetns : public testing::Test {
protected:
    void SetUp() override
    {
        netns_ = instance_name("att");
        instance_ = netns_;
        if (!sh("ip netns add " + netns_))
            GTEST_SKIP() << "SKIPPED: cannot create a network namespace";
        created_ = true;
        std::string ip = "ip -n " + netns_ + " ";
        ASSERT_TRUE(sh(ip + "link add xa type veth peer name xb"));
        ASSERT_TRUE(sh(ip + "link add xbr type bridge"));
        ASSERT_TRUE(sh(ip + "addr add 198.18.0.1/24 dev xa"));
        ASSERT_TRUE(sh(ip + "addr add 2001:db8::1/64 dev xa nodad"));
        for (const char* dev : {"xa", "xb", "xbr"})
            ASSERT_TRUE(sh(ip + "link set " + dev + " up"));
        ASSERT_TRUE(sh(ip + "neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev xa nud permanent"));
        ASSERT_TRUE(sh(ip + "neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev xa nud permanent"));
        home_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int target = open(("/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(home_, 0);
        ASSERT_GE(target, 0);
        ASSERT_EQ(setns(target, CLONE_NEWNET), 0);
        close(target);
        inside_ = true;
    }

    void TearDown() override
    {
        if (inside_) {
            EXPECT_EQ(setns(home_, CLONE_NEWNET), 0);
        }
        if (home_ >= 0)
            close(home_);
        if (created_) {
            EXPECT_TRUE(sh("ip netns del " + netns_));
        }
        EXPECT_TRUE(xo::bpf::GatewayDataPlane::remove(instance_).ok());
        EXPECT_TRUE(xo::bpf::ResponderDataPlane::remove(instance_).ok());
    }

    std::string netns_;
    std::string instance_;
    int home_ = -1;
    bool created_ = false;
    bool inside_ = false;
};

TEST_F(AttachInNetns, GatewayPrefersNativeXdpOnVeth)
{
    auto dp = xo::bpf::GatewayDataPlane::open({instance_, 1024});
    ASSERT_TRUE(dp.ok()) << dp.error().message;
    auto mode = (*dp)->attach("xa");
    ASSERT_TRUE(mode.ok()) << mode.error().message;
    EXPECT_EQ(*mode, xo::bpf::AttachMode::xdp_native);
    EXPECT_EQ(native_xdp_id("xa"), prog_id((*dp)->xdp_program_fd()));
    ASSERT_TRUE((*dp)->detach().ok());
    EXPECT_EQ(native_xdp_id("xa"), 0u);
}

TEST_F(AttachInNetns, GatewayFallsBackToTcOnBridge)
{
    auto dp = xo::bpf::GatewayDataPlane::open({instance_, 1024});
    ASSERT_TRUE(dp.ok()) << dp.error().message;
    auto mode = (*dp)->attach("xbr");
    ASSERT_TRUE(mode.ok()) << mode.error().message;
    EXPECT_EQ(*mode, xo::bpf::AttachMode::tc);
    EXPECT_EQ(native_xdp_id("xbr"), 0u);
    EXPECT_TRUE(clsact_present("xbr"));
    dp->reset(); // destruction detaches and deletes the qdisc it created
    EXPECT_FALSE(clsact_present("xbr"));
}

TEST_F(AttachInNetns, RestartReplacesStaleProgramInPlace)
{
    auto first = xo::bpf::GatewayDataPlane::open({instance_, 1024});
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_TRUE((*first)->attach("xa").ok());
    auto second = xo::bpf::GatewayDataPlane::open({instance_, 1024});
    ASSERT_TRUE(second.ok()) << second.error().message;
    auto mode = (*second)->attach("xa");
    ASSERT_TRUE(mode.ok()) << mode.error().message;
    std::uint32_t second_id = prog_id((*second)->xdp_program_fd());
    EXPECT_EQ(native_xdp_id("xa"), second_id);
    first->reset(); // the old owner's detach must not remove the new program
    EXPECT_EQ(native_xdp_id("xa"), second_id);
    second->reset();
    EXPECT_EQ(native_xdp_id("xa"), 0u);
}

/** struct Captured - one outgoing frame and whether its checksum was partial. */
struct Captured {
    Bytes frame;
    bool partial = false;
};

/**
 * capture_syn() - connect from @own:@own_port to @peer:80 and capture the SYN
 * as it leaves xa (after TC egress), matching its rewritten source port 80.
 */
Captured capture_syn(bool ipv6, const std::string& own, std::uint16_t own_port, const std::string& peer)
{
    Captured out;
    int cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    EXPECT_GE(cap, 0);
    int one = 1;
    setsockopt(cap, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
    sockaddr_ll ll {};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_ALL);
    ll.sll_ifindex = static_cast<int>(if_nametoindex("xa"));
    EXPECT_EQ(bind(cap, reinterpret_cast<sockaddr*>(&ll), sizeof(ll)), 0);

    int tcp = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_storage local {}, remote {};
    socklen_t len;
    if (ipv6) {
        auto* l6 = reinterpret_cast<sockaddr_in6*>(&local);
        auto* r6 = reinterpret_cast<sockaddr_in6*>(&remote);
        l6->sin6_family = r6->sin6_family = AF_INET6;
        l6->sin6_port = htons(own_port);
        r6->sin6_port = htons(80);
        inet_pton(AF_INET6, own.c_str(), &l6->sin6_addr);
        inet_pton(AF_INET6, peer.c_str(), &r6->sin6_addr);
        len = sizeof(sockaddr_in6);
    } else {
        auto* l4 = reinterpret_cast<sockaddr_in*>(&local);
        auto* r4 = reinterpret_cast<sockaddr_in*>(&remote);
        l4->sin_family = r4->sin_family = AF_INET;
        l4->sin_port = htons(own_port);
        r4->sin_port = htons(80);
        inet_pton(AF_INET, own.c_str(), &l4->sin_addr);
        inet_pton(AF_INET, peer.c_str(), &r4->sin_addr);
        len = sizeof(sockaddr_in);
    }
    EXPECT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&local), len), 0);
    connect(tcp, reinterpret_cast<sockaddr*>(&remote), len); // EINPROGRESS: the SYN is out

    for (int tries = 0; tries < 50 && out.frame.empty(); tries++) {
        pollfd pfd {cap, POLLIN, 0};
        if (poll(&pfd, 1, 2000) <= 0)
            break;
        Bytes buf(2048);
        alignas(tpacket_auxdata) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
        iovec iov {buf.data(), buf.size()};
        msghdr msg {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        ssize_t n = recvmsg(cap, &msg, 0);
        if (n < static_cast<ssize_t>(kEthLen + 40))
            continue;
        buf.resize(static_cast<std::size_t>(n));
        FrameView view(buf);
        bool tcp_frame = buf[kEthLen + (view.ipv6() ? 6 : 9)] == kProtoTcp;
        if (!tcp_frame || view.sport() != 80)
            continue;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                tpacket_auxdata aux;
                std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                out.partial = aux.tp_status & TP_STATUS_CSUMNOTREADY;
            }
        }
        out.frame = buf;
    }
    close(tcp);
    close(cap);
    return out;
}

TEST_F(AttachInNetns, ResponderRewritesPartialAndCompleteChecksums)
{
    auto dp = xo::bpf::ResponderDataPlane::open({instance_, 1024});
    ASSERT_TRUE(dp.ok()) << dp.error().message;
    auto attached = (*dp)->attach("xa");
    ASSERT_TRUE(attached.ok()) << attached.error().message;

    struct Case {
        bool ipv6;
        const char* own;
        const char* peer;
        const char* vip;
    };
    std::uint16_t port = static_cast<std::uint16_t>(30000 + getpid() % 20000);
    for (bool offload : {true, false}) {
        if (!offload) {
            ASSERT_TRUE(sh("ethtool -K xa tx off"));
        }
        for (Case c : {Case{false, "198.18.0.1", "198.18.0.2", "198.18.0.100"},
                       Case{true, "2001:db8::1", "2001:db8::2", "2001:db8::100"}}) {
            SCOPED_TRACE(std::string(c.own) + (offload ? " tx offload on" : " tx offload off"));
            port++;
            auto key = xo::bpf::flow_key(endpoint(c.own, port), endpoint(c.peer, 80));
            ASSERT_TRUE(key.ok());
            ASSERT_TRUE((*dp)->rewrites().insert(*key, endpoint(c.vip, 80)).ok());
            Captured syn = capture_syn(c.ipv6, c.own, port, c.peer);
            ASSERT_FALSE(syn.frame.empty()) << "no rewritten SYN captured";
            FrameView view(syn.frame);
            EXPECT_EQ(view.src_ip(), c.vip);
            EXPECT_TRUE(view.ip_checksum_ok());
            EXPECT_EQ(syn.partial, offload);
            if (syn.partial) {
                EXPECT_EQ(view.tcp_check_field(), view.pseudo_sum()); // consistent partial
            } else {
                EXPECT_TRUE(view.l4_checksum_ok());
            }
        }
    }
    ASSERT_TRUE((*dp)->detach().ok());
    EXPECT_FALSE(clsact_present("xa"));
}

} // namespace
} // namespace xo::test
