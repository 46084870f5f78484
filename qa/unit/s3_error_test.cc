// make_error_response() from rgw_xo/s3_error.h.
#include <gtest/gtest.h>

#include <map>

#include "rgw_xo/s3_error.h"
#include "qa/unit/test_support.h"

namespace {

namespace http = boost::beast::http;
using xo::gw::make_error_response;
using xo::gw::S3Error;
namespace errors = xo::gw::errors;

std::map<std::string, std::string> parse(const std::string& body)
{
    std::map<std::string, std::string> leaves;
    std::string why;
    EXPECT_TRUE(xo::test::check_xml(body, leaves, why)) << why << "\n" << body;
    return leaves;
}

TEST(MakeErrorResponse, StatusAndHeaders)
{
    auto res = make_error_response(errors::service_unavailable, "/bucket/key", "req-1");
    EXPECT_EQ(res.result(), http::status::service_unavailable);
    EXPECT_EQ(res.version(), 11);
    EXPECT_EQ(res[http::field::content_type], "application/xml");
    EXPECT_EQ(res["x-amz-request-id"], "req-1");
    EXPECT_FALSE(res.keep_alive());
    EXPECT_EQ(res[http::field::connection], "close");
    EXPECT_FALSE(res[http::field::date].empty());
    EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
}

TEST(MakeErrorResponse, EachPredefinedError)
{
    struct Case {
        const S3Error& err;
        unsigned status;
        const char* code;
    };
    for (const Case& c : {Case{errors::header_too_large, 400, "RequestHeaderSectionTooLarge"},
                          Case{errors::bad_request, 400, "BadRequest"},
                          Case{errors::service_unavailable, 503, "ServiceUnavailable"},
                          Case{errors::bad_gateway, 502, "BadGateway"}}) {
        auto res = make_error_response(c.err, "/b", "id");
        EXPECT_EQ(res.result_int(), c.status) << c.code;
        auto leaves = parse(res.body());
        EXPECT_EQ(leaves["Code"], c.code);
        EXPECT_EQ(leaves["Message"], std::string(c.err.message));
        EXPECT_EQ(leaves["Resource"], "/b");
        EXPECT_EQ(leaves["RequestId"], "id");
    }
}

TEST(MakeErrorResponse, DocumentShape)
{
    auto res = make_error_response(errors::bad_request, "/x", "abc");
    const std::string& body = res.body();
    EXPECT_TRUE(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")) << body;
    EXPECT_NE(body.find("<Error><Code>BadRequest</Code>"), std::string::npos) << body;
    EXPECT_NE(body.find("<RequestId>abc</RequestId></Error>"), std::string::npos) << body;
}

TEST(MakeErrorResponse, EmptyResourceOmitted)
{
    auto res = make_error_response(errors::header_too_large, "", "id-2");
    EXPECT_EQ(res.body().find("<Resource>"), std::string::npos);
    auto leaves = parse(res.body());
    EXPECT_EQ(leaves["Code"], "RequestHeaderSectionTooLarge");
    EXPECT_EQ(leaves["RequestId"], "id-2");
}

TEST(MakeErrorResponse, ResourceAndRequestIdEscaped)
{
    const std::string resource = "/b/<k>&\"'?x=1&y=</Resource><Code>Evil</Code>\x01";
    auto res = make_error_response(errors::service_unavailable, resource, "id&<>");
    auto leaves = parse(res.body());
    EXPECT_EQ(leaves["Code"], "ServiceUnavailable");
    EXPECT_EQ(leaves["Resource"], "/b/<k>&\"'?x=1&y=</Resource><Code>Evil</Code>\xef\xbf\xbd");
    EXPECT_EQ(leaves["RequestId"], "id&<>");
    EXPECT_EQ(res["x-amz-request-id"], "id&<>");
}

TEST(MakeErrorResponse, ResourceWithUtf8StaysWellFormed)
{
    auto res = make_error_response(errors::service_unavailable, "/b/caf\xc3\xa9", "id");
    auto leaves = parse(res.body());
    EXPECT_EQ(leaves["Resource"], "/b/caf\xc3\xa9");
}

// Code and Message are escaped too, not only the caller-supplied parts.
TEST(MakeErrorResponse, CodeAndMessageEscaped)
{
    const S3Error odd{http::status::bad_request, "Odd<Code>", "Bodies & headers must be <= 5 GiB"};
    auto res = make_error_response(odd, "/b", "id");
    auto leaves = parse(res.body());
    EXPECT_EQ(leaves["Code"], "Odd<Code>");
    EXPECT_EQ(leaves["Message"], "Bodies & headers must be <= 5 GiB");
}

// A target with a 0xff byte ends up inside <Resource> of the 503 sent
// when radosgw is down.
TEST(MakeErrorResponse, NonUtf8ResourceStaysWellFormed)
{
    auto res = make_error_response(errors::service_unavailable, "/b/\xff\xfe", "id");
    std::map<std::string, std::string> leaves;
    std::string why;
    EXPECT_TRUE(xo::test::check_xml(res.body(), leaves, why)) << why;
}

} // namespace
