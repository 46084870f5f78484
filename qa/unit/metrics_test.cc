// xo::metrics::Registry (common/metrics.h) rendering and concurrency, and the
// gateway's series (rgw_xo/gateway_metrics.h).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "rgw_xo/gateway_metrics.h"
#include "common/metrics.h"

namespace {

using namespace std::chrono_literals;
using xo::metrics::Registry;

TEST(Metrics, CounterFamilyWithLabelsExactText)
{
    Registry r;
    auto& ok = r.counter("xo_test_total", "Test requests.", {{"method", "GET"}, {"status", "2xx"}});
    auto& bad = r.counter("xo_test_total", "ignored", {{"method", "PUT"}, {"status", "5xx"}});
    r.counter("xo_plain_total", "No labels.");
    ok.add(3);
    bad.add();
    EXPECT_EQ(r.render(), "# HELP xo_test_total Test requests.\n"
                          "# TYPE xo_test_total counter\n"
                          "xo_test_total{method=\"GET\",status=\"2xx\"} 3\n"
                          "xo_test_total{method=\"PUT\",status=\"5xx\"} 1\n"
                          "# HELP xo_plain_total No labels.\n"
                          "# TYPE xo_plain_total counter\n"
                          "xo_plain_total 0\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped)
{
    Registry r;
    r.counter("xo_esc_total", "back\\slash\nnewline \"quotes\" stay", {{"v", "a\\b\"c\nd"}}).add(2);
    EXPECT_EQ(r.render(), "# HELP xo_esc_total back\\\\slash\\nnewline \"quotes\" stay\n"
                          "# TYPE xo_esc_total counter\n"
                          "xo_esc_total{v=\"a\\\\b\\\"c\\nd\"} 2\n");
}

TEST(Metrics, GaugeGoesUpAndDown)
{
    Registry r;
    auto& g = r.gauge("xo_open", "Open things.");
    g.add(5);
    g.add(-7);
    EXPECT_EQ(r.render(), "# HELP xo_open Open things.\n# TYPE xo_open gauge\nxo_open -2\n");
}

TEST(Metrics, HistogramBucketsAreCumulative)
{
    Registry r;
    auto& h = r.histogram("xo_lat_seconds", "Latency.", {0.1, 0.5, 1});
    for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0})
        h.observe(v);
    EXPECT_EQ(r.render(), "# HELP xo_lat_seconds Latency.\n"
                          "# TYPE xo_lat_seconds histogram\n"
                          "xo_lat_seconds_bucket{le=\"0.1\"} 2\n"
                          "xo_lat_seconds_bucket{le=\"0.5\"} 3\n"
                          "xo_lat_seconds_bucket{le=\"1\"} 4\n"
                          "xo_lat_seconds_bucket{le=\"+Inf\"} 6\n"
                          "xo_lat_seconds_sum 6.15\n"
                          "xo_lat_seconds_count 6\n");
}

TEST(Metrics, EmptyHistogramWithLabelsRendersZeros)
{
    Registry r;
    r.histogram("xo_h", "H.", {1}, {{"k", "v"}});
    EXPECT_EQ(r.render(), "# HELP xo_h H.\n# TYPE xo_h histogram\n"
                          "xo_h_bucket{k=\"v\",le=\"1\"} 0\n"
                          "xo_h_bucket{k=\"v\",le=\"+Inf\"} 0\n"
                          "xo_h_sum{k=\"v\"} 0\n"
                          "xo_h_count{k=\"v\"} 0\n");
}

TEST(Metrics, ReusingANameForAnotherTypeThrows)
{
    Registry r;
    r.counter("xo_x", "X.");
    EXPECT_THROW(r.gauge("xo_x", "X."), std::invalid_argument);
}

TEST(Metrics, ConcurrentIncrementsSumExactly)
{
    Registry r;
    auto& c = r.counter("xo_c_total", "C.");
    auto& h = r.histogram("xo_h_seconds", "H.", {0.5});
    constexpr int threads = 4;
    constexpr int per_thread = 100000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                c.add();
                h.observe(1.0);
            }
        });
    }
    for (auto& t : pool)
        t.join();
    EXPECT_EQ(c.value(), std::uint64_t{threads} * per_thread);
    EXPECT_EQ(h.bucket_count(1), std::uint64_t{threads} * per_thread);
    EXPECT_EQ(h.sum(), double{threads} * per_thread);
}

TEST(GatewayMetrics, RecordCountsRequestsBytesAndOffloadOutcomes)
{
    Registry r;
    xo::gw::GatewayMetrics m(r);
    using xo::gw::OffloadOutcome;
    m.record("GET", {.status = 200, .bytes_out = 1048576,
                     .offload = {.outcome = OffloadOutcome::relayed_ineligible, .reason = "subresource"}});
    m.record("GET", {.status = 200, .bytes_out = 0, .outcome = "offloaded",
                     .offload = {.outcome = OffloadOutcome::offloaded, .reason = {}, .handoff = xo::handoff::HandoffTimes{
                                                     .block = 2ms, .save = 0ns, .rpc = 0ns, .redirect = 0ns,
                                                     .close = 0ns, .total = 300us}}});
    m.record("GET", {.status = 200, .outcome = "fallback",
                     .offload = {.outcome = OffloadOutcome::fallback, .reason = "not-a-known-reason"}});
    m.record("PUT", {.status = 200, .bytes_in = 1048576});
    m.record("BREW", {.status = 418, .bytes_in = 7, .bytes_out = 9});
    m.record("", {.outcome = "header_timeout"});
    m.record("GET", {.status = 503, .bytes_out = 10, .outcome = "ServiceUnavailable"});
    m.connection_opened();
    const std::string text = r.render();
    for (const char* line : {
             "xo_gateway_requests_total{method=\"GET\",status_class=\"2xx\"} 3\n",
             "xo_gateway_requests_total{method=\"PUT\",status_class=\"2xx\"} 1\n",
             "xo_gateway_requests_total{method=\"other\",status_class=\"4xx\"} 1\n",
             "xo_gateway_requests_total{method=\"none\",status_class=\"none\"} 1\n",
             "xo_gateway_received_body_bytes_total 1048583\n",
             "xo_gateway_relayed_body_bytes_total 1048595\n",
             "xo_gateway_requests_total{method=\"GET\",status_class=\"5xx\"} 1\n",
             "xo_gateway_connections 1\n",
             "xo_offload_total{outcome=\"relayed_ineligible\",reason=\"subresource\"} 1\n",
             "xo_offload_total{outcome=\"relayed_ineligible\",reason=\"disabled\"} 0\n",
             "xo_offload_total{outcome=\"offloaded\"} 1\n",
             "xo_offload_total{outcome=\"fallback\",reason=\"other\"} 1\n",
             "xo_offload_total{outcome=\"lost\"} 0\n",
             "xo_handoff_seconds_bucket{le=\"5e-04\"} 1\n",
             "xo_handoff_seconds_count 1\n",
             "xo_handoff_step_seconds_bucket{step=\"block\",le=\"0.001\"} 0\n",
             "xo_handoff_step_seconds_bucket{step=\"block\",le=\"0.0025\"} 1\n",
             "xo_handoff_step_seconds_bucket{step=\"rpc\",le=\"1e-04\"} 1\n",
             "xo_handoff_step_seconds_count{step=\"close\"} 1\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(GatewayMetrics, FlowTableSweepsAndAFullTable)
{
    Registry r;
    xo::gw::GatewayMetrics m(r);
    m.flow_table_swept({.entries = 7, .dead_blocks = 2, .idle_orphans = 1, .orphans = 3});
    m.flow_table_swept({.entries = 4, .dead_blocks = 1, .idle_orphans = 0, .orphans = 0});
    m.record("GET", {.status = 200, .outcome = "fallback",
                     .offload = {.outcome = xo::gw::OffloadOutcome::fallback, .reason = "flow_table_full"}});
    const std::string text = r.render();
    for (const char* line : {
             "xo_flow_table_entries 4\n",
             "xo_flow_table_orphans 0\n",
             "xo_flow_table_swept_total{reason=\"dead_block\"} 3\n",
             "xo_flow_table_swept_total{reason=\"idle_orphan\"} 1\n",
             "xo_offload_total{outcome=\"fallback\",reason=\"flow_table_full\"} 1\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(GatewayMetrics, TcFlowerCapabilitiesModeAndQueue)
{
    Registry r;
    xo::gw::GatewayMetrics m(r);
    EXPECT_NE(r.render().find("xo_tc_flower_mode{mode=\"off\"} 1\n"), std::string::npos) << "off before a start";
    xo::flower::TcCapabilities caps{true, true, true, true, false};
    m.tc_flower().started(xo::steering::FlowerMode::software, caps);
    m.tc_flower().observe({.queue_depth = 5, .max_queue_depth = 9, .rules = 3, .queued = 10, .dropped = 2});
    m.tc_flower().observe({.queue_depth = 1, .max_queue_depth = 9, .rules = 4, .queued = 12, .dropped = 2});
    const std::string text = r.render();
    for (const char* line : {
             "xo_tc_flower_capability{feature=\"cls_flower\"} 1\n",
             "xo_tc_flower_capability{feature=\"hw_tc_offload\"} 0\n",
             "xo_tc_flower_mode{mode=\"off\"} 0\n",
             "xo_tc_flower_mode{mode=\"software\"} 1\n",
             "xo_tc_flower_queue_depth 1\n",
             "xo_tc_flower_queue_max_depth 9\n",
             "xo_tc_flower_rules 4\n",
             "xo_tc_flower_requests_total{outcome=\"queued\"} 12\n",
             "xo_tc_flower_requests_total{outcome=\"dropped\"} 2\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line;
}

} // namespace
