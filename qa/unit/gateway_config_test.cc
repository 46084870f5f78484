// parse_command_line() from rgw_xo/gateway_config.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "common/endpoint.h"
#include "rgw_xo/gateway_config.h"

namespace {

using xo::gw::GatewayConfig;
using xo::gw::parse_command_line;
using xo::gw::ParseResult;

// A config file that deletes itself.
class TempConfig {
public:
    explicit TempConfig(const std::string& text)
    {
        char tmpl[] = "/tmp/xo_unit_conf_XXXXXX";
        int fd = ::mkstemp(tmpl);
        path_ = tmpl;
        if (fd >= 0)
            ::close(fd);
        std::ofstream(path_) << text;
    }
    ~TempConfig() { ::unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string dump(const ParseResult& r) { return "error=" + std::to_string(r.error) + " message=" + r.message; }

TEST(ParseCommandLine, Defaults)
{
    ParseResult r = parse_command_line({});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_FALSE(r.error);
    const GatewayConfig& c = *r.config;
    const GatewayConfig d;
    EXPECT_EQ(xo::to_string(c.listen), "0.0.0.0:80");
    EXPECT_EQ(xo::to_string(c.upstream), "127.0.0.1:8000");
    EXPECT_EQ(c.threads, std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_EQ(c.max_connections, 0u); // resolved from the open files limit at start
    EXPECT_EQ(c.max_header_bytes, d.max_header_bytes);
    EXPECT_EQ(c.header_timeout, d.header_timeout);
    EXPECT_EQ(c.idle_timeout, d.idle_timeout);
    EXPECT_EQ(c.io_timeout, d.io_timeout);
    EXPECT_EQ(c.connect_timeout, d.connect_timeout);
    EXPECT_EQ(c.continue_timeout, d.continue_timeout);
    EXPECT_EQ(c.shutdown_timeout, d.shutdown_timeout);
    EXPECT_EQ(c.relay_buffer_bytes, d.relay_buffer_bytes);
    EXPECT_EQ(c.access_log, "-");
    EXPECT_EQ(c.client_addr_header, "X-XO-Client-Addr");
    EXPECT_EQ(c.log_level, xo::log::Level::info);
}

const std::vector<std::string> every_flag = {
    "--listen", "[::1]:9080",          "--upstream", "198.18.0.2:7480", "--threads", "3",
    "--max-header-bytes", "8192",      "--header-timeout", "7",         "--idle-timeout", "11",
    "--io-timeout", "13",              "--connect-timeout", "2",        "--continue-timeout-ms", "250",
    "--shutdown-timeout", "4",         "--relay-buffer-bytes", "65536", "--access-log", "/var/log/xo/a.log",
    "--client-addr-header", "X-Real-IP", "--log-level", "debug",       "--max-connections", "500"};

void expect_every_flag(const GatewayConfig& c)
{
    EXPECT_EQ(xo::to_string(c.listen), "[::1]:9080");
    EXPECT_EQ(xo::to_string(c.upstream), "198.18.0.2:7480");
    EXPECT_EQ(c.threads, 3u);
    EXPECT_EQ(c.max_connections, 500u);
    EXPECT_EQ(c.max_header_bytes, 8192u);
    EXPECT_EQ(c.header_timeout, std::chrono::seconds(7));
    EXPECT_EQ(c.idle_timeout, std::chrono::seconds(11));
    EXPECT_EQ(c.io_timeout, std::chrono::seconds(13));
    EXPECT_EQ(c.connect_timeout, std::chrono::seconds(2));
    EXPECT_EQ(c.continue_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(c.shutdown_timeout, std::chrono::seconds(4));
    EXPECT_EQ(c.relay_buffer_bytes, 65536u);
    EXPECT_EQ(c.access_log, "/var/log/xo/a.log");
    EXPECT_EQ(c.client_addr_header, "X-Real-IP");
    EXPECT_EQ(c.log_level, xo::log::Level::debug);
}

TEST(ParseCommandLine, EveryFlag)
{
    ParseResult r = parse_command_line(every_flag);
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_FALSE(r.error);
    expect_every_flag(*r.config);
}

TEST(ParseCommandLine, EqualsForm)
{
    ParseResult r = parse_command_line({"--listen=127.0.0.1:8080", "--threads=2", "--log-level=warn"});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(xo::to_string(r.config->listen), "127.0.0.1:8080");
    EXPECT_EQ(r.config->threads, 2u);
    EXPECT_EQ(r.config->log_level, xo::log::Level::warn);
}

TEST(ParseCommandLine, LogLevels)
{
    for (auto [name, level] : {std::pair{"debug", xo::log::Level::debug}, std::pair{"info", xo::log::Level::info},
                               std::pair{"warn", xo::log::Level::warn}, std::pair{"error", xo::log::Level::error}}) {
        ParseResult r = parse_command_line({"--log-level", name});
        ASSERT_TRUE(r.config) << name << ": " << dump(r);
        EXPECT_EQ(r.config->log_level, level) << name;
    }
}

TEST(ParseCommandLine, HelpReturnsTextWithoutConfig)
{
    for (const char* flag : {"--help", "-h"}) {
        ParseResult r = parse_command_line({flag});
        EXPECT_FALSE(r.config) << flag;
        EXPECT_FALSE(r.error) << flag;
        EXPECT_NE(r.message.find("usage: xo-gateway"), std::string::npos) << r.message;
        for (const char* option : {"--listen", "--upstream", "--threads", "--max-header-bytes", "--header-timeout",
                                   "--idle-timeout", "--io-timeout", "--connect-timeout", "--continue-timeout-ms",
                                   "--shutdown-timeout", "--relay-buffer-bytes", "--access-log",
                                   "--client-addr-header", "--log-level", "--config", "--ssl-endpoint",
                                   "--ssl-certificate", "--ssl-private-key"})
            EXPECT_NE(r.message.find(option), std::string::npos) << option << " missing from help";
    }
    // --help wins even over values that would be rejected.
    ParseResult r = parse_command_line({"--threads", "0", "--help"});
    EXPECT_FALSE(r.config);
    EXPECT_FALSE(r.error) << dump(r);
}

TEST(ParseCommandLine, ConfigFileKeys)
{
    TempConfig file("# xo-gateway test config\n"
                    "listen = [::1]:9080\nupstream = 198.18.0.2:7480\nthreads = 3\nmax-header-bytes = 8192\n"
                    "header-timeout = 7\nidle-timeout = 11\nio-timeout = 13\nconnect-timeout = 2\n"
                    "continue-timeout-ms = 250\nshutdown-timeout = 4\nrelay-buffer-bytes = 65536\n"
                    "access-log = /var/log/xo/a.log\nclient-addr-header = X-Real-IP\nlog-level = debug\n"
                    "max-connections = 500\n");
    ParseResult r = parse_command_line({"--config", file.path()});
    ASSERT_TRUE(r.config) << dump(r);
    expect_every_flag(*r.config);
}

TEST(ParseCommandLine, FlagsOverrideConfigFile)
{
    TempConfig file("listen = 127.0.0.1:1111\nupstream = 127.0.0.1:2222\nthreads = 5\nheader-timeout = 9\n");
    // Flags before and after --config both win over the file.
    ParseResult r = parse_command_line({"--threads", "2", "--config", file.path(), "--listen", "127.0.0.1:3333"});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(xo::to_string(r.config->listen), "127.0.0.1:3333");
    EXPECT_EQ(r.config->threads, 2u);
    // Keys only the file sets still apply.
    EXPECT_EQ(xo::to_string(r.config->upstream), "127.0.0.1:2222");
    EXPECT_EQ(r.config->header_timeout, std::chrono::seconds(9));
}

TEST(ParseCommandLine, MissingConfigFileIsAnError)
{
    ParseResult r = parse_command_line({"--config", "/nonexistent-xo/gateway.conf"});
    EXPECT_FALSE(r.config);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("/nonexistent-xo/gateway.conf"), std::string::npos) << r.message;
}

TEST(ParseCommandLine, UnknownKeyInConfigFileIsAnError)
{
    TempConfig file("listen = 127.0.0.1:1111\nbogus-key = 1\n");
    ParseResult r = parse_command_line({"--config", file.path()});
    EXPECT_FALSE(r.config);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("bogus-key"), std::string::npos) << r.message;
}

TEST(ParseCommandLine, BadValueInConfigFileNamesTheKey)
{
    TempConfig file("threads = many\n");
    ParseResult r = parse_command_line({"--config", file.path()});
    EXPECT_FALSE(r.config);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("threads"), std::string::npos) << r.message;

    TempConfig zero("io-timeout = 0\n");
    r = parse_command_line({"--config", zero.path()});
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("io-timeout"), std::string::npos) << r.message;
}

TEST(ParseCommandLine, UnknownFlagIsAnError)
{
    for (std::vector<std::string> args : {std::vector<std::string>{"--bogus"}, {"--listen", "1.2.3.4:80", "--lisen",
                                                                               "1.2.3.4:81"}}) {
        ParseResult r = parse_command_line(args);
        EXPECT_FALSE(r.config);
        EXPECT_TRUE(r.error);
        EXPECT_FALSE(r.message.empty());
    }
}

TEST(ParseCommandLine, MissingValueIsAnError)
{
    ParseResult r = parse_command_line({"--threads"});
    EXPECT_FALSE(r.config);
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find("threads"), std::string::npos) << r.message;
}

struct BadValue {
    std::vector<std::string> args;
    std::string names; ///< what the message must mention
};

class ParseCommandLineBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ParseCommandLineBadValue, RejectedNamingTheFlag)
{
    ParseResult r = parse_command_line(GetParam().args);
    EXPECT_FALSE(r.config) << GetParam().args[0] << " " << GetParam().args[1];
    EXPECT_TRUE(r.error);
    EXPECT_NE(r.message.find(GetParam().names), std::string::npos) << r.message;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ParseCommandLineBadValue,
    ::testing::Values(BadValue{{"--listen", "localhost:80"}, "--listen"},
                      BadValue{{"--listen", "1.2.3.4"}, "--listen"},
                      BadValue{{"--listen", "::1:80"}, "--listen"},
                      BadValue{{"--upstream", "1.2.3.4:70000"}, "--upstream"},
                      BadValue{{"--upstream", "[::1]"}, "--upstream"},
                      BadValue{{"--threads", "0"}, "--threads"},
                      BadValue{{"--threads", "257"}, "--threads"},
                      BadValue{{"--threads", "-1"}, "--threads"},
                      BadValue{{"--threads", "two"}, "threads"},
                      BadValue{{"--max-header-bytes", "1023"}, "--max-header-bytes"},
                      BadValue{{"--max-header-bytes", "64k"}, "max-header-bytes"},
                      BadValue{{"--relay-buffer-bytes", "4095"}, "--relay-buffer-bytes"},
                      BadValue{{"--header-timeout", "0"}, "--header-timeout"},
                      BadValue{{"--header-timeout", "-3"}, "--header-timeout"},
                      BadValue{{"--idle-timeout", "0"}, "--idle-timeout"},
                      BadValue{{"--io-timeout", "-1"}, "--io-timeout"},
                      BadValue{{"--io-timeout", "1.5"}, "io-timeout"},
                      BadValue{{"--connect-timeout", "0"}, "--connect-timeout"},
                      BadValue{{"--continue-timeout-ms", "0"}, "--continue-timeout-ms"},
                      BadValue{{"--shutdown-timeout", "0"}, "--shutdown-timeout"},
                      BadValue{{"--client-addr-header", ""}, "--client-addr-header"},
                      BadValue{{"--client-addr-header", "X Client"}, "--client-addr-header"},
                      BadValue{{"--client-addr-header", "X-Client:"}, "--client-addr-header"},
                      BadValue{{"--log-level", "loud"}, "--log-level"}),
    [](const ::testing::TestParamInfo<BadValue>& info) {
        // e.g. 5_threads_0: readable ctest names, unique by index.
        std::string name = std::to_string(info.index);
        for (const auto& arg : info.param.args) {
            name += '_';
            for (char c : arg)
                name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        }
        return name;
    });

// "-1" parses as SIZE_MAX for a size_t; a huge value would become a
// per-connection allocation or wrap Beast's 32-bit header limit.
TEST(ParseCommandLine, SizeFlagsHaveUpperBounds)
{
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--max-header-bytes", "-1"}, {"--max-header-bytes", "4294967296"},
          {"--relay-buffer-bytes", "-1"}, {"--relay-buffer-bytes", "1099511627776"},
          {"--offload-small-objects", "-1"}, {"--offload-small-objects", "1048577"}}) {
        ParseResult r = parse_command_line(args);
        EXPECT_TRUE(r.error) << args[0] << " " << args[1] << " accepted";
        EXPECT_NE(r.message.find(args[0]), std::string::npos) << r.message;
    }
}

TEST(ParseCommandLine, FlowTableSweepFlags)
{
    ParseResult r = parse_command_line({});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(r.config->offload.orphan_idle, std::chrono::seconds(60));
    EXPECT_EQ(r.config->offload.sweep_interval, std::chrono::seconds(5));
    r = parse_command_line({"--flow-orphan-idle", "8", "--flow-sweep-interval", "1"});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(r.config->offload.orphan_idle, std::chrono::seconds(8));
    EXPECT_EQ(r.config->offload.sweep_interval, std::chrono::seconds(1));
    for (const char* flag : {"--flow-orphan-idle", "--flow-sweep-interval"}) {
        r = parse_command_line({flag, "0"});
        EXPECT_TRUE(r.error) << flag << " 0 accepted";
        EXPECT_NE(r.message.find(flag), std::string::npos) << r.message;
    }
}

TEST(ParseCommandLine, TcFlowerFlags)
{
    ParseResult r = parse_command_line({});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(r.config->offload.tc_flower, xo::steering::FlowerMode::automatic);
    EXPECT_EQ(r.config->offload.tc_flower_min_bytes, 8u * 1024 * 1024);
    EXPECT_EQ(r.config->offload.tc_flower_queue, 256u);
    r = parse_command_line({"--tc-flower", "software", "--tc-flower-min-bytes", "1048576", "--tc-flower-queue", "8"});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_EQ(r.config->offload.tc_flower, xo::steering::FlowerMode::software);
    EXPECT_EQ(r.config->offload.tc_flower_min_bytes, 1048576u);
    EXPECT_EQ(r.config->offload.tc_flower_queue, 8u);
    for (std::vector<std::string> args : {std::vector<std::string>{"--tc-flower", "on"}, {"--tc-flower-queue", "0"}}) {
        r = parse_command_line(args);
        EXPECT_TRUE(r.error) << args[0] << " " << args[1] << " accepted";
        EXPECT_NE(r.message.find(args[0]), std::string::npos) << r.message;
    }
    r = parse_command_line({"--help"});
    EXPECT_NE(r.message.find("--tc-flower arg (=auto)"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("--tc-flower-min-bytes arg (=8388608)"), std::string::npos) << r.message;
}

TEST(ParseCommandLine, OffloadNeedsChannelKeysAndATicketKey)
{
    ParseResult r = parse_command_line({});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_FALSE(r.config->offload.enabled());
    r = parse_command_line({"--channel-keys", "/etc/xo/responders"});
    ASSERT_TRUE(r.error) << "offload without a ticket key accepted";
    EXPECT_NE(r.message.find("--ticket-key"), std::string::npos) << r.message;
    r = parse_command_line({"--channel-keys", "/etc/xo/responders", "--ticket-key", "/etc/xo/ticket.key"});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_TRUE(r.config->offload.enabled());
    EXPECT_EQ(r.config->offload.channel_keys, "/etc/xo/responders");
    EXPECT_EQ(r.config->offload.ticket_key, "/etc/xo/ticket.key");
}

TEST(ParseCommandLine, HttpsIsOffByDefault)
{
    ParseResult r = parse_command_line({});
    ASSERT_TRUE(r.config) << dump(r);
    EXPECT_FALSE(r.config->ssl_endpoint);
    EXPECT_TRUE(r.config->ssl_certificate.empty());
    EXPECT_TRUE(r.config->ssl_private_key.empty());
}

TEST(ParseCommandLine, HttpsEndpointWithItsFiles)
{
    TempConfig cert("-----BEGIN CERTIFICATE-----\n"), key("-----BEGIN PRIVATE KEY-----\n");
    ParseResult r = parse_command_line({"--listen", "198.18.0.2:80", "--ssl-endpoint", "198.18.0.2:443",
                                        "--ssl-certificate", cert.path(), "--ssl-private-key", key.path()});
    ASSERT_TRUE(r.config) << dump(r);
    ASSERT_TRUE(r.config->ssl_endpoint);
    EXPECT_EQ(xo::to_string(*r.config->ssl_endpoint), "198.18.0.2:443");
    EXPECT_EQ(r.config->ssl_certificate, cert.path());
    EXPECT_EQ(r.config->ssl_private_key, key.path());

    TempConfig file("ssl-endpoint = [::1]:8443\nssl-certificate = " + cert.path() + "\nssl-private-key = " +
                    key.path() + "\n");
    r = parse_command_line({"--config", file.path()});
    ASSERT_TRUE(r.config) << dump(r);
    ASSERT_TRUE(r.config->ssl_endpoint);
    EXPECT_EQ(xo::to_string(*r.config->ssl_endpoint), "[::1]:8443");
    EXPECT_EQ(r.config->ssl_private_key, key.path());
}

TEST(ParseCommandLine, HttpsNeedsAllThreeFlags)
{
    TempConfig cert("c"), key("k");
    struct Case {
        std::vector<std::string> args;
        const char* named; // what the error message must name
    };
    const std::vector<Case> cases = {
        {{"--ssl-endpoint", "127.0.0.1:443"}, "--ssl-certificate"},
        {{"--ssl-endpoint", "127.0.0.1:443", "--ssl-certificate", cert.path()}, "--ssl-private-key"},
        {{"--ssl-endpoint", "127.0.0.1:443", "--ssl-private-key", key.path()}, "--ssl-certificate"},
        {{"--ssl-certificate", cert.path(), "--ssl-private-key", key.path()}, "--ssl-endpoint"},
        {{"--ssl-private-key", key.path()}, "--ssl-endpoint"},
    };
    for (const Case& c : cases) {
        ParseResult r = parse_command_line(c.args);
        EXPECT_TRUE(r.error) << c.args.size() << " args accepted: " << r.message;
        EXPECT_NE(r.message.find(c.named), std::string::npos) << r.message;
    }
}

TEST(ParseCommandLine, HttpsFilesMustBeReadableFiles)
{
    TempConfig cert("c"), key("k");
    const std::string missing = cert.path() + ".missing";
    auto parse = [&](const std::string& c, const std::string& k) {
        return parse_command_line(
            {"--ssl-endpoint", "127.0.0.1:443", "--ssl-certificate", c, "--ssl-private-key", k});
    };
    ParseResult r = parse(missing, key.path());
    ASSERT_TRUE(r.error) << "missing certificate accepted";
    EXPECT_NE(r.message.find("--ssl-certificate " + missing), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("No such file"), std::string::npos) << r.message;
    r = parse(cert.path(), missing);
    ASSERT_TRUE(r.error) << "missing key accepted";
    EXPECT_NE(r.message.find("--ssl-private-key " + missing), std::string::npos) << r.message;
    r = parse(cert.path(), "/tmp");
    ASSERT_TRUE(r.error) << "a directory accepted as the key";
    EXPECT_NE(r.message.find("not a regular file"), std::string::npos) << r.message;
}

TEST(ParseCommandLine, HttpsEndpointIsCheckedAndDiffersFromListen)
{
    TempConfig cert("c"), key("k");
    ParseResult r = parse_command_line({"--ssl-endpoint", "198.18.0.2", "--ssl-certificate", cert.path(),
                                        "--ssl-private-key", key.path()});
    ASSERT_TRUE(r.error) << "endpoint without a port accepted";
    EXPECT_NE(r.message.find("--ssl-endpoint"), std::string::npos) << r.message;
    r = parse_command_line({"--listen", "198.18.0.2:80", "--ssl-endpoint", "198.18.0.2:80", "--ssl-certificate",
                            cert.path(), "--ssl-private-key", key.path()});
    ASSERT_TRUE(r.error) << "HTTPS on the HTTP endpoint accepted";
    EXPECT_NE(r.message.find("differ from --listen"), std::string::npos) << r.message;
}

} // namespace
