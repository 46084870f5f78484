// The `rgw frontends` parser (rgw_xo/rgw_frontends.h) and xo-gateway's --name
// path through parse_command_line(), with the cluster read replaced.
#include <gtest/gtest.h>

#include "common/endpoint.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/rgw_frontends.h"

namespace {

using namespace xo::gw;

std::vector<GatewaySetting> settings_of(std::string_view value)
{
    auto entries = parse_rgw_frontends(value);
    EXPECT_TRUE(entries) << (entries ? "" : entries.error().message);
    if (!entries)
        return {};
    auto settings = gateway_settings(*entries);
    EXPECT_TRUE(settings) << (settings ? "" : settings.error().message);
    return settings ? *settings : std::vector<GatewaySetting>{};
}

std::string error_of(std::string_view value)
{
    auto entries = parse_rgw_frontends(value);
    if (!entries)
        return entries.error().message;
    auto settings = gateway_settings(*entries);
    return settings ? "" : settings.error().message;
}

TEST(RgwFrontends, EntriesAreSplitAsRadosgwSplitsThem)
{
    auto entries = parse_rgw_frontends(" beast endpoint=127.0.0.1:8000  endpoint=[::1]:8000 tcp_nodelay=1 ,xo  ");
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 2u);
    EXPECT_EQ((*entries)[0].framework, "beast");
    using Settings = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ((*entries)[0].settings,
              (Settings{{"endpoint", "127.0.0.1:8000"}, {"endpoint", "[::1]:8000"}, {"tcp_nodelay", "1"}}));
    EXPECT_EQ((*entries)[1].framework, "xo");
    EXPECT_TRUE((*entries)[1].settings.empty());
}

TEST(RgwFrontends, MalformedValuesAreRefusedWithWhatIsWrong)
{
    EXPECT_NE(error_of("beast port=8000,, xo").find("empty entry"), std::string::npos);
    EXPECT_NE(error_of("beast port=8000, xo =80").find("without a key"), std::string::npos);
}

TEST(RgwFrontends, XoEntryKeysAreGatewayOptions)
{
    auto s = settings_of("beast endpoint=127.0.0.1:8000 tcp_nodelay=1, xo endpoint=0.0.0.0:80 "
                         "ssl_endpoint=0.0.0.0:443 offload_threshold=1M tc_flower_min_bytes=64Ki "
                         "max_header_bytes=4096");
    EXPECT_EQ(s, (std::vector<GatewaySetting>{{"listen", "0.0.0.0:80"},
                                              {"ssl-endpoint", "0.0.0.0:443"},
                                              {"offload-threshold", "1048576"},
                                              {"tc-flower-min-bytes", "65536"},
                                              {"max-header-bytes", "4096"},
                                              {"upstream", "127.0.0.1:8000"}}));
}

TEST(RgwFrontends, UpstreamIsBeastsFirstPlainEndpointOnLoopbackForAWildcard)
{
    auto upstream = [](std::string_view value) {
        for (const auto& [key, v] : settings_of(value))
            if (key == "upstream")
                return v;
        return std::string("none");
    };
    EXPECT_EQ(upstream("beast ssl_endpoint=0.0.0.0:443 endpoint=10.0.0.1:8000, xo"), "10.0.0.1:8000");
    EXPECT_EQ(upstream("beast endpoint=0.0.0.0:8000, xo"), "127.0.0.1:8000");
    EXPECT_EQ(upstream("beast endpoint=[::]:8000, xo"), "[::1]:8000");
    EXPECT_EQ(upstream("beast endpoint=10.0.0.1, xo"), "10.0.0.1:80");
    EXPECT_EQ(upstream("beast port=7480, xo"), "127.0.0.1:7480");
    EXPECT_EQ(upstream("xo upstream=10.0.0.2:8000"), "10.0.0.2:8000"); // given: no beast needed
}

TEST(RgwFrontends, WhatTheGatewayCannotRunWithIsRefused)
{
    EXPECT_NE(error_of("beast port=7480").find("no xo entry"), std::string::npos);
    EXPECT_NE(error_of("beast port=7480, xo, xo").find("more than one xo entry"), std::string::npos);
    EXPECT_NE(error_of("xo endpoint=0.0.0.0:80").find("no beast entry"), std::string::npos);
    EXPECT_NE(error_of("beast ssl_endpoint=0.0.0.0:443, xo").find("no endpoint= or port="), std::string::npos);
    EXPECT_NE(error_of("beast endpoint=nowhere:80, xo").find("beast endpoint=nowhere:80"), std::string::npos);
    EXPECT_NE(error_of("beast port=7480, xo offload_threshold=1X").find("not a size"), std::string::npos);
    EXPECT_NE(error_of("beast port=7480, xo offload_threshold=99999999999T").find("not a size"), std::string::npos);
    EXPECT_NE(error_of("beast port=7480, xo endpoint=a:1 endpoint=b:2").find("given twice"), std::string::npos);
    EXPECT_NE(error_of("beast port=7480, xo config=/etc/x").find("command-line option only"), std::string::npos);
}

// parse_command_line() with --name: the reader stands in for ceph.conf and the monitors.
ParseResult with_frontends(std::vector<std::string> args, std::string value, FrontendsQuery* seen = nullptr)
{
    return parse_command_line(args, [value, seen](const FrontendsQuery& q) -> xo::Result<FrontendsOption> {
        if (seen)
            *seen = q;
        return FrontendsOption{value, "a test"};
    });
}

TEST(RgwFrontends, NameConfiguresTheGatewayAndFlagsOverride)
{
    FrontendsQuery seen;
    auto r = with_frontends({"--name", "client.rgw.gw", "--ceph-conf", "/c.conf", "--ceph-id", "xo-gateway",
                             "--threads", "3"},
                            "beast endpoint=127.0.0.1:8000, xo endpoint=198.18.0.2:80 threads=7 "
                            "offload_threshold=2M",
                            &seen);
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_EQ(seen.name, "client.rgw.gw");
    EXPECT_EQ(seen.conf_path, "/c.conf");
    EXPECT_EQ(seen.ceph_id, "xo-gateway");
    EXPECT_EQ(xo::to_string(r.config->listen), "198.18.0.2:80");
    EXPECT_EQ(xo::to_string(r.config->upstream), "127.0.0.1:8000");
    EXPECT_EQ(r.config->offload.threshold, 2u * 1024 * 1024);
    EXPECT_EQ(r.config->threads, 3u); // the flag, not the entry
}

TEST(RgwFrontends, ABadEntryFailsTheStartNamingTheInstanceAndTheValue)
{
    auto r = with_frontends({"--name", "client.rgw.gw"}, "beast port=8000, xo listen_bogus=1");
    ASSERT_FALSE(r.config);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("client.rgw.gw"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("listen-bogus"), std::string::npos) << r.message;

    r = with_frontends({"--name", "client.rgw.gw"}, "beast port=8000, xo offload_stall_timeout=0");
    ASSERT_FALSE(r.config);
    EXPECT_NE(r.message.find("--offload-stall-timeout"), std::string::npos) << r.message;

    r = parse_command_line({"--name", "client.rgw.gw"}, [](const FrontendsQuery&) -> xo::Result<FrontendsOption> {
        return xo::Error{"no monitor answered", 110};
    });
    ASSERT_FALSE(r.config);
    EXPECT_NE(r.message.find("no monitor answered"), std::string::npos) << r.message;
}

TEST(RgwFrontends, WithoutNameNothingIsRead)
{
    bool read = false;
    auto r = parse_command_line({}, [&read](const FrontendsQuery&) -> xo::Result<FrontendsOption> {
        read = true;
        return FrontendsOption{};
    });
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_FALSE(read);
}

} // namespace
