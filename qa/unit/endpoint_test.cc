// parse_endpoint() and to_string() from common/endpoint.h.
#include <gtest/gtest.h>

#include "common/endpoint.h"

namespace {

using boost::asio::ip::tcp;
using xo::parse_endpoint;

TEST(ParseEndpoint, V4)
{
    std::string error;
    auto ep = parse_endpoint("198.18.0.2:80", error);
    ASSERT_TRUE(ep) << error;
    EXPECT_TRUE(ep->address().is_v4());
    EXPECT_EQ(ep->address().to_string(), "198.18.0.2");
    EXPECT_EQ(ep->port(), 80);
}

TEST(ParseEndpoint, V4PortRange)
{
    std::string error;
    auto low = parse_endpoint("0.0.0.0:0", error);
    ASSERT_TRUE(low) << error;
    EXPECT_EQ(low->port(), 0);
    auto high = parse_endpoint("127.0.0.1:65535", error);
    ASSERT_TRUE(high) << error;
    EXPECT_EQ(high->port(), 65535);
}

TEST(ParseEndpoint, BracketedV6)
{
    std::string error;
    auto ep = parse_endpoint("[2001:db8::1]:8080", error);
    ASSERT_TRUE(ep) << error;
    EXPECT_TRUE(ep->address().is_v6());
    EXPECT_EQ(ep->address().to_string(), "2001:db8::1");
    EXPECT_EQ(ep->port(), 8080);

    auto any = parse_endpoint("[::]:80", error);
    ASSERT_TRUE(any) << error;
    EXPECT_TRUE(any->address().is_v6());
    EXPECT_TRUE(any->address().is_unspecified());
}

TEST(ParseEndpoint, BadPort)
{
    for (const char* text : {"1.2.3.4:65536", "1.2.3.4:99999999999", "1.2.3.4:http", "1.2.3.4:80x", "1.2.3.4:-1",
                             "1.2.3.4:+80", "1.2.3.4: 80", "[::1]:65536", "[::1]:abc"}) {
        std::string error;
        EXPECT_FALSE(parse_endpoint(text, error)) << text;
        EXPECT_NE(error.find("bad port"), std::string::npos) << text << ": " << error;
    }
}

TEST(ParseEndpoint, MissingPort)
{
    for (const char* text : {"1.2.3.4", "1.2.3.4:", "[::1]", "[::1]:", "[::1]80", ""}) {
        std::string error;
        EXPECT_FALSE(parse_endpoint(text, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
}

TEST(ParseEndpoint, UnbracketedV6Rejected)
{
    for (const char* text : {"::1:80", "2001:db8::1:443", "fe80::1:8080"}) {
        std::string error;
        EXPECT_FALSE(parse_endpoint(text, error)) << text;
        EXPECT_NE(error.find("[addr]:port"), std::string::npos) << text << ": " << error;
    }
}

TEST(ParseEndpoint, NamesAndGarbageRejected)
{
    // Literal addresses only: startup must never wait on a resolver.
    for (const char* text : {"localhost:80", "example.com:443", "1.2.3:80", "256.1.1.1:80", "[]:80", "[zz::1]:80",
                             "[::1:80", ":80"}) {
        std::string error;
        EXPECT_FALSE(parse_endpoint(text, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
}

TEST(EndpointToString, V4AndV6)
{
    namespace ip = boost::asio::ip;
    EXPECT_EQ(xo::to_string(tcp::endpoint(ip::make_address("10.1.2.3"), 7480)), "10.1.2.3:7480");
    EXPECT_EQ(xo::to_string(tcp::endpoint(ip::make_address("2001:db8::1"), 80)), "[2001:db8::1]:80");
    EXPECT_EQ(xo::to_string(tcp::endpoint(ip::make_address("::"), 0)), "[::]:0");
}

TEST(EndpointToString, RoundTripsThroughParse)
{
    for (const char* text : {"127.0.0.1:8000", "0.0.0.0:80", "[::1]:443", "[2001:db8::42]:65535"}) {
        std::string error;
        auto ep = parse_endpoint(text, error);
        ASSERT_TRUE(ep) << text << ": " << error;
        EXPECT_EQ(xo::to_string(*ep), text);
    }
}

} // namespace
