// Responder egress program under BPF_PROG_TEST_RUN: packets of a restored
// connection leave with the gateway's VIP:port as source (DSR) and complete
// checksums that re-verify from scratch; everything else goes out untouched.
//
// CHECKSUM_PARTIAL cannot be reached here: test-run builds CHECKSUM_NONE skbs
// and __sk_buff offers no way to set ip_summed. With CHECKSUM_NONE the
// kernel's l4 helper treats the field as a complete checksum, so a
// pseudo-header-only field would be updated as a complete one (wrongly for a
// partial one). The partial case is therefore tested for real in
// test_attach.cc: locally generated TCP leaving a veth with TX checksum
// offload is CHECKSUM_PARTIAL at TC egress, and the captured frame's field
// must equal the pseudo-header sum of the rewritten addresses.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <memory>

#include "qa/bpf/bpf_test_support.h"
#include "bpf/responder_data_plane.h"

namespace xo::test {
namespace {

class ResponderEgress : public testing::TestWithParam<bool> {
protected:
    void SetUp() override
    {
        instance_ = instance_name("rsp-egress");
        auto dp = xo::bpf::ResponderDataPlane::open({instance_, 1024});
        if (!dp)
            GTEST_SKIP() << "SKIPPED: cannot load BPF programs: " << dp.error().message;
        dp_ = std::move(*dp);
        // Responder (own address, shifted port) → client.
        spec_.src = GetParam() ? "2001:db8::20" : "198.18.0.20";
        spec_.dst = GetParam() ? "2001:db8::10" : "198.18.0.10";
        vip_ = GetParam() ? "2001:db8::1" : "198.18.0.1";
        spec_.ipv6 = GetParam();
        spec_.sport = 10080;
        spec_.dport = 40000;
        spec_.payload = std::string(700, 'x');
    }

    void TearDown() override
    {
        dp_.reset();
        auto removed = xo::bpf::ResponderDataPlane::remove(instance_);
        EXPECT_TRUE(removed.ok()) << removed.error().message;
    }

    std::string instance_;
    std::unique_ptr<xo::bpf::ResponderDataPlane> dp_;
    FrameSpec spec_;
    std::string vip_;
};

TEST_P(ResponderEgress, RewritesSourceToVip)
{
    auto inserted = dp_->rewrites().insert(key_of(spec_), endpoint(vip_, 80));
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
    Bytes frame = build_frame(spec_);

    TestRun run = test_run(dp_->program_fd(), frame);
    ASSERT_EQ(run.err, 0);
    EXPECT_EQ(run.retval, static_cast<std::uint32_t>(TC_ACT_OK));
    ASSERT_EQ(run.out.size(), frame.size());
    FrameView out(run.out);
    EXPECT_EQ(out.src_ip(), vip_);
    EXPECT_EQ(out.sport(), 80);
    EXPECT_EQ(out.dst_ip(), spec_.dst);
    EXPECT_EQ(out.dport(), spec_.dport);
    EXPECT_EQ(out.src_mac(), spec_.src_mac);
    EXPECT_EQ(out.dst_mac(), spec_.dst_mac);
    EXPECT_TRUE(out.ip_checksum_ok());
    EXPECT_TRUE(out.l4_checksum_ok());
    EXPECT_EQ(payload_of(run.out), payload_of(frame));

    auto counters = dp_->rewrites().counters(key_of(spec_));
    ASSERT_TRUE(counters.ok());
    EXPECT_EQ(counters->packets, 1u);
    EXPECT_EQ(counters->bytes, frame.size());
}

TEST_P(ResponderEgress, OtherTrafficLeavesUntouched)
{
    ASSERT_TRUE(dp_->rewrites().insert(key_of(spec_), endpoint(vip_, 80)).ok());
    FrameSpec other = spec_;
    other.dport = 40001;
    FrameSpec udp = spec_;
    udp.protocol = kProtoUdp;
    for (const Bytes& frame : {build_frame(other), build_frame(udp), build_arp_request()}) {
        TestRun run = test_run(dp_->program_fd(), frame);
        ASSERT_EQ(run.err, 0);
        EXPECT_EQ(run.retval, static_cast<std::uint32_t>(TC_ACT_OK));
        EXPECT_EQ(run.out, frame);
    }
    auto counters = dp_->rewrites().counters(key_of(spec_));
    ASSERT_TRUE(counters.ok());
    EXPECT_EQ(counters->packets, 0u);
}

TEST_P(ResponderEgress, RemovedEntryStopsRewriting)
{
    ASSERT_TRUE(dp_->rewrites().insert(key_of(spec_), endpoint(vip_, 80)).ok());
    ASSERT_TRUE(dp_->rewrites().remove(key_of(spec_)).ok());
    Bytes frame = build_frame(spec_);
    TestRun run = test_run(dp_->program_fd(), frame);
    ASSERT_EQ(run.err, 0);
    EXPECT_EQ(run.out, frame);
}

TEST_P(ResponderEgress, RefusesMixedFamilies)
{
    auto inserted = dp_->rewrites().insert(key_of(spec_), endpoint(GetParam() ? "198.18.0.1" : "2001:db8::1", 80));
    ASSERT_FALSE(inserted.ok());
    EXPECT_EQ(inserted.error().code, EINVAL);
}

INSTANTIATE_TEST_SUITE_P(Families, ResponderEgress, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                             return std::string(info.param ? "V6" : "V4");
                         });

} // namespace
} // namespace xo::test
