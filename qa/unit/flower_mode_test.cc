// The TC flower mode words (common/steering/flower_mode.h), what a mode
// becomes on a kernel and NIC (bpf/flower/tc_capabilities.h), and the pedit
// keys of a flower rule (bpf/flower/flower_filter.h) — the parts of the
// flower backend that need no kernel. The backend itself runs for real in
// xo_flower_kernel_tests.
#include <gtest/gtest.h>
#include <arpa/inet.h>

#include <cstring>

#include "bpf/flower/flower_filter.h"
#include "bpf/flower/tc_capabilities.h"
#include "common/steering/flower_mode.h"

namespace {

using xo::flower::PeditBase;
using xo::flower::PeditKey;
using xo::flower::TcCapabilities;
using xo::steering::FlowerMode;

TEST(FlowerMode, WordsRoundTripAndOthersAreRefused)
{
    for (auto mode : {FlowerMode::off, FlowerMode::software, FlowerMode::hardware, FlowerMode::automatic}) {
        auto parsed = xo::steering::parse_flower_mode(xo::steering::to_string(mode));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, mode);
    }
    auto bad = xo::steering::parse_flower_mode("automatic");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, EINVAL);
}

TEST(FlowerMode, AutoFollowsTheKernelAndTheNicExplicitModesAreNotDowngraded)
{
    TcCapabilities none; // this kernel: no cls_flower, no act_pedit, no act_csum
    none.act_mirred = true;
    TcCapabilities soft{true, true, true, true, false};
    TcCapabilities hard{true, true, true, true, true};
    auto resolve = xo::flower::resolve_flower_mode;
    EXPECT_EQ(*resolve(FlowerMode::automatic, none), FlowerMode::off);
    EXPECT_EQ(*resolve(FlowerMode::automatic, soft), FlowerMode::software);
    EXPECT_EQ(*resolve(FlowerMode::automatic, hard), FlowerMode::hardware);
    EXPECT_EQ(*resolve(FlowerMode::off, hard), FlowerMode::off);
    EXPECT_EQ(*resolve(FlowerMode::software, hard), FlowerMode::software);
    auto missing = resolve(FlowerMode::software, none);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("cls_flower act_pedit act_csum"), std::string::npos)
        << missing.error().message;
    EXPECT_FALSE(resolve(FlowerMode::hardware, soft));
    EXPECT_EQ(none.describe(), "cls_flower=no act_pedit=no act_csum=no act_mirred=yes hw-tc-offload=no");
}

/** bytes_of() - a pedit key's value word as the bytes it puts on the wire. */
std::array<std::uint8_t, 4> bytes_of(std::uint32_t word)
{
    std::array<std::uint8_t, 4> b;
    std::memcpy(b.data(), &word, 4);
    return b;
}

TEST(FlowerFilter, PeditRewritesTheFieldsTheEbpfRedirectRewrites)
{
    xo::handoff::Flow flow{xo::Endpoint(boost::asio::ip::make_address("198.18.0.100"), 51000),
                           xo::Endpoint(boost::asio::ip::make_address("198.18.0.1"), 80)};
    xo::handoff::RedirectTarget to;
    to.responder = xo::Endpoint(boost::asio::ip::make_address("198.18.0.10"), 0x1234);
    to.responder_mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    to.gateway_mac = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

    auto software = xo::flower::redirect_rewrite(flow, to, false);
    ASSERT_EQ(software.size(), 5u); // 3 MAC words, the IPv4 destination, the ports word
    std::vector<std::uint8_t> macs;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(software[i].base, PeditBase::ethernet);
        EXPECT_EQ(software[i].offset, 4u * i);
        EXPECT_EQ(software[i].mask, 0u);
        auto b = bytes_of(software[i].value);
        macs.insert(macs.end(), b.begin(), b.end());
    }
    EXPECT_EQ(macs, (std::vector<std::uint8_t>{0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}));
    EXPECT_EQ(software[3].base, PeditBase::ipv4);
    EXPECT_EQ(software[3].offset, 16u);
    EXPECT_EQ(bytes_of(software[3].value), (std::array<std::uint8_t, 4>{198, 18, 0, 10}));
    // The ports word behind a 20-byte IPv4 header: source port kept, destination set.
    EXPECT_EQ(software[4].base, PeditBase::ipv4);
    EXPECT_EQ(software[4].offset, 20u);
    EXPECT_EQ(bytes_of(software[4].mask), (std::array<std::uint8_t, 4>{0xff, 0xff, 0, 0}));
    EXPECT_EQ(bytes_of(software[4].value), (std::array<std::uint8_t, 4>{0, 0, 0x12, 0x34}));

    auto hardware = xo::flower::redirect_rewrite(flow, to, true);
    ASSERT_EQ(hardware.size(), 5u);
    EXPECT_EQ(hardware[4].base, PeditBase::tcp); // a NIC knows TCP fields, not offsets past the IP header
    EXPECT_EQ(hardware[4].offset, 0u);
    EXPECT_EQ(hardware[4].value, software[4].value);
}

TEST(FlowerFilter, IPv6RewritesTheWholeDestinationAndMixedFamiliesAreRefused)
{
    xo::handoff::Flow flow{xo::Endpoint(boost::asio::ip::make_address("2001:db8::100"), 51000),
                           xo::Endpoint(boost::asio::ip::make_address("2001:db8::1"), 80)};
    xo::handoff::RedirectTarget to;
    to.responder = xo::Endpoint(boost::asio::ip::make_address("2001:db8::10"), 40000);
    auto keys = xo::flower::redirect_rewrite(flow, to, false);
    ASSERT_EQ(keys.size(), 3u + 4u + 1u);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(keys[3 + i].base, PeditBase::ipv6);
        EXPECT_EQ(keys[3 + i].offset, 24u + 4u * i);
    }
    EXPECT_EQ(keys[7].offset, 40u);
    EXPECT_TRUE(xo::flower::flower_filter_message({1, 1}, flow, to, false));

    to.responder = xo::Endpoint(boost::asio::ip::make_address("198.18.0.10"), 40000);
    auto mixed = xo::flower::flower_filter_message({1, 1}, flow, to, false);
    ASSERT_FALSE(mixed);
    EXPECT_EQ(mixed.error().code, EAFNOSUPPORT);
}

} // namespace
