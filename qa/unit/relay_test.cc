// Relay behaviour of an in-process xo::gw::Worker between a raw-socket client
// and a fake radosgw, all on 127.0.0.1. Every wait is bounded (see
// test_support.h); the real radosgw is the integration suite's business.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "qa/unit/test_support.h"

namespace {

using namespace xo::test;
using namespace std::string_literals;

std::string request(std::string_view method, std::string_view target, std::string_view extra = "")
{
    std::string out(method);
    out += ' ';
    out += target;
    out += " HTTP/1.1\r\nHost: gw.test\r\n";
    out += extra;
    out += "\r\n";
    return out;
}

// The usual fake radosgw: answers every request 200 with its target as body.
FakeUpstream::Responder echo_target()
{
    return [](const Message& req) { return response_bytes(200, "OK", req.target); };
}

long long now_ticks() { return Clock::now().time_since_epoch().count(); }

// ---------------------------------------------------------------- relaying

TEST(Relay, GetRelayedUnchangedBothWays)
{
    const std::string body = random_bytes(100 * 1024, 1);
    FakeUpstream up(FakeUpstream::serving([&](const Message&) {
        return response_bytes(200, "OK", body,
                              "ETag: \"0123abcd\"\r\nx-amz-meta-Color:  deep blue  \r\n"
                              "x-amz-request-id: tx000000001\r\nContent-Type: application/octet-stream\r\n");
    }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();

    Conn c = gw.connect();
    ASSERT_TRUE(c.valid());
    const std::string target = "/bucket/dir%2Fkey.bin?versionId=3&x-id=GetObject";
    ASSERT_TRUE(c.send_all("GET " + target +
                           " HTTP/1.1\r\n"
                           "Host: s3.Example.test:8080\r\n"
                           "X-Custom-Sig: v=\"1\"; a=b,  c\t d\r\n"
                           "x-xo-client-addr: 6.6.6.6\r\n"
                           "X-XO-Client-Addr: 7.7.7.7\r\n"
                           "Authorization: AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, "
                           "SignedHeaders=host;x-custom-sig, Signature=0f0f\r\n"
                           "x-amz-date: 20260101T000000Z\r\n"
                           "\r\n"));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.start_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(res.body, body);
    EXPECT_EQ(res.field("ETag"), "\"0123abcd\"");
    EXPECT_EQ(res.field("x-amz-meta-Color"), "deep blue");
    EXPECT_EQ(res.field("x-amz-request-id"), "tx000000001");
    EXPECT_EQ(res.field("Content-Type"), "application/octet-stream");
    EXPECT_EQ(res.field("Content-Length"), std::to_string(body.size()));
    EXPECT_NE(res.head.find("\r\nx-amz-meta-Color: deep blue\r\n"), std::string::npos) << res.head;

    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    const Message req = up.requests().at(0);
    EXPECT_EQ(req.start_line, "GET " + target + " HTTP/1.1");
    // SigV4 needs these byte for byte, name case included.
    EXPECT_NE(req.head.find("\r\nHost: s3.Example.test:8080\r\n"), std::string::npos) << req.head;
    EXPECT_NE(req.head.find("\r\nX-Custom-Sig: v=\"1\"; a=b,  c\t d\r\n"), std::string::npos) << req.head;
    EXPECT_NE(req.head.find("\r\nx-amz-date: 20260101T000000Z\r\n"), std::string::npos) << req.head;
    EXPECT_EQ(req.field("Authorization"), "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, "
                                          "SignedHeaders=host;x-custom-sig, Signature=0f0f");
    // The spoofed client address is replaced, not appended to.
    EXPECT_EQ(req.count("X-XO-Client-Addr"), 1u) << req.head;
    EXPECT_EQ(req.field("X-XO-Client-Addr"), "127.0.0.1");
    EXPECT_EQ(req.head.find("6.6.6.6"), std::string::npos);
    EXPECT_EQ(req.head.find("7.7.7.7"), std::string::npos);
}

TEST(Relay, ClientAddrHeaderNameIsConfigurable)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.client_addr_header = "X-Real-IP"; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/a", "x-real-ip: 10.9.9.9\r\n")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    const Message req = up.requests().at(0);
    EXPECT_EQ(req.count("X-Real-IP"), 1u) << req.head;
    EXPECT_EQ(req.field("X-Real-IP"), "127.0.0.1");
    EXPECT_EQ(req.count("X-XO-Client-Addr"), 0u);
}

TEST(Relay, ErrorStatusRelayedWithReason)
{
    const std::string xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>";
    FakeUpstream up(FakeUpstream::serving(
        [&](const Message&) { return response_bytes(404, "Not Found", xml, "Content-Type: application/xml\r\n"); }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/b/missing")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.start_line, "HTTP/1.1 404 Not Found");
    EXPECT_EQ(res.body, xml);
}

TEST(Relay, ContentLengthPutArrivesByteExact)
{
    const std::string body = random_bytes(3 * 1024 * 1024, 2);
    FakeUpstream up(FakeUpstream::serving(
        [](const Message& req) { return response_bytes(200, "OK", "", "ETag: \"" + std::to_string(req.body.size()) + "\"\r\n"); }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/b/big", "Content-Length: " + std::to_string(body.size()) + "\r\n") + body,
                           10000ms));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(10s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.field("ETag"), "\"" + std::to_string(body.size()) + "\"");
    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    const Message req = up.requests().at(0);
    EXPECT_EQ(req.field("Content-Length"), std::to_string(body.size()));
    EXPECT_FALSE(req.chunked);
    EXPECT_EQ(req.body.size(), body.size());
    EXPECT_TRUE(req.body == body) << "PUT body corrupted in transit";
}

TEST(Relay, ChunkedPutArrivesDecodedAndComplete)
{
    const std::string body = random_bytes(1024 * 1024 + 333, 3);
    FakeUpstream up(FakeUpstream::serving([](const Message&) { return response_bytes(200, "OK", ""); }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/b/chunked", "Transfer-Encoding: chunked\r\n") +
                               chunked(body, {1, 4096, 100000, 7, 300000}),
                           10000ms));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(10s)));
    EXPECT_EQ(res.status, 200);
    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    const Message req = up.requests().at(0);
    EXPECT_TRUE(req.chunked);
    EXPECT_EQ(req.body.size(), body.size());
    EXPECT_TRUE(req.body == body) << "chunked PUT body corrupted in transit";

    // The connection is still framed correctly afterwards.
    ASSERT_TRUE(c.send_all(request("GET", "/after")));
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 200);
}

TEST(Relay, ChunkedResponseReachesClientComplete)
{
    const std::string body = random_bytes(700 * 1024 + 5, 4);
    FakeUpstream up(FakeUpstream::serving([&](const Message& req) {
        if (req.target == "/small")
            return response_bytes(200, "OK", "small");
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" +
               chunked(body, {3, 65536, 1000, 200000});
    }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/list")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(10s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.chunked);
    EXPECT_EQ(res.body.size(), body.size());
    EXPECT_TRUE(res.body == body) << "chunked response corrupted in transit";

    ASSERT_TRUE(c.send_all(request("GET", "/small")));
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.body, "small");
}

TEST(Relay, ResponseUntilEofReachesClientAndClosesConnection)
{
    const std::string body = random_bytes(50000, 5);
    FakeUpstream up([&](FakeUpstream& self, Conn& conn) {
        Message req;
        if (!read_request(conn, req, deadline_in(5s)))
            return;
        self.record(req);
        conn.send_all("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body);
        conn.shutdown_write();
    });
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/eof")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.body == body);
}

TEST(Relay, PipelinedRequestsAnsweredInOrder)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/first") + request("GET", "/second")));
    Message a, b;
    ASSERT_TRUE(read_response(c, a, deadline_in(5s)));
    ASSERT_TRUE(read_response(c, b, deadline_in(5s)));
    EXPECT_EQ(a.body, "/first");
    EXPECT_EQ(b.body, "/second");
}

TEST(Relay, EmptyChunkedPutEndsOnceUpstream)
{
    // An empty chunked body once reached radosgw as two last-chunks, and
    // radosgw read the second as the start of the next request (found by
    // qa/fuzz/http_request_fuzz.cc).
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/empty", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n"));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.body, "/empty");
    ASSERT_TRUE(c.send_all(request("GET", "/next")));
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.body, "/next");
    ASSERT_TRUE(up.wait_requests(2, 3000ms));
    auto reqs = up.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_TRUE(reqs[0].chunked);
    EXPECT_EQ(reqs[0].body, "");
    EXPECT_EQ(reqs[1].target, "/next");
    EXPECT_EQ(up.accepts(), 1) << "the upstream connection was dropped after the empty body";
}

TEST(Relay, PipelinedAfterBodiesKeepsFraming)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    // A Content-Length body, a chunked body and a GET, all in one send().
    ASSERT_TRUE(c.send_all(request("PUT", "/one", "Content-Length: 5\r\n") + "hello" +
                           request("PUT", "/two", "Transfer-Encoding: chunked\r\n") + chunked("world!", {2}) +
                           request("GET", "/three")));
    for (const char* expected : {"/one", "/two", "/three"}) {
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s))) << expected;
        EXPECT_EQ(res.body, expected);
    }
    ASSERT_TRUE(up.wait_requests(3, 3000ms));
    auto reqs = up.requests();
    EXPECT_EQ(reqs[0].body, "hello");
    EXPECT_EQ(reqs[1].body, "world!");
    EXPECT_EQ(reqs[2].body, "");
}

TEST(Relay, KeepAliveReusesOneUpstreamConnection)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    for (int i = 0; i < 5; ++i) {
        const std::string target = "/k" + std::to_string(i);
        ASSERT_TRUE(c.send_all(request("GET", target)));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
        EXPECT_EQ(res.body, target);
        EXPECT_FALSE(res.field("Connection") == "close");
    }
    EXPECT_EQ(up.accepts(), 1);
}

TEST(Relay, UpstreamCloseIsNoticedBeforeReuse)
{
    // radosgw closing an idle kept-alive connection must cost a reconnect,
    // not a failed request.
    FakeUpstream up([](FakeUpstream& self, Conn& conn) {
        Message req;
        if (!read_request(conn, req, deadline_in(5s)))
            return;
        self.record(req);
        conn.send_all(response_bytes(200, "OK", req.target));
        std::this_thread::sleep_for(50ms);
        conn.shutdown_both();
    });
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    for (const char* target : {"/a", "/b"}) {
        ASSERT_TRUE(c.send_all(request("GET", target)));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s))) << target;
        EXPECT_EQ(res.status, 200);
        EXPECT_EQ(res.body, target);
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(up.accepts(), 2);
}

TEST(Relay, ClientConnectionCloseHonoured)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/bye", "Connection: close\r\n")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.body, "/bye");
    EXPECT_EQ(res.field("Connection"), "close");
    EXPECT_TRUE(c.wait_closed(deadline_in(3s)));
}

// ---------------------------------------------------------------- Expect: 100-continue

TEST(Relay, ExpectContinueForwardedOnlyAfterUpstreamSendsIt)
{
    const std::string body = random_bytes(200000, 6);
    std::atomic<long long> continue_sent_at{0};
    FakeUpstream up([&](FakeUpstream& self, Conn& conn) {
        Message req;
        if (!read_head(conn, req, deadline_in(5s)))
            return;
        std::this_thread::sleep_for(300ms); // "checking auth"
        continue_sent_at = now_ticks();
        if (!conn.send_all("HTTP/1.1 100 Continue\r\n\r\n"))
            return;
        if (!read_request_body(conn, req, deadline_in(5s)))
            return;
        self.record(req);
        conn.send_all(response_bytes(200, "OK", "stored"));
    });
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.continue_timeout = 2000ms; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/b/k",
                                   "Content-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n")));
    Message interim;
    ASSERT_TRUE(read_response(c, interim, deadline_in(3s)));
    const long long received_at = now_ticks();
    EXPECT_EQ(interim.start_line, "HTTP/1.1 100 Continue");
    ASSERT_NE(continue_sent_at.load(), 0) << "client got a 100 Continue radosgw never sent";
    EXPECT_GE(received_at, continue_sent_at.load());

    ASSERT_TRUE(c.send_all(body));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "stored");
    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    EXPECT_TRUE(up.requests().at(0).body == body);
}

TEST(Relay, ExpectContinueRejectedEarlyNeverSendsBody)
{
    const std::string denied = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>";
    std::atomic<long> body_bytes_seen{-1};
    FakeUpstream up([&](FakeUpstream& self, Conn& conn) {
        Message req;
        if (!read_head(conn, req, deadline_in(5s)))
            return;
        self.record(req);
        conn.send_all(response_bytes(403, "Forbidden", denied, "Content-Type: application/xml\r\n"));
        // Whatever the gateway still sends on this connection is body.
        std::string rest;
        conn.read_to_eof(rest, deadline_in(3s));
        body_bytes_seen = static_cast<long>(rest.size() + conn.buffer().size());
    });
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/b/k", "Content-Length: 1048576\r\nExpect: 100-continue\r\n")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 403) << "expected the early 403, got " << res.start_line;
    EXPECT_EQ(res.body, denied);
    EXPECT_EQ(res.field("Connection"), "close");
    EXPECT_TRUE(c.wait_closed(deadline_in(3s))) << "connection left open after an unsent body";

    for (int i = 0; i < 300 && body_bytes_seen.load() < 0; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(body_bytes_seen.load(), 0);
}

TEST(Relay, ExpectContinueWithoutUpstreamAnswerSendsBodyAfterTimeout)
{
    // An upstream that never sends 100 Continue: after continue_timeout the
    // gateway lets the client send anyway, as curl would.
    FakeUpstream up(FakeUpstream::serving([](const Message& req) {
        return response_bytes(200, "OK", std::to_string(req.body.size()));
    }));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.continue_timeout = 200ms; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/b/k", "Content-Length: 10\r\nExpect: 100-continue\r\n")));
    Message interim;
    ASSERT_TRUE(read_response(c, interim, deadline_in(3s)));
    EXPECT_EQ(interim.status, 100);
    ASSERT_TRUE(c.send_all("0123456789"));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "10");
}

// ---------------------------------------------------------------- errors the gateway answers

TEST(Relay, UpstreamUnreachableGives503)
{
    Gateway gw(closed_port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/b/k?a=1&b=<2>")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 503);
    EXPECT_NE(res.body.find("<Code>ServiceUnavailable</Code>"), std::string::npos) << res.body;
    EXPECT_EQ(res.field("Content-Type"), "application/xml");
    EXPECT_EQ(res.field("Connection"), "close");
    std::map<std::string, std::string> leaves;
    std::string why;
    ASSERT_TRUE(check_xml(res.body, leaves, why)) << why << "\n" << res.body;
    EXPECT_EQ(leaves["Resource"], "/b/k?a=1&b=<2>");
    ASSERT_TRUE(res.field("x-amz-request-id"));
    EXPECT_EQ(leaves["RequestId"], *res.field("x-amz-request-id"));
    EXPECT_TRUE(c.wait_closed(deadline_in(3s)));
}

TEST(Relay, OversizedHeaderGets400Intact)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.max_header_bytes = 8192; });
    ASSERT_TRUE(gw.ok()) << gw.error();

    // Just under the limit is fine.
    {
        Conn c = gw.connect();
        ASSERT_TRUE(c.send_all(request("GET", "/ok", "X-Pad: " + std::string(6000, 'p') + "\r\n")));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
        EXPECT_EQ(res.status, 200);
    }
    const int accepts_before = up.accepts();

    // Far over it — more than the socket buffers hold, so the gateway answers
    // while the client is still sending.
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/big", "X-Big: " + std::string(300 * 1024, 'a') + "\r\n"), 5000ms))
        << "gateway stopped reading: errno " << c.last_errno();
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s))) << "400 not received intact, errno " << c.last_errno();
    EXPECT_EQ(res.status, 400);
    EXPECT_NE(res.body.find("<Code>RequestHeaderSectionTooLarge</Code>"), std::string::npos) << res.body;
    std::map<std::string, std::string> leaves;
    std::string why;
    EXPECT_TRUE(check_xml(res.body, leaves, why)) << why;
    EXPECT_EQ(res.field("Connection"), "close");
    EXPECT_TRUE(c.wait_closed(deadline_in(4s)));
    EXPECT_EQ(up.accepts(), accepts_before);
    EXPECT_EQ(up.requests().size(), 1u);
}

TEST(Relay, MalformedRequestsGet400BadRequest)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    for (std::string bad : {"GARBAGE\r\n\r\n"s, "GET /\r\nHost: h\r\n\r\n"s, "GET / FOO/1.1\r\nHost: h\r\n\r\n"s,
                            "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n"s, "G(T / HTTP/1.1\r\nHost: h\r\n\r\n"s,
                            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s}) {
        Conn c = gw.connect();
        ASSERT_TRUE(c.valid());
        ASSERT_TRUE(c.send_all(bad));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s))) << "no response to " << testing::PrintToString(bad);
        EXPECT_EQ(res.status, 400) << testing::PrintToString(bad);
        EXPECT_NE(res.body.find("<Code>BadRequest</Code>"), std::string::npos) << res.body;
        EXPECT_EQ(res.field("Connection"), "close");
        EXPECT_TRUE(c.wait_closed(deadline_in(4s))) << testing::PrintToString(bad);
    }
    EXPECT_EQ(up.accepts(), 0);
}

// Beast's parser reads the body with the last Transfer-Encoding field, its
// serializer writes it with the first: the gateway once decoded such a body
// and sent the decoded bytes unframed, so radosgw read the client's "0" chunk
// as the body's end and what followed as a request of the client's choosing
// (found by qa/fuzz/http_request_fuzz.cc). Such a request gets a 400 now,
// and radosgw sees nothing of it.
TEST(Relay, AmbiguousTransferEncodingGets400AndNeverReachesUpstream)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    const std::string smuggled = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nX-XO-Client-Addr: 10.0.0.1\r\n\r\n";
    for (std::string first : {"identity"s, "gzip"s}) {
        Conn c = gw.connect();
        ASSERT_TRUE(c.send_all(request("PUT", "/b/k",
                                       "Transfer-Encoding: " + first + "\r\nTransfer-Encoding: chunked\r\n") +
                               chunked(smuggled, {smuggled.size()})));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s))) << first;
        EXPECT_EQ(res.status, 400) << first;
        EXPECT_NE(res.body.find("<Code>BadRequest</Code>"), std::string::npos) << res.body;
        EXPECT_TRUE(c.wait_closed(deadline_in(4s))) << first;
    }
    EXPECT_EQ(up.requests().size(), 0u);
}

// Beast accepts obs-text (bytes >= 0x80) in a target; the 503 that echoes
// it in <Resource> must still be well-formed XML for SDK parsers.
TEST(Relay, NonUtf8TargetGivesWellFormed503)
{
    Gateway gw(closed_port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/b/k\xff\xfe")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    ASSERT_EQ(res.status, 503);
    std::map<std::string, std::string> leaves;
    std::string why;
    EXPECT_TRUE(check_xml(res.body, leaves, why)) << why << "\n" << testing::PrintToString(res.body);
}

// A session that cannot be set up (here: its relay buffer cannot be
// allocated) must cost that connection only, never the accept loop.
TEST(Relay, ConnectionSetupFailureDoesNotKillAcceptLoop)
{
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "SKIPPED: under ASan an impossible allocation aborts the process instead of throwing "
                    "std::bad_alloc, and that exception is what this test provokes";
#endif
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.relay_buffer_bytes = SIZE_MAX; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.valid());
    c.send_all(request("GET", "/a"));
    Message res;
    read_response(c, res, deadline_in(2s)); // whatever this connection gets
    EXPECT_FALSE(gw.wait_stopped(500ms)) << "the worker exited after one connection";
}

// ---------------------------------------------------------------- responses without bodies

TEST(Relay, HeadResponseWithContentLengthDoesNotHang)
{
    FakeUpstream up(FakeUpstream::serving([](const Message& req) -> std::string {
        if (req.method == "HEAD")
            return "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nETag: \"h\"\r\n\r\n";
        return response_bytes(200, "OK", "get-body");
    }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("HEAD", "/b/k")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(3s), /*head_request=*/true));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.field("Content-Length"), "123456");
    EXPECT_EQ(res.field("ETag"), "\"h\"");
    // Nothing follows the header, and the connection is still usable.
    ASSERT_TRUE(c.send_all(request("GET", "/b/k")));
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "get-body");
    EXPECT_EQ(up.accepts(), 1);
}

TEST(Relay, NotModifiedAndNoContentDoNotHang)
{
    FakeUpstream up(FakeUpstream::serving([](const Message& req) -> std::string {
        if (req.target == "/304")
            return "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n";
        if (req.target == "/204")
            return "HTTP/1.1 204 No Content\r\nx-amz-request-id: d\r\n\r\n";
        return response_bytes(200, "OK", "fresh");
    }));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    Message res;
    ASSERT_TRUE(c.send_all(request("GET", "/304", "If-None-Match: \"e\"\r\n")));
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 304);
    EXPECT_EQ(res.field("ETag"), "\"e\"");
    ASSERT_TRUE(c.send_all(request("DELETE", "/204")));
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 204);
    ASSERT_TRUE(c.send_all(request("GET", "/200")));
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "fresh");
}

// ---------------------------------------------------------------- timeouts and drain

TEST(Relay, HalfHeaderDisconnectedAfterHeaderTimeout)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.header_timeout = std::chrono::seconds(1); });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    const auto start = Clock::now();
    ASSERT_TRUE(c.send_all("GET /slow HTTP/1.1\r\nHost: gw.test\r\n"));
    std::string extra;
    EXPECT_TRUE(c.wait_closed(start + 3s, &extra)) << "still connected after 3 s";
    const auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, 800ms);
    EXPECT_LT(elapsed, 3s);
    EXPECT_EQ(up.accepts(), 0);
}

TEST(Relay, TricklingHeaderDisconnectedAfterHeaderTimeout)
{
    // The header timeout bounds the whole header, not each read.
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.header_timeout = std::chrono::seconds(1); });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    const auto start = Clock::now();
    const std::string header = request("GET", "/slowloris", "X-Pad: " + std::string(100, 'x') + "\r\n");
    bool closed = false;
    for (std::size_t i = 0; i < header.size() - 2 && Clock::now() - start < 3s && !closed; ++i) {
        if (!c.send_all(header.substr(i, 1), 500ms)) {
            closed = true;
            break;
        }
        closed = c.wait_closed(deadline_in(200ms));
    }
    EXPECT_TRUE(closed || c.wait_closed(start + 3s)) << "slowloris survived 3 s";
    EXPECT_LT(Clock::now() - start, 3500ms);
    EXPECT_EQ(up.accepts(), 0);
}

TEST(Relay, IdleTimeoutClosesKeptAliveConnection)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.idle_timeout = std::chrono::seconds(1); });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/a")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    const auto start = Clock::now();
    EXPECT_TRUE(c.wait_closed(start + 3s));
    EXPECT_GE(Clock::now() - start, 800ms);
}

TEST(Relay, DrainClosesIdleConnectionAndStops)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/a")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(3s)));
    ASSERT_EQ(res.status, 200);

    const auto start = Clock::now();
    gw.drain();
    EXPECT_TRUE(c.wait_closed(deadline_in(3s))) << "idle connection survived drain";
    EXPECT_LT(Clock::now() - start, 3s);
    c.close();
    EXPECT_TRUE(gw.wait_stopped(5000ms)) << "worker still running after drain";
    // No longer accepting.
    EXPECT_FALSE(gw.connect().valid());
}

TEST(Relay, DrainLetsInFlightRequestFinish)
{
    FakeUpstream up([](FakeUpstream& self, Conn& conn) {
        Message req;
        if (!read_request(conn, req, deadline_in(5s)))
            return;
        self.record(req);
        std::this_thread::sleep_for(300ms);
        conn.send_all(response_bytes(200, "OK", "slow-body"));
        std::string rest;
        conn.read_to_eof(rest, deadline_in(3s));
    });
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/slow")));
    ASSERT_TRUE(up.wait_requests(1, 3000ms));
    gw.drain();
    EXPECT_FALSE(gw.wait_stopped(100ms)) << "worker stopped with a request in flight";

    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(3s))) << "in-flight request lost to drain";
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "slow-body");
    EXPECT_EQ(res.field("Connection"), "close") << "the response must announce the close:\n" << res.head;
    EXPECT_TRUE(c.wait_closed(deadline_in(3s))) << "connection kept open after drain";
    c.close();
    EXPECT_TRUE(gw.wait_stopped(5000ms));
}

// ---------------------------------------------------------------- access log

struct TempFile {
    TempFile()
    {
        char tmpl[] = "/tmp/xo_unit_gwlog_XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd >= 0)
            ::close(fd);
        path = tmpl;
    }
    ~TempFile() { ::unlink(path.c_str()); }
    std::vector<std::map<std::string, std::string>> json_lines() const
    {
        std::vector<std::map<std::string, std::string>> out;
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) {
            std::map<std::string, std::string> fields;
            std::string why;
            EXPECT_TRUE(parse_json_object(line, fields, why)) << why << "\n" << line;
            out.push_back(std::move(fields));
        }
        return out;
    }
    std::string path;
};

TEST(Relay, AccessLogOneJsonLinePerRequest)
{
    const std::string body_a = random_bytes(1000, 7);
    FakeUpstream up(FakeUpstream::serving([&](const Message& req) {
        if (req.target == "/a")
            return response_bytes(200, "OK", body_a);
        if (req.method == "PUT")
            return response_bytes(200, "OK", "");
        return response_bytes(404, "Not Found", std::string(50, 'n'));
    }));
    TempFile log;
    {
        Gateway gw(up.port(), {}, log.path);
        ASSERT_TRUE(gw.ok()) << gw.error();
        Conn c = gw.connect();
        ASSERT_TRUE(c.send_all(request("GET", "/a") + request("PUT", "/b\"q", "Content-Length: 500\r\n") +
                               std::string(500, 'x') + request("GET", "/missing")));
        for (int i = 0; i < 3; ++i) {
            Message res;
            ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
        }
        Conn bad = gw.connect();
        ASSERT_TRUE(bad.send_all("NOT HTTP\r\n\r\n"));
        Message res;
        ASSERT_TRUE(read_response(bad, res, deadline_in(5s)));
        EXPECT_EQ(res.status, 400);
        c.close();
        bad.close();
        gw.drain();
        ASSERT_TRUE(gw.wait_stopped(5000ms));
    }
    auto lines = log.json_lines();
    ASSERT_EQ(lines.size(), 4u);
    // The three pipelined requests are logged in order; the 400 came from
    // another connection, so find it by status.
    std::vector<std::map<std::string, std::string>> relayed, rejected;
    for (auto& l : lines)
        (l["status"] == "400" ? rejected : relayed).push_back(l);
    ASSERT_EQ(relayed.size(), 3u);
    ASSERT_EQ(rejected.size(), 1u);

    EXPECT_EQ(relayed[0]["method"], "GET");
    EXPECT_EQ(relayed[0]["target"], "/a");
    EXPECT_EQ(relayed[0]["status"], "200");
    EXPECT_EQ(relayed[0]["bytes_sent"], "1000");
    EXPECT_EQ(relayed[0]["bytes_in"], "0");
    EXPECT_EQ(relayed[0]["outcome"], "relayed");

    EXPECT_EQ(relayed[1]["method"], "PUT");
    EXPECT_EQ(relayed[1]["target"], "/b\"q");
    EXPECT_EQ(relayed[1]["status"], "200");
    EXPECT_EQ(relayed[1]["bytes_in"], "500");
    EXPECT_EQ(relayed[1]["bytes_sent"], "0");

    EXPECT_EQ(relayed[2]["target"], "/missing");
    EXPECT_EQ(relayed[2]["status"], "404");
    EXPECT_EQ(relayed[2]["bytes_sent"], "50");

    EXPECT_EQ(rejected[0]["outcome"], "BadRequest");
    for (auto& l : lines) {
        EXPECT_TRUE(l["client"].starts_with("127.0.0.1:")) << l["client"];
        EXPECT_FALSE(l["request_id"].empty());
        EXPECT_FALSE(l["time"].empty());
    }
    EXPECT_NE(lines[0]["request_id"], lines[1]["request_id"]);
}

// bytes_sent counts body bytes the client got, including the XML of
// errors the gateway answers itself.
TEST(Relay, AccessLogCountsGatewayErrorBodies)
{
    TempFile log;
    std::size_t body_size = 0;
    {
        Gateway gw(closed_port(), {}, log.path);
        ASSERT_TRUE(gw.ok()) << gw.error();
        Conn c = gw.connect();
        ASSERT_TRUE(c.send_all(request("GET", "/down")));
        Message res;
        ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
        ASSERT_EQ(res.status, 503);
        body_size = res.body.size();
        c.close();
        gw.drain();
        ASSERT_TRUE(gw.wait_stopped(5000ms));
    }
    auto lines = log.json_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["status"], "503");
    EXPECT_EQ(lines[0]["bytes_sent"], std::to_string(body_size));
}

// Beast's header limit is 32-bit: a larger configured value must clamp,
// not wrap to a limit of 0.
TEST(Relay, HugeMaxHeaderBytesNotTruncated)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.max_header_bytes = std::size_t{1} << 32; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn c = gw.connect();
    ASSERT_TRUE(c.send_all(request("GET", "/a")));
    Message res;
    ASSERT_TRUE(read_response(c, res, deadline_in(5s)));
    EXPECT_EQ(res.status, 200) << res.body;
}

} // namespace
