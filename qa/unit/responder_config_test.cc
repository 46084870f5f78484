// xo-responder's command line (osd_xo/responder_config.h).
#include <gtest/gtest.h>

#include "osd_xo/responder_config.h"

namespace {

using xo::rsp::parse_command_line;

std::vector<std::string> required()
{
    return {"--control",     "198.18.0.11:7000",    "--address",         "198.18.0.11",
            "--gateway-address", "198.18.0.2",      "--ifname",          "eth0",
            "--instance",    "xorsp-osd1",          "--channel-key",     "/etc/xo/channel.key",
            "--ticket-key",  "/etc/xo/ticket.key"};
}

TEST(ResponderConfig, DefaultsWithTheRequiredFlags)
{
    auto r = parse_command_line(required());
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_EQ(r.config->control.port(), 7000);
    EXPECT_EQ(r.config->address.to_string(), "198.18.0.11");
    ASSERT_EQ(r.config->gateway_addresses.size(), 1u);
    EXPECT_EQ(r.config->gateway_addresses[0].to_string(), "198.18.0.2");
    EXPECT_EQ(r.config->instance, "xorsp-osd1");
    EXPECT_EQ(r.config->channel_key, "/etc/xo/channel.key");
    EXPECT_EQ(r.config->ticket_key, "/etc/xo/ticket.key");
    EXPECT_EQ(r.config->cluster.id, "admin");
    EXPECT_EQ(r.config->reads.pipeline_depth, 4u);
    EXPECT_EQ(r.config->reads.read_bytes, 1u << 20);
    EXPECT_EQ(r.config->write_timeout.count(), 30);
    EXPECT_FALSE(r.config->metrics_listen);
}

TEST(ResponderConfig, EveryFlag)
{
    auto args = required();
    for (const char* a : {"--metrics-listen", "198.18.0.11:9100", "--ceph-conf", "/tmp/c.conf", "--ceph-id", "xo",
                          "--pipeline-depth", "8", "--read-bytes", "4194304", "--max-connections", "10",
                          "--log-level", "debug", "--write-timeout", "5", "--head-timeout-ms", "800"})
        args.push_back(a);
    auto r = parse_command_line(args);
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_EQ(r.config->metrics_listen->port(), 9100);
    EXPECT_EQ(r.config->cluster.conf_path, "/tmp/c.conf");
    EXPECT_EQ(r.config->cluster.id, "xo");
    EXPECT_EQ(r.config->reads.pipeline_depth, 8u);
    EXPECT_EQ(r.config->reads.read_bytes, 4u << 20);
    EXPECT_EQ(r.config->reads.head_timeout.count(), 800);
    EXPECT_EQ(r.config->max_connections, 10u);
    EXPECT_EQ(r.config->log_level, xo::log::Level::debug);
}

TEST(ResponderConfig, ErrorsNameTheFlag)
{
    auto bad = [](std::vector<std::string> extra) {
        auto args = required();
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = parse_command_line(args);
        EXPECT_FALSE(r.config);
        EXPECT_TRUE(r.error);
        return r.message;
    };
    EXPECT_NE(bad({"--pipeline-depth", "0"}).find("--pipeline-depth"), std::string::npos);
    EXPECT_NE(bad({"--gateway-address", "vip"}).find("--gateway-address"), std::string::npos);
    EXPECT_NE(bad({"--read-bytes", "100"}).find("--read-bytes"), std::string::npos);
    EXPECT_NE(bad({"--metrics-listen", "nowhere"}).find("--metrics-listen"), std::string::npos);
    EXPECT_NE(bad({"--log-level", "loud"}).find("--log-level"), std::string::npos);
    EXPECT_NE(bad({"--bogus"}).find("bogus"), std::string::npos);
    auto without_control = required();
    without_control.erase(without_control.begin(), without_control.begin() + 2);
    auto r = parse_command_line(without_control);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("control"), std::string::npos) << r.message;
}

TEST(ResponderConfig, HelpIsNotAnError)
{
    auto r = parse_command_line({"--help"});
    EXPECT_FALSE(r.config);
    EXPECT_FALSE(r.error);
    EXPECT_NE(r.message.find("--pipeline-depth"), std::string::npos);
}

TEST(ResponderConfig, SweepInterval)
{
    auto r = parse_command_line(required());
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_EQ(r.config->sweep_interval.count(), 5);
    auto args = required();
    args.insert(args.end(), {"--sweep-interval", "2"});
    r = parse_command_line(args);
    ASSERT_TRUE(r.config) << r.message;
    EXPECT_EQ(r.config->sweep_interval.count(), 2);
    args.back() = "0";
    r = parse_command_line(args);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("--sweep-interval"), std::string::npos) << r.message;
}

} // namespace
