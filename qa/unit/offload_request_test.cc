// The gateway's offload decisions that need no network: which requests may
// leave the relay (object_get.h), the changes to the head radosgw is sent
// (request_head.h), the byte arithmetic of a split GET (byte_range.h), and
// the serve plan a responder receives (serve_plan.h; its ticket:
// responder_ticket_test.cc).
#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>

#include <limits>

#include "rgw_xo/byte_range.h"
#include "rgw_xo/object_get.h"
#include "rgw_xo/request_head.h"
#include "common/handoff/serve_plan.h"

namespace {

namespace http = boost::beast::http;
using namespace xo;
using namespace xo::gw;

http::request_header<> get(std::string target)
{
    http::request_header<> req;
    req.method(http::verb::get);
    req.target(target);
    return req;
}

TEST(ClassifyGet, PathStyleObjectWithEscapes)
{
    auto got = classify_get(get("/bucket/dir/a%20b%2Bc"));
    ASSERT_TRUE(std::holds_alternative<ObjectGet>(got));
    auto& object = std::get<ObjectGet>(got);
    EXPECT_EQ(object.name.bucket, "bucket");
    EXPECT_EQ(object.name.key, "dir/a b+c");
    EXPECT_EQ(object.name.version_id, "");
    EXPECT_FALSE(object.client_range);
}

TEST(ClassifyGet, VersionIdAndPresignedParametersAreAllowed)
{
    auto got = classify_get(get("/b/k?versionId=abc%2Ddef&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"));
    ASSERT_TRUE(std::holds_alternative<ObjectGet>(got));
    EXPECT_EQ(std::get<ObjectGet>(got).name.version_id, "abc-def");
}

TEST(ClassifyGet, SubresourcesAndOtherShapesStayRelayed)
{
    EXPECT_EQ(std::get<std::string_view>(classify_get(get("/b/k?acl"))), "subresource");
    EXPECT_EQ(std::get<std::string_view>(classify_get(get("/b/k?partNumber=1"))), "subresource");
    EXPECT_EQ(std::get<std::string_view>(classify_get(get("/b/"))), "not_object");
    EXPECT_EQ(std::get<std::string_view>(classify_get(get("/b"))), "not_object");
    EXPECT_EQ(std::get<std::string_view>(classify_get(get("/b/%zz"))), "bad_escape");
    auto ranged = get("/b/k");
    ranged.set(http::field::if_range, "\"etag\"");
    EXPECT_EQ(std::get<std::string_view>(classify_get(ranged)), "if_range");
    auto head = get("/b/k");
    head.method(http::verb::head);
    EXPECT_EQ(std::get<std::string_view>(classify_get(head)), "not_get");
}

TEST(ClassifyGet, ClientRangeIsNoted)
{
    auto req = get("/b/k");
    req.set(http::field::range, "bytes=5-");
    EXPECT_TRUE(std::get<ObjectGet>(classify_get(req)).client_range);
}

TEST(ByteRange, ParsesSatisfiedContentRangesOnly)
{
    auto r = parse_content_range("bytes 0-1048575/67108864");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 0u);
    EXPECT_EQ(r->last, 1048575u);
    EXPECT_EQ(r->total, 67108864u);
    EXPECT_EQ(r->length(), 1048576u);
    EXPECT_FALSE(parse_content_range("bytes */100"));
    EXPECT_FALSE(parse_content_range("bytes 5-4/100"));
    EXPECT_FALSE(parse_content_range("bytes 0-100/100"));
    EXPECT_FALSE(parse_content_range("bytes 0-1/2 "));
    EXPECT_FALSE(parse_content_range("items 0-1/2"));
}

TEST(ByteRange, RangeHeaders)
{
    EXPECT_EQ(range_of(0, 1), "bytes=0-0");
    EXPECT_EQ(range_of(0, 1048576), "bytes=0-1048575");
    EXPECT_EQ(range_of(100, 10), "bytes=100-109");
    EXPECT_EQ(range_value(10, 19), "bytes=10-19");
}

// An unsigned `bytes=N-` is narrowed to range_of(N, T): near 2^64 the last
// offset saturates instead of wrapping round to a range that ends before N.
TEST(ByteRange, RangeNearTheTopOfTheOffsetsSaturates)
{
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    constexpr std::uint64_t threshold = 1048576;
    EXPECT_EQ(range_of(max, threshold), "bytes=18446744073709551615-18446744073709551615");
    EXPECT_EQ(range_of(max, 1), "bytes=18446744073709551615-18446744073709551615");
    EXPECT_EQ(range_of(max - 10, threshold), "bytes=18446744073709551605-18446744073709551615");
    // N + T is exactly 2^64: the last byte of the range is the last offset, no saturation needed.
    EXPECT_EQ(range_of(max - threshold + 1, threshold), "bytes=18446744073708503040-18446744073709551615");
    // One further down the range fits.
    EXPECT_EQ(range_of(max - threshold, threshold), "bytes=18446744073708503039-18446744073709551614");
    EXPECT_EQ(range_of(1, max), "bytes=1-18446744073709551615");
    EXPECT_EQ(range_of(0, max), "bytes=0-18446744073709551614");
    // What the gateway sends for such a client range still parses as one range from N on.
    auto client = parse_range_request("bytes=18446744073709551610-");
    ASSERT_TRUE(client);
    auto narrowed = parse_range_request(range_of(client->first, threshold));
    ASSERT_TRUE(narrowed);
    EXPECT_EQ(narrowed->first, client->first);
    EXPECT_EQ(narrowed->last, max);
}

TEST(ByteRange, SplitsOnlyWhatExceedsTheRelayLimit)
{
    EXPECT_FALSE(split_body(ContentRange{0, 99, 100}, 100));
    auto whole = split_body(ContentRange{0, 99, 100}, 1);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->relay, 1u);
    EXPECT_EQ(whole->offload_first, 1u);
    EXPECT_EQ(whole->offload_length, 99u);
    EXPECT_EQ(whole->object_size, 100u);
    auto tail = split_body(ContentRange{50, 89, 100}, 10);
    ASSERT_TRUE(tail);
    EXPECT_EQ(tail->offload_first, 60u);
    EXPECT_EQ(tail->offload_length, 30u);
}

handoff::ServePlan sample_plan()
{
    return handoff::ServePlan{"default.rgw.buckets.data", "", "marker_key", "", "0123abcd", 100, 10, 90, {}};
}

TEST(ServePlan, RoundTripsAndChecksTheRange)
{
    auto plan = sample_plan();
    auto decoded = handoff::decode_plan(handoff::encode_plan(plan));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, plan);
    plan.length = 91;
    EXPECT_FALSE(handoff::decode_plan(handoff::encode_plan(plan)));
    plan.length = 0;
    EXPECT_FALSE(handoff::decode_plan(handoff::encode_plan(plan)));
    auto bytes = handoff::encode_plan(sample_plan());
    bytes.push_back(0);
    EXPECT_FALSE(handoff::decode_plan(bytes));
    bytes.resize(5);
    EXPECT_FALSE(handoff::decode_plan(bytes));
}

} // namespace

namespace {

TEST(ByteRange, RangeRequestsTheGatewayMayNarrow)
{
    auto closed = parse_range_request("bytes=5-9");
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->first, 5u);
    EXPECT_EQ(closed->last, 9u);
    auto open = parse_range_request("bytes=7-");
    ASSERT_TRUE(open);
    EXPECT_EQ(open->first, 7u);
    EXPECT_FALSE(open->last);
    EXPECT_FALSE(parse_range_request("bytes=-5"));
    EXPECT_FALSE(parse_range_request("bytes=0-1,5-6"));
    EXPECT_FALSE(parse_range_request("bytes=9-5"));
    EXPECT_FALSE(parse_range_request("items=0-1"));
}

TEST(ClassifyGet, KnowsWhetherTheRangeIsSigned)
{
    auto req = get("/b/k");
    req.set(http::field::range, "bytes=0-");
    req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=a/b, "
                                        "SignedHeaders=host;range;x-amz-date, Signature=00");
    EXPECT_TRUE(std::get<ObjectGet>(classify_get(req)).range_signed);
    req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=a/b, "
                                        "SignedHeaders=host;x-amz-date, Signature=00");
    EXPECT_FALSE(std::get<ObjectGet>(classify_get(req)).range_signed);
    req.set(http::field::authorization, "AWS key:signature");
    EXPECT_FALSE(std::get<ObjectGet>(classify_get(req)).range_signed);
    req.erase(http::field::authorization);
    EXPECT_FALSE(std::get<ObjectGet>(classify_get(req)).range_signed);
    req.target("/b/k?X-Amz-SignedHeaders=host%3Brange&X-Amz-Signature=00");
    EXPECT_TRUE(std::get<ObjectGet>(classify_get(req)).range_signed);
    req.target("/b/k?X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    EXPECT_FALSE(std::get<ObjectGet>(classify_get(req)).range_signed);
}

TEST(PrepareRequest, ReplacesTheClientAddressHeader)
{
    auto req = get("/b/k");
    req.method(http::verb::put);
    req.insert("X-XO-Client-Addr", "10.0.0.1");
    req.insert("X-XO-Client-Addr", "10.0.0.2");
    auto prepared = prepare_request(req, "X-XO-Client-Addr", "198.18.0.100", 1024);
    EXPECT_EQ(req.count("X-XO-Client-Addr"), 1u);
    EXPECT_EQ(req["X-XO-Client-Addr"], "198.18.0.100");
    EXPECT_FALSE(prepared.object);
    EXPECT_EQ(prepared.reason, "");
}

TEST(PrepareRequest, NarrowsAnOffloadableGetToTheThreshold)
{
    auto plain = get("/b/k");
    auto prepared = prepare_request(plain, "X-A", "1.2.3.4", 1024);
    ASSERT_TRUE(prepared.object && prepared.narrowed);
    EXPECT_EQ(prepared.narrowed->first, 0u);
    EXPECT_FALSE(prepared.narrowed->last);
    EXPECT_EQ(plain[http::field::range], "bytes=0-1023");

    auto ranged = get("/b/k");
    ranged.set(http::field::range, "bytes=100-");
    prepared = prepare_request(ranged, "X-A", "1.2.3.4", 1024);
    ASSERT_TRUE(prepared.narrowed);
    EXPECT_EQ(prepared.narrowed->first, 100u);
    EXPECT_EQ(ranged[http::field::range], "bytes=100-1123");

    auto short_range = get("/b/k"); // within the threshold: radosgw answers it whole
    short_range.set(http::field::range, "bytes=0-99");
    prepared = prepare_request(short_range, "X-A", "1.2.3.4", 1024);
    EXPECT_TRUE(prepared.object);
    EXPECT_FALSE(prepared.narrowed);
    EXPECT_EQ(short_range[http::field::range], "bytes=0-99");
}

TEST(PrepareRequest, LeavesSignedRangesAndOtherRequestsAlone)
{
    auto req = get("/b/k");
    req.set(http::field::range, "bytes=0-");
    req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=a/b, "
                                        "SignedHeaders=host;range;x-amz-date, Signature=00");
    auto prepared = prepare_request(req, "X-A", "1.2.3.4", 1024);
    EXPECT_TRUE(prepared.object);
    EXPECT_FALSE(prepared.narrowed);
    EXPECT_EQ(req[http::field::range], "bytes=0-");

    auto acl = get("/b/k?acl");
    EXPECT_EQ(prepare_request(acl, "X-A", "1.2.3.4", 1024).reason, "subresource");
    EXPECT_EQ(acl.find(http::field::range), acl.end());
    auto off = get("/b/k");
    EXPECT_EQ(prepare_request(off, "X-A", "1.2.3.4", std::nullopt).reason, "disabled");
    EXPECT_EQ(off.find(http::field::range), off.end());
}

} // namespace
