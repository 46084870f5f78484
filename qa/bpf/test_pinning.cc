// Pinned maps across a simulated daemon restart: the flow table a first load
// pinned is reused by a second load of the same instance (entries inserted
// before the "restart" are visible after it), a load with another size is
// refused, and remove() deletes the pins. Also measures user-space map
// operation latency, which is on the handoff's critical path.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <vector>

#include "qa/bpf/bpf_test_support.h"
#include "bpf/bpffs.h"
#include "bpf/gateway_data_plane.h"
#include "bpf/responder_data_plane.h"

namespace xo::test {
namespace {

bool exists(const std::string& path)
{
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
}

class Pinning : public testing::Test {
protected:
    void SetUp() override { instance_ = instance_name("pin"); }

    void TearDown() override
    {
        EXPECT_TRUE(xo::bpf::GatewayDataPlane::remove(instance_).ok());
        EXPECT_TRUE(xo::bpf::ResponderDataPlane::remove(instance_).ok());
    }

    std::string instance_;
};

TEST_F(Pinning, GatewayFlowsSurviveRestartAndRemoveDeletesPins)
{
    FrameSpec spec;
    {
        auto first = xo::bpf::GatewayDataPlane::open({instance_, 2048});
        if (!first)
            GTEST_SKIP() << "SKIPPED: cannot load BPF programs: " << first.error().message;
        ASSERT_TRUE((*first)->flows().block(key_of(spec)).ok());
    } // first instance gone: only the pin keeps the map alive
    std::string pin = xo::bpf::pin_dir(instance_) + "/xo_gw_flows";
    ASSERT_TRUE(exists(pin));

    auto second = xo::bpf::GatewayDataPlane::open({instance_, 2048});
    ASSERT_TRUE(second.ok()) << second.error().message;
    auto counters = (*second)->flows().counters(key_of(spec));
    ASSERT_TRUE(counters.ok()) << counters.error().message;
    EXPECT_EQ(counters->action, xo::bpf::FlowAction::block);
    // And the new program acts on the reused entry.
    TestRun run = test_run((*second)->xdp_program_fd(), build_frame(spec));
    ASSERT_EQ(run.err, 0);
    EXPECT_EQ(run.retval, 1u); // XDP_DROP

    auto resized = xo::bpf::GatewayDataPlane::open({instance_, 4096});
    EXPECT_FALSE(resized.ok());

    second->reset();
    ASSERT_TRUE(xo::bpf::GatewayDataPlane::remove(instance_).ok());
    EXPECT_FALSE(exists(pin));
    EXPECT_FALSE(exists(xo::bpf::pin_dir(instance_)));
}

TEST_F(Pinning, ResponderRewritesSurviveRestart)
{
    FrameSpec spec;
    {
        auto first = xo::bpf::ResponderDataPlane::open({instance_, 2048});
        if (!first)
            GTEST_SKIP() << "SKIPPED: cannot load BPF programs: " << first.error().message;
        ASSERT_TRUE((*first)->rewrites().insert(key_of(spec), endpoint("198.18.0.1", 80)).ok());
    }
    auto second = xo::bpf::ResponderDataPlane::open({instance_, 2048});
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_TRUE((*second)->rewrites().counters(key_of(spec)).ok());
    second->reset();
    ASSERT_TRUE(xo::bpf::ResponderDataPlane::remove(instance_).ok());
    EXPECT_FALSE(exists(xo::bpf::pin_dir(instance_) + "/xo_rsp_rewrites"));
}

TEST_F(Pinning, RejectsBadInstanceName)
{
    auto dp = xo::bpf::GatewayDataPlane::open({"../escape", 1024});
    ASSERT_FALSE(dp.ok());
    EXPECT_EQ(dp.error().code, EINVAL);
}

/** median_us() - median of @samples in microseconds. */
double median_us(std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

TEST_F(Pinning, MapOperationLatency)
{
    auto dp = xo::bpf::GatewayDataPlane::open({instance_, 65536});
    if (!dp)
        GTEST_SKIP() << "SKIPPED: cannot load BPF programs: " << dp.error().message;
    auto& flows = (*dp)->flows();
    xo::bpf::RedirectTarget target {endpoint("198.18.0.20", 10080), {}, {}};
    using Clock = std::chrono::steady_clock;
    auto us = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double, std::micro>(b - a).count();
    };
    std::vector<double> block, redirect, remove;
    for (std::uint16_t i = 0; i < 2000; i++) {
        FrameSpec spec;
        spec.sport = static_cast<std::uint16_t>(20000 + i);
        xo_flow_key key = key_of(spec);
        auto t0 = Clock::now();
        ASSERT_TRUE(flows.block(key).ok());
        auto t1 = Clock::now();
        ASSERT_TRUE(flows.redirect(key, target).ok());
        auto t2 = Clock::now();
        ASSERT_TRUE(flows.remove(key).ok());
        auto t3 = Clock::now();
        block.push_back(us(t0, t1));
        redirect.push_back(us(t1, t2));
        remove.push_back(us(t2, t3));
        ASSERT_FALSE(flows.counters(key).ok());
    }
    RecordProperty("block_median_us", std::to_string(median_us(block)));
    RecordProperty("redirect_median_us", std::to_string(median_us(redirect)));
    RecordProperty("remove_median_us", std::to_string(median_us(remove)));
    std::printf("map op medians (us): block %.2f redirect %.2f remove %.2f\n", median_us(block),
                median_us(redirect), median_us(remove));
}

} // namespace
} // namespace xo::test
